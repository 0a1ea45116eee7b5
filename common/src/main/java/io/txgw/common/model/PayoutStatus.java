package io.txgw.common.model;

/** Where a payout stands. UNKNOWN needs the chain to decide; it is never resent blindly. */
public enum PayoutStatus {
  /** Written to {@code sendto}, not yet handled by a consumer. */
  ACCEPTED,
  /** The node holds the transaction in its mempool or a block. */
  BROADCAST,
  /** The node refused the payout for a reason that a retry would not change. */
  FAILED,
  /** A send whose outcome could not be established; never resent blindly. */
  UNKNOWN;

  /** True once a consumer has handled the payout, whatever the outcome. */
  public boolean isHandled() {
    return this != ACCEPTED;
  }
}
