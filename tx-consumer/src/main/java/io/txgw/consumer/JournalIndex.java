package io.txgw.consumer;

import io.txgw.common.model.JournalEntry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the journal of one partition says: which units are journaled but not yet recorded (to settle
 * before any new work), and which payouts are taken (prepared or recorded, so never prepared
 * again).
 *
 * <p>Bounded by design. Payouts are remembered in two generations of settled units; once the newer
 * one holds {@code horizon} payouts and nothing is pending, it becomes the older one and the older
 * one is forgotten (its units are tombstoned in the journal, and the next owner starts reading the
 * journal where the newer one begins; see {@link JournalCheckpoint}). Memory and takeover reads are
 * therefore at most two horizons of payouts, whatever the history (four while units wait, below).
 * This is safe because a payout is only read again from {@code sendto} from a unit not yet settled
 * (abandoned, its payouts are read from its first offset), and no roll happens while one is
 * pending; and a payout id a client posts again long after is refused by the gateway's own
 * payout-id index; the horizon covers the gap between the two.
 *
 * <p>A partition takes new work while its units are in flight (just sent, see {@link
 * io.txgw.consumer.chain.SendOutcome#inFlight}), so under steady load something may always be
 * pending and the journal would never roll: past four horizons remembered it takes no new work
 * until nothing is pending, and the next transaction rolls (see {@link #full}).
 */
final class JournalIndex {
  private final Map<String, JournalEntry> pending = new LinkedHashMap<>();

  /**
   * Units the chain holds and that wait for their confirmation depth, in journal order. Bounded by
   * the caller: a partition takes no new work while {@link #followedCount()} is at its bound.
   */
  private final Map<String, JournalEntry> followed = new LinkedHashMap<>();

  private int followedPayouts;

  private Generation current = new Generation();
  private Generation previous = new Generation();
  private JournalCheckpoint checkpoint;

  /** Payouts and units of one stretch of the journal. */
  private static final class Generation {
    final Map<String, JournalEntry.State> payouts = new HashMap<>();
    final Set<String> units = new HashSet<>();

    /** The highest {@code sendto} offset a payout of this generation was read at. */
    long lastOffset = -1;
  }

  JournalIndex() {
    this(JournalCheckpoint.START);
  }

  JournalIndex(JournalCheckpoint checkpoint) {
    this.checkpoint = checkpoint;
  }

  /** Applies an entry this process wrote: it belongs to the newest generation. */
  void apply(JournalEntry entry) {
    applyTo(current, entry);
  }

  /** Applies an entry read from the journal at {@code offset}. */
  void apply(JournalEntry entry, long offset) {
    applyTo(offset < checkpoint.currentStart() ? previous : current, entry);
  }

  private void applyTo(Generation generation, JournalEntry entry) {
    for (JournalEntry.Item item : entry.payouts()) {
      generation.payouts.put(item.resultKey(), entry.state());
    }
    generation.units.add(entry.unitId());
    generation.lastOffset = Math.max(generation.lastOffset, entry.lastReadAt());
    JournalEntry wasFollowed;
    if (entry.state() == JournalEntry.State.PREPARED) {
      wasFollowed = followed.remove(entry.unitId());
      pending.put(entry.unitId(), entry);
    } else if (entry.state() == JournalEntry.State.CONFIRMING) {
      pending.remove(entry.unitId());
      wasFollowed = followed.put(entry.unitId(), entry);
      followedPayouts += entry.payouts().size();
    } else {
      pending.remove(entry.unitId());
      wasFollowed = followed.remove(entry.unitId());
    }
    if (wasFollowed != null) {
      followedPayouts -= wasFollowed.payouts().size();
    }
  }

  /**
   * True when the payout is in a unit that was prepared or recorded: it must not be prepared again.
   */
  boolean isTaken(String resultKey) {
    JournalEntry.State state = stateOf(resultKey);
    return state != null && state != JournalEntry.State.ABANDONED;
  }

  /** True when the payout's latest unit was abandoned: it is to be prepared anew. */
  boolean wasAbandoned(String resultKey) {
    return stateOf(resultKey) == JournalEntry.State.ABANDONED;
  }

  /** The state of the payout's latest unit, the newer generation first; null if none is known. */
  private JournalEntry.State stateOf(String resultKey) {
    JournalEntry.State state = current.payouts.get(resultKey);
    return state != null ? state : previous.payouts.get(resultKey);
  }

  /** Units journaled and not recorded, in journal order. */
  List<JournalEntry> pending() {
    return new ArrayList<>(pending.values());
  }

  int pendingCount() {
    return pending.size();
  }

  boolean hasPending() {
    return !pending.isEmpty();
  }

  /** Units waiting for their confirmation depth, in journal order. */
  List<JournalEntry> followed() {
    return new ArrayList<>(followed.values());
  }

  int followedCount() {
    return followed.size();
  }

  /** The payouts of the followed units, kept as units come and go: read at every pass. */
  int followedPayouts() {
    return followedPayouts;
  }

  boolean hasFollowed() {
    return !followed.isEmpty();
  }

  /** Adds the chains of the followed units to {@code chains}. */
  void followedChains(java.util.Set<io.txgw.common.model.Chain> chains) {
    for (JournalEntry unit : followed.values()) {
      if (chains.add(unit.chain()) && chains.size() == io.txgw.common.model.Chain.values().length) {
        return;
      }
    }
  }

  /**
   * True when the partition must take no new work until units are mined or confirm: {@code
   * maxFollowed} units wait for their depth, or the payouts remembered reach four horizons while a
   * pending unit, or a followed one, holds back the roll of the oldest generation (without this
   * bound they would grow while it waits). Either way what frees it, a block, comes from the chain,
   * not from new work.
   */
  boolean full(int maxFollowed, int horizon) {
    return followed.size() >= maxFollowed
        || (remembered() >= 4L * horizon
            && (!pending.isEmpty() || (!followed.isEmpty() && !followedSurviveRoll(horizon))));
  }

  /** Where the next owner starts reading, as of the last roll. */
  JournalCheckpoint checkpoint() {
    return checkpoint;
  }

  /** Payouts remembered, both generations: what this index costs in memory. */
  int remembered() {
    return current.payouts.size() + previous.payouts.size();
  }

  /**
   * True when nothing is pending, the newest generation holds at least {@code generation} payouts,
   * and {@code committed} is more than {@code window} records past every unit of the oldest: it can
   * be forgotten.
   */
  boolean shouldRoll(int generation, long window, long committed) {
    return pending.isEmpty()
        && current.payouts.size() >= generation
        && previous.lastOffset + window < committed
        && followedSurviveRoll(window);
  }

  /**
   * True when forgetting the oldest generation loses nothing a followed unit needs. A followed unit
   * may yet go back to PREPARED (a reorg) and be abandoned, which reads {@code sendto} again from
   * its first payout: that offset is held to the same rule as the committed one (more than {@code
   * window} records past every payout of the oldest generation, so that a copy of one of them
   * posted again within the window is still recognised), and the unit's own latest journal record
   * must lie where the next owner reads.
   */
  private boolean followedSurviveRoll(long window) {
    if (previous.units.isEmpty()) {
      // Nothing would be forgotten.
      return true;
    }
    for (JournalEntry unit : followed.values()) {
      boolean onlyInOldest =
          previous.units.contains(unit.unitId()) && !current.units.contains(unit.unitId());
      if (onlyInOldest || unit.rereadFrom() <= previous.lastOffset + window) {
        return false;
      }
    }
    return true;
  }

  /**
   * Starts a new generation at journal offset {@code end} (everything journaled so far lies below
   * it) and forgets the oldest; answers the unit ids forgotten, to tombstone.
   */
  List<String> roll(long end) {
    List<String> forgotten = new ArrayList<>(previous.units);
    // A unit id in both (written in the older, settled in the newer) must survive the tombstone.
    forgotten.removeAll(current.units);
    previous = current;
    current = new Generation();
    checkpoint = new JournalCheckpoint(checkpoint.currentStart(), end);
    return forgotten;
  }
}
