package io.txgw.consumer.chain;

import java.math.BigInteger;

/** What asking for a stuck transaction's replacement, or a child, at a higher fee gave. */
public sealed interface Replacement {
  /** Signed at {@code feePerGas}, same nonce and payment; not sent: journal it first. */
  record Signed(String txid, String rawTransaction, BigInteger feePerGas) implements Replacement {}

  /**
   * Bitcoin: a child spending the unit's change (or the output of its {@code kept}th child, the
   * last still in effect) back to the wallet, paying {@code fee} satoshis; not sent: journal it
   * first, after the unit's first {@code kept} children.
   */
  record Child(int kept, String txid, String rawTransaction, BigInteger fee)
      implements Replacement {}

  /**
   * The transaction's fee is already at the chain's ceiling: it waits, nothing is overpaid.
   *
   * @param feePerGas wei per gas (Ethereum), or satoshis per vbyte of the transaction and its
   *     children (Bitcoin)
   */
  record AtCeiling(BigInteger feePerGas) implements Replacement {}

  /** Not now (the node could not say the fee, or would not sign); asked again later. */
  record NotNow(String reason) implements Replacement {}
}
