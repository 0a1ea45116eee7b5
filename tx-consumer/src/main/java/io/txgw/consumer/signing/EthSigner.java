package io.txgw.consumer.signing;

/**
 * Signs Ethereum transactions for the accounts whose keys it holds or reaches: a local keystore, a
 * remote signer, or the node itself. What it returns is checked against what was asked before
 * anything is journaled ({@link SignedTransactions#checked}).
 */
public interface EthSigner {
  /** For logs and refusals: which signer this is (never a secret). */
  String name();

  /** Whether this signer signs for {@code account} (0x hex, any case). */
  boolean holds(String account);

  /** The signed transaction, 0x-prefixed hex, exactly {@code tx} signed by {@code tx.from()}. */
  String sign(EthTransaction tx) throws SigningException, InterruptedException;
}
