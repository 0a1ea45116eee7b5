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
 *   <li>{@link Next#PENDING}: like WAIT, and the chain shows its nonce not used by any transaction
 *       yet: it may be replaced by one with a higher fee.
 *   <li>{@link Next#IN_FLIGHT}: like WAIT, for a transaction this sender signed and sent in this
 *       process, taken by the node without a word and not yet looked at again, whose account it
 *       still knows (the next nonce it signs is above this one). Its partition may take new work
 *       while it waits: what the sender signs next cannot take this transaction's nonce.
 * </ul>
 *
 * <p>{@code block} names the block the chain holds the transaction in, where the answer showed one
 * (an Ethereum receipt); null otherwise.
 */
public record SendOutcome(
    PayoutStatus status, String txid, String error, Next next, BlockRef block) {
  public enum Next {
    RECORD,
    REPLAN,
    WAIT,
    PENDING,
    IN_FLIGHT
  }

  public static SendOutcome broadcast(String txid) {
    return new SendOutcome(PayoutStatus.BROADCAST, txid, null, Next.RECORD, null);
  }

  /** Paid in {@code block}. */
  public static SendOutcome mined(String txid, BlockRef block) {
    return new SendOutcome(PayoutStatus.BROADCAST, txid, null, Next.RECORD, block);
  }

  public static SendOutcome failed(String reason) {
    return new SendOutcome(PayoutStatus.FAILED, null, reason, Next.RECORD, null);
  }

  /** Mined and reverted in {@code block}: nothing paid, final once that block is deep enough. */
  public static SendOutcome reverted(String txid, String reason, BlockRef block) {
    return new SendOutcome(PayoutStatus.FAILED, txid, reason, Next.RECORD, block);
  }

  public static SendOutcome unknown(String txid, String reason) {
    return new SendOutcome(PayoutStatus.UNKNOWN, txid, reason, Next.RECORD, null);
  }

  public static SendOutcome conflicted(String txid, String reason) {
    return new SendOutcome(PayoutStatus.FAILED, txid, reason, Next.REPLAN, null);
  }

  public static SendOutcome waiting(String txid, String reason) {
    return new SendOutcome(null, txid, reason, Next.WAIT, null);
  }

  /** Just sent by this process, its account known here: see {@link Next#IN_FLIGHT}. */
  public static SendOutcome inFlight(String txid, String reason) {
    return new SendOutcome(null, txid, reason, Next.IN_FLIGHT, null);
  }

  /** Sent, not mined, and its nonce not used in the chain: a fee bump may replace it. */
  public static SendOutcome pending(String txid, String reason) {
    return new SendOutcome(null, txid, reason, Next.PENDING, null);
  }

  public boolean pending() {
    return next == Next.PENDING;
  }

  public boolean replan() {
    return next == Next.REPLAN;
  }

  public boolean waits() {
    return next == Next.WAIT || next == Next.PENDING || next == Next.IN_FLIGHT;
  }

  public boolean inFlight() {
    return next == Next.IN_FLIGHT;
  }
}
