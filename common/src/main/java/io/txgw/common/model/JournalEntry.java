package io.txgw.common.model;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One send unit in the journal: a signed transaction paying one or more payouts, written in a
 * committed Kafka transaction before it is broadcast, so that whoever owns the sending account next
 * re-broadcasts these exact bytes instead of building a new transaction.
 *
 * <p>A unit without a transaction ({@code txid == null}) records payouts the node refused before
 * anything was signed. The journal is compacted by {@link #unitId()}: the latest state wins.
 *
 * @param nonce the Ethereum nonce, null for Bitcoin
 * @param rawTransaction the signed transaction, hex; null once recorded, since it is never needed
 *     again and compaction keeps the last value
 * @param firstOffset the lowest {@code sendto} offset of the unit's payouts: where reading starts
 *     again when the unit is abandoned, so that its payouts are prepared anew and never skipped;
 *     null in units written before it was kept (reading then starts again from the beginning)
 * @param lastOffset the highest {@code sendto} offset of the unit's payouts: how long the unit is
 *     remembered to recognise the same payout posted again; null where not kept (then the first)
 *     * @param blockHash the block that held the transaction when last seen, while the unit is
 *     followed to its confirmation depth; null when not seen in a block yet (or not followed)
 * @param blockHeight that block's height; null with {@code blockHash}
 */
public record JournalEntry(
    String unitId,
    Chain chain,
    String source,
    String txid,
    String rawTransaction,
    Long nonce,
    State state,
    List<Item> payouts,
    Instant preparedAt,
    Instant updatedAt,
    Long firstOffset,
    Long lastOffset,
    String blockHash,
    Long blockHeight) {

  /** Where a unit stands. */
  public enum State {
    /** Signed and journaled; may have been broadcast. Recovery re-broadcasts it. */
    PREPARED,
    /**
     * The chain holds it (its payouts' results say BROADCAST, or FAILED pending depth for a
     * reverted one) and it is followed until its block is deep enough. Its bytes are kept: should
     * its block leave the main chain, or the node drop it, the unit goes back to PREPARED and the
     * same bytes are broadcast again.
     */
    CONFIRMING,
    /** Its final results are recorded; nothing more happens to it. */
    RECORDED,
    /** Journaled but never broadcast and never will be; its payouts are prepared anew. */
    ABANDONED
  }

  /**
   * A payout inside a unit and, once recorded, its outcome.
   *
   * @param outputIndex the transaction output paying it (Bitcoin), null for Ethereum
   */
  public record Item(
      String payoutId,
      String batchId,
      String clientId,
      Address to,
      Amount amount,
      Instant acceptedAt,
      Integer outputIndex,
      PayoutStatus status,
      String error) {

    public String resultKey() {
      return clientId + "/" + payoutId;
    }

    public Item withOutcome(PayoutStatus newStatus, String newError) {
      return new Item(
          payoutId, batchId, clientId, to, amount, acceptedAt, outputIndex, newStatus, newError);
    }
  }

  public JournalEntry {
    Objects.requireNonNull(unitId, "unitId");
    Objects.requireNonNull(chain, "chain");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(state, "state");
    payouts = List.copyOf(payouts);
  }

  /** A unit not seen in a block. */
  public JournalEntry(
      String unitId,
      Chain chain,
      String source,
      String txid,
      String rawTransaction,
      Long nonce,
      State state,
      List<Item> payouts,
      Instant preparedAt,
      Instant updatedAt,
      Long firstOffset,
      Long lastOffset) {
    this(
        unitId,
        chain,
        source,
        txid,
        rawTransaction,
        nonce,
        state,
        payouts,
        preparedAt,
        updatedAt,
        firstOffset,
        lastOffset,
        null,
        null);
  }

  /** A unit without a known {@code sendto} offset (tests, and units from before it was kept). */
  public JournalEntry(
      String unitId,
      Chain chain,
      String source,
      String txid,
      String rawTransaction,
      Long nonce,
      State state,
      List<Item> payouts,
      Instant preparedAt,
      Instant updatedAt) {
    this(
        unitId,
        chain,
        source,
        txid,
        rawTransaction,
        nonce,
        state,
        payouts,
        preparedAt,
        updatedAt,
        null,
        null);
  }

  /** A unit whose payouts were read at one offset. */
  public JournalEntry(
      String unitId,
      Chain chain,
      String source,
      String txid,
      String rawTransaction,
      Long nonce,
      State state,
      List<Item> payouts,
      Instant preparedAt,
      Instant updatedAt,
      Long firstOffset) {
    this(
        unitId,
        chain,
        source,
        txid,
        rawTransaction,
        nonce,
        state,
        payouts,
        preparedAt,
        updatedAt,
        firstOffset,
        firstOffset);
  }

  /** The highest {@code sendto} offset of the unit's payouts, as far as it is known. */
  public long lastReadAt() {
    return lastOffset != null ? lastOffset : rereadFrom();
  }

  /** Where to read {@code sendto} again from for this unit's payouts. */
  public long rereadFrom() {
    return firstOffset == null ? 0 : firstOffset;
  }

  public String accountKey() {
    return Payout.accountKey(chain, source);
  }

  /**
   * This unit in another state. Its bytes stay while it may be broadcast again (PREPARED,
   * CONFIRMING); the block it was seen in stays only while it is followed.
   */
  public JournalEntry withState(State newState, List<Item> newPayouts, Instant at) {
    boolean live = newState == State.PREPARED || newState == State.CONFIRMING;
    boolean followed = newState == State.CONFIRMING;
    return new JournalEntry(
        unitId,
        chain,
        source,
        txid,
        live ? rawTransaction : null,
        nonce,
        newState,
        newPayouts,
        preparedAt,
        at,
        firstOffset,
        lastOffset,
        followed ? blockHash : null,
        followed ? blockHeight : null);
  }

  /** This unit as seen in block {@code hash} at {@code height}; both null: not in a block. */
  public JournalEntry inBlock(String hash, Long height, Instant at) {
    return new JournalEntry(
        unitId,
        chain,
        source,
        txid,
        rawTransaction,
        nonce,
        state,
        payouts,
        preparedAt,
        at,
        firstOffset,
        lastOffset,
        hash,
        hash == null ? null : height);
  }

  /** The result record of one of this unit's payouts in its current state. */
  public PayoutResult resultOf(Item item, String node, Instant at) {
    return resultOf(item, item.status(), node, at);
  }

  /**
   * The result record of one of this unit's payouts with {@code status}; a FAILED one names no
   * transaction, since none paid it.
   */
  public PayoutResult resultOf(Item item, PayoutStatus status, String node, Instant at) {
    return new PayoutResult(
        item.payoutId(),
        item.batchId(),
        item.clientId(),
        chain,
        status,
        status == PayoutStatus.FAILED ? null : txid,
        node,
        item.error(),
        item.acceptedAt(),
        at);
  }
}
