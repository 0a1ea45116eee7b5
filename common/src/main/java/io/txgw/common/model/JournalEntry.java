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
 * @param feePerGas what the current transaction pays: Ethereum, the gas price it was signed with,
 *     in wei; Bitcoin, its whole fee, in satoshis. Null where not known (units from before it was
 *     kept)
 * @param replaced the transactions this unit's current one replaced at a higher fee, oldest first:
 *     the same nonce and payment, so at most one of them all is ever mined, and any one mined
 *     settles the unit. Kept with their bytes while the unit may be broadcast again.
 * @param children Bitcoin: transactions that spend this unit's change back to its own wallet at a
 *     higher fee, so that miners take the unit's transaction with them (child pays for parent),
 *     oldest first, each spending the output of the one before (the first, the unit's change). They
 *     pay no payout: lost, they cost only the fee they would have added. Kept with their bytes
 *     while the unit is followed: the next lift sends again one that no node holds.
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
    Long blockHeight,
    java.math.BigInteger feePerGas,
    List<Attempt> replaced,
    List<Attempt> children) {

  /** Replacements a unit may have: past it, it waits as one at its fee ceiling. */
  public static final int MAX_REPLACED = 32;

  /**
   * Children a unit may have: past it, it waits as one at its fee ceiling. Well under the 25
   * unconfirmed ancestors nodes take, which the unit's own ancestors share.
   */
  public static final int MAX_CHILDREN = 8;

  /**
   * Another transaction of a unit: one its current one replaced at a higher fee, with the gas price
   * it was signed with (Ethereum); or a child spending its change, with the child's whole fee in
   * satoshis (Bitcoin).
   */
  public record Attempt(String txid, String rawTransaction, java.math.BigInteger feePerGas) {
    public Attempt {
      Objects.requireNonNull(txid, "txid");
    }
  }

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
    replaced = replaced == null ? List.of() : List.copyOf(replaced);
    children = children == null ? List.of() : List.copyOf(children);
  }

  /** A unit without children. */
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
      Long lastOffset,
      String blockHash,
      Long blockHeight,
      java.math.BigInteger feePerGas,
      List<Attempt> replaced) {
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
        blockHash,
        blockHeight,
        feePerGas,
        replaced,
        List.of());
  }

  /** A unit whose transaction was never replaced. */
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
      Long lastOffset,
      String blockHash,
      Long blockHeight) {
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
        blockHash,
        blockHeight,
        null,
        List.of());
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
        followed ? blockHeight : null,
        live ? feePerGas : null,
        live ? replaced : List.of(),
        live ? children : List.of());
  }

  /** Every transaction of this unit: the current one, then those it replaced, newest first. */
  public List<String> txids() {
    if (txid == null) {
      return List.of();
    }
    List<String> all = new java.util.ArrayList<>(1 + replaced.size());
    all.add(txid);
    for (int i = replaced.size() - 1; i >= 0; i--) {
      all.add(replaced.get(i).txid());
    }
    return all;
  }

  /**
   * This unit with its transaction replaced by {@code newTxid} at a higher fee, PREPARED: to be
   * journaled before the new bytes are sent. Its id, nonce and payouts stay.
   */
  public JournalEntry replacedBy(
      String newTxid, String newRaw, java.math.BigInteger newFee, Instant at) {
    List<Attempt> earlier = new java.util.ArrayList<>(replaced);
    earlier.add(new Attempt(txid, rawTransaction, feePerGas));
    return new JournalEntry(
        unitId,
        chain,
        source,
        newTxid,
        newRaw,
        nonce,
        State.PREPARED,
        payouts,
        preparedAt,
        at,
        firstOffset,
        lastOffset,
        null,
        null,
        newFee,
        earlier,
        children);
  }

  /**
   * This unit with {@code child} (Bitcoin: spending its change, or the last effective child's
   * output, at a higher fee) after its first {@code kept} children, the ones still in effect: to be
   * journaled before the child is sent. Its state, transaction and block stay.
   */
  public JournalEntry withChild(int kept, Attempt child, Instant at) {
    List<Attempt> all = new java.util.ArrayList<>(children.subList(0, kept));
    all.add(child);
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
        blockHash,
        blockHeight,
        feePerGas,
        replaced,
        all);
  }

  /**
   * This unit with {@code minedTxid}, one of its transactions, as its current one (the one the
   * chain holds); the others are kept as replaced.
   */
  public JournalEntry withCurrent(String minedTxid) {
    if (minedTxid == null || minedTxid.equalsIgnoreCase(txid)) {
      return this;
    }
    List<Attempt> others = new java.util.ArrayList<>();
    Attempt mined = null;
    for (Attempt a : replaced) {
      if (a.txid().equalsIgnoreCase(minedTxid)) {
        mined = a;
      } else {
        others.add(a);
      }
    }
    if (mined == null) {
      // Not one of its own: nothing to take from; the caller's outcome names the transaction.
      return this;
    }
    others.add(new Attempt(txid, rawTransaction, feePerGas));
    return new JournalEntry(
        unitId,
        chain,
        source,
        mined.txid(),
        mined.rawTransaction(),
        nonce,
        state,
        payouts,
        preparedAt,
        updatedAt,
        firstOffset,
        lastOffset,
        blockHash,
        blockHeight,
        mined.feePerGas(),
        others,
        children);
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
        hash == null ? null : height,
        feePerGas,
        replaced,
        children);
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
