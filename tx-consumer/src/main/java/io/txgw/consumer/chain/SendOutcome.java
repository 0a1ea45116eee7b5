package io.txgw.consumer.chain;

import io.txgw.common.model.PayoutStatus;

/**
 * What one broadcast did: BROADCAST with a txid the node holds, FAILED with the node's reason, or
 * UNKNOWN (with a txid where one is known) when the chain could not settle it. {@code replan} marks
 * a transaction that can never be mined because its inputs were spent in the chain by another one:
 * nothing of it was paid, and its payouts are to be prepared anew.
 */
public record SendOutcome(PayoutStatus status, String txid, String error, boolean replan) {
  public static SendOutcome broadcast(String txid) {
    return new SendOutcome(PayoutStatus.BROADCAST, txid, null, false);
  }

  public static SendOutcome failed(String reason) {
    return new SendOutcome(PayoutStatus.FAILED, null, reason, false);
  }

  public static SendOutcome unknown(String txid, String reason) {
    return new SendOutcome(PayoutStatus.UNKNOWN, txid, reason, false);
  }

  public static SendOutcome conflicted(String txid, String reason) {
    return new SendOutcome(PayoutStatus.FAILED, txid, reason, true);
  }
}
