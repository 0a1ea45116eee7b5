package io.txgw.consumer.chain;

import io.txgw.common.model.PayoutStatus;

/**
 * What one broadcast did, and what the loop does next with its unit.
 *
 * <ul>
 *   <li>{@link Next#RECORD}: BROADCAST with a txid the node holds, FAILED with the node's reason,
 *       or UNKNOWN (with a txid where one is known) when the chain could not settle it.
 *   <li>{@link Next#REPLAN}: the transaction can never be mined because its inputs or its nonce
 *       were spent in the chain by another one; nothing of it was paid, and its payouts are to be
 *       prepared anew.
 *   <li>{@link Next#WAIT}: the node holds the bytes but cannot mine them yet (queued behind a nonce
 *       no transaction fills, or another transaction with the same nonce is pending). The unit
 *       stays journaled and is broadcast again later; it is not reported, because BROADCAST would
 *       claim a payment the chain may never make.
 * </ul>
 */
public record SendOutcome(PayoutStatus status, String txid, String error, Next next) {
  public enum Next {
    RECORD,
    REPLAN,
    WAIT
  }

  public static SendOutcome broadcast(String txid) {
    return new SendOutcome(PayoutStatus.BROADCAST, txid, null, Next.RECORD);
  }

  public static SendOutcome failed(String reason) {
    return new SendOutcome(PayoutStatus.FAILED, null, reason, Next.RECORD);
  }

  public static SendOutcome unknown(String txid, String reason) {
    return new SendOutcome(PayoutStatus.UNKNOWN, txid, reason, Next.RECORD);
  }

  public static SendOutcome conflicted(String txid, String reason) {
    return new SendOutcome(PayoutStatus.FAILED, txid, reason, Next.REPLAN);
  }

  public static SendOutcome waiting(String txid, String reason) {
    return new SendOutcome(null, txid, reason, Next.WAIT);
  }

  public boolean replan() {
    return next == Next.REPLAN;
  }

  public boolean waits() {
    return next == Next.WAIT;
  }
}
