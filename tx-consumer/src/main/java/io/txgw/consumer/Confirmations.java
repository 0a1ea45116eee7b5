package io.txgw.consumer;

import io.micrometer.core.instrument.MeterRegistry;
import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.common.model.PayoutStatus;
import io.txgw.consumer.chain.ChainSender;
import io.txgw.consumer.chain.NodeUnavailableException;
import io.txgw.consumer.chain.Replacement;
import io.txgw.consumer.finality.ChainFollower;
import io.txgw.consumer.finality.Finality;
import io.txgw.consumer.finality.Verdict;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.ToLongFunction;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the chains' verdicts to one partition's followed units, in one Kafka transaction with the
 * partition's unchanged offset (so a consumer that lost the partition cannot write them):
 *
 * <ul>
 *   <li>confirmed: RECORDED, its payouts CONFIRMED (or FAILED, for a revert now deep enough);
 *   <li>first seen in a block: the block journaled, so that a reorg is noticed even after a
 *       restart;
 *   <li>its block left the main chain: REORGED said to the client, and the unit goes back to
 *       PREPARED with the same bytes, which the partition's recovery broadcasts again before any
 *       new work and settles from the chain like any journaled unit;
 *   <li>in no block and not in the node's pool: back to PREPARED likewise, nothing said;
 *   <li>in no block for the chain's bump interval (Bitcoin): a child spending its change at a
 *       higher fee journaled with it, then sent ({@link ChainSender#bumpByChild}).
 * </ul>
 */
final class Confirmations {
  private static final Logger log = LoggerFactory.getLogger(Confirmations.class);

  /** Units judged again at least this often, for look-ups that fall due without a new block. */
  private static final Duration REJUDGE = Duration.ofSeconds(1);

  private final Finality finality;
  private final JournalWriter writer;
  private final Clock clock;
  private final MeterRegistry meters;
  private final Map<Chain, ChainSender> senders;
  private final FeeBumps bumps;
  private final Lifting lifting;

  /**
   * Whether this consumer may sign and send a child for a unit: as for any broadcast, only while it
   * holds the account's lease, so that no other consumer prepares a payout of the account
   * meanwhile.
   */
  interface Lifting {
    /** Takes (or keeps) the unit's account lease for partition {@code p}; false if refused. */
    boolean take(TopicPartition p, JournalEntry unit) throws InterruptedException;

    /** Whether the lease is still held and nothing since may have moved the partition. */
    boolean holds(JournalEntry unit);

    Lifting ALWAYS =
        new Lifting() {
          @Override
          public boolean take(TopicPartition p, JournalEntry unit) {
            return true;
          }

          @Override
          public boolean holds(JournalEntry unit) {
            return true;
          }
        };
  }

  private Instant judgedAt = Instant.MIN;
  private boolean changedSinceJudged;

  Confirmations(Finality finality, JournalWriter writer, Clock clock, MeterRegistry meters) {
    this(finality, writer, clock, meters, Map.of(), FeeBumps.never(), Lifting.ALWAYS);
  }

  /**
   * @param senders the chains' senders, for children lifting stuck transactions
   * @param bumps when a unit not in a block is due for a child
   * @param lifting whether a child may be signed and sent now
   */
  Confirmations(
      Finality finality,
      JournalWriter writer,
      Clock clock,
      MeterRegistry meters,
      Map<Chain, ChainSender> senders,
      FeeBumps bumps,
      Lifting lifting) {
    this.finality = finality;
    this.writer = writer;
    this.clock = clock;
    this.meters = meters;
    this.senders = Map.copyOf(senders);
    this.bumps = bumps;
    this.lifting = lifting;
  }

  /**
   * Applies the chains' verdicts to every partition's followed units, when a head moved or a
   * look-up may be due. A unit sent back to PREPARED is broadcast again by the partition's recovery
   * in the next pass.
   */
  void followAll(
      Map<TopicPartition, JournalIndex> indexes,
      ToLongFunction<TopicPartition> committedOffset,
      Instant deadline)
      throws InterruptedException {
    // Only chains with units to judge are read: a consumer that starts, or has nothing of a chain
    // in blocks, would otherwise first read a window of blocks back (about 70 calls, 5 s and more
    // at a small budget share) while it holds partitions and pays nothing. A chain's window is
    // read from the head of the moment its first unit is followed, as at any start.
    java.util.Set<Chain> chains = java.util.EnumSet.noneOf(Chain.class);
    for (JournalIndex index : indexes.values()) {
      index.followedChains(chains);
    }
    if (chains.isEmpty()) {
      // Reads nothing; every chain's window goes stale.
      finality.refresh(chains);
      return;
    }
    if (!due(chains)) {
      return;
    }
    // Each pass starts at another partition, so that one with many look-ups cannot keep the rest
    // from ever being judged; past the deadline only the window decides.
    List<TopicPartition> partitions = new java.util.ArrayList<>(indexes.keySet());
    partitions.sort(
        java.util.Comparator.comparing(TopicPartition::topic)
            .thenComparingInt(TopicPartition::partition));
    int n = partitions.size();
    int first = n == 0 ? 0 : (int) (rotation++ % n);
    for (int i = 0; i < n; i++) {
      TopicPartition p = partitions.get((first + i) % n);
      JournalIndex index = indexes.get(p);
      if (index.hasFollowed()) {
        follow(p, index, () -> committedOffset.applyAsLong(p), deadline);
      }
    }
    judged();
  }

  private long rotation;

  /** Reads the chains' heads when due; true when followed units are to be judged now. */
  boolean due(java.util.Set<Chain> chains) throws InterruptedException {
    if (finality.isEmpty()) {
      return false;
    }
    changedSinceJudged |= finality.refresh(chains);
    Instant now = clock.instant();
    if (!changedSinceJudged && now.isBefore(judgedAt.plus(REJUDGE))) {
      return false;
    }
    return true;
  }

  /** Called once every partition was judged in a pass. */
  void judged() {
    judgedAt = clock.instant();
    changedSinceJudged = false;
  }

  /** Judges {@code p}'s followed units and writes what changed; true if anything did. */
  boolean follow(
      TopicPartition p, JournalIndex index, LongSupplier committedOffset, Instant deadline)
      throws InterruptedException {
    List<JournalWriter.Change> changes = new ArrayList<>();
    List<JournalEntry> lifted = new ArrayList<>();
    Instant now = clock.instant();
    for (JournalEntry unit : index.followed()) {
      ChainFollower follower = finality.follower(unit.chain());
      if (follower == null) {
        // This consumer has no node of the chain now; the unit waits for one that has.
        continue;
      }
      boolean inTime = !clock.instant().isAfter(deadline);
      Verdict verdict = follower.judge(unit, inTime);
      JournalWriter.Change change = change(unit, verdict, now);
      if (change != null) {
        if (!(verdict instanceof Verdict.Mined)) {
          follower.forget(unit);
        }
        bumps.settled(unit);
        changes.add(change);
      } else if (inTime && unit.blockHash() == null && bumps.due(unit) && lifting.take(p, unit)) {
        JournalEntry withChild = child(unit);
        if (withChild != null) {
          changes.add(JournalWriter.Change.silent(withChild));
          lifted.add(withChild);
        }
      }
    }
    if (changes.isEmpty()) {
      return false;
    }
    writer.follow(p, index, changes, committedOffset.getAsLong());
    // Journaled first: a child sent and then forgotten would leave nothing to send it again.
    for (JournalEntry unit : lifted) {
      if (lifting.holds(unit)) {
        senders.get(unit.chain()).sendChild(unit);
      } else {
        log.warn("unit {}: its new child waits: the account's lease is in doubt", unit.unitId());
      }
    }
    return true;
  }

  /**
   * The unit with a new child lifting its transaction to a higher fee, or null when it stays as it
   * is (at the ceiling, or not now).
   */
  private JournalEntry child(JournalEntry unit) throws InterruptedException {
    ChainSender sender = senders.get(unit.chain());
    if (sender == null) {
      return null;
    }
    Replacement r;
    try {
      r = sender.bumpByChild(unit);
    } catch (NodeUnavailableException e) {
      log.warn("unit {} is not lifted now: {}", unit.unitId(), e.getMessage());
      return null;
    }
    if (r instanceof Replacement.Child child) {
      log.warn(
          "unit {}: {} in no block since {}; child {} pays {} sats more",
          unit.unitId(),
          unit.txid(),
          unit.updatedAt(),
          child.txid(),
          child.fee());
      bumps.bumped(unit);
      return unit.withChild(
          child.kept(),
          new JournalEntry.Attempt(child.txid(), child.rawTransaction(), child.fee()),
          clock.instant());
    }
    if (r instanceof Replacement.AtCeiling ceiling) {
      bumps.atCeiling(unit);
      log.warn(
          "unit {}: {} in no block and, at {} sat/vB with its children, at the ceiling: it waits",
          unit.unitId(),
          unit.txid(),
          ceiling.feePerGas());
      return null;
    }
    log.info("unit {} is not lifted now: {}", unit.unitId(), r);
    return null;
  }

  private JournalWriter.Change change(JournalEntry unit, Verdict verdict, Instant now) {
    String chain = unit.chain().name();
    if (verdict instanceof Verdict.Mined m) {
      log.debug("unit {} seen in block {}", unit.unitId(), m.block());
      return JournalWriter.Change.silent(unit.inBlock(m.block().hash(), m.block().height(), now));
    }
    if (verdict instanceof Verdict.Confirmed) {
      List<JournalEntry.Item> items =
          unit.payouts().stream()
              .map(
                  i ->
                      i.status() == PayoutStatus.BROADCAST
                          ? i.withOutcome(PayoutStatus.CONFIRMED, null)
                          : i)
              .toList();
      meters.counter("txgw.units.confirmed", "chain", chain).increment();
      return JournalWriter.Change.asRecorded(
          unit.withState(JournalEntry.State.RECORDED, items, now));
    }
    if (verdict instanceof Verdict.Reorged r) {
      log.warn(
          "unit {}: its block {} left the main chain; the same bytes are broadcast again",
          unit.unitId(),
          r.block());
      meters.counter("txgw.units.reorged", "chain", chain).increment();
      return new JournalWriter.Change(
          unit.withState(JournalEntry.State.PREPARED, unit.payouts(), now), PayoutStatus.REORGED);
    }
    if (verdict instanceof Verdict.Dropped) {
      log.warn(
          "unit {}: in no block and not in the node's pool; the same bytes are broadcast again",
          unit.unitId());
      meters.counter("txgw.units.dropped", "chain", chain).increment();
      return JournalWriter.Change.silent(
          unit.withState(JournalEntry.State.PREPARED, unit.payouts(), now));
    }
    return null;
  }
}
