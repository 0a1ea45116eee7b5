package io.txgw.common.model;

/**
 * Where a payout stands. UNKNOWN needs the chain to decide; it is never resent blindly.
 *
 * <p>Declared in the order a payout moves through them, so that of two results stamped at the same
 * instant the later step wins (see the status view).
 */
public enum PayoutStatus {
  /** Written to {@code sendto}, not yet handled by a consumer. */
  ACCEPTED,
  /**
   * An event, not a resting place: the block holding the payout's transaction left the main chain.
   * The same bytes are broadcast again and the payout goes back to BROADCAST.
   */
  REORGED,
  /**
   * An event, not a resting place: the payout's transaction, not mined, was replaced by one with a
   * higher fee (same nonce, same payment); the result's txid is the new one. Any one of them mined
   * pays the payout, once.
   */
  REPLACED,
  /**
   * The chain holds the transaction (Bitcoin: the node's mempool or a block; Ethereum: a block).
   */
  BROADCAST,
  /** The block holding the transaction is the chain's configured number of blocks deep. */
  CONFIRMED,
  /**
   * Refused for a reason a retry would not change, or mined and reverted (nothing paid) in a block
   * that reached the configured depth.
   */
  FAILED,
  /** A send whose outcome could not be established; never resent blindly. */
  UNKNOWN;

  /** True once a consumer has handled the payout, whatever the outcome. */
  public boolean isHandled() {
    return this != ACCEPTED;
  }

  /** True when nothing more happens to the payout: confirmed, failed, or left to an operator. */
  public boolean isFinal() {
    return this == CONFIRMED || this == FAILED || this == UNKNOWN;
  }
}
