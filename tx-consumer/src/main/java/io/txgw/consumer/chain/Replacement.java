package io.txgw.consumer.chain;

import java.math.BigInteger;

/** What asking for a stuck transaction's replacement at a higher fee gave. */
public sealed interface Replacement {
  /** Signed at {@code feePerGas}, same nonce and payment; not sent: journal it first. */
  record Signed(String txid, String rawTransaction, BigInteger feePerGas) implements Replacement {}

  /** The transaction's fee is already at the chain's ceiling: it waits, nothing is overpaid. */
  record AtCeiling(BigInteger feePerGas) implements Replacement {}

  /** Not now (the node could not say the fee, or would not sign); asked again later. */
  record NotNow(String reason) implements Replacement {}
}
