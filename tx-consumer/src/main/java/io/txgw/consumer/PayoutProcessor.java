package io.txgw.consumer;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.consumer.chain.ChainSender;
import io.txgw.consumer.finality.Finality;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.NoOffsetForPartitionException;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The exactly-once loop. For each partition's payouts: <b>prepare</b> signed transactions,
 * <b>journal</b> them in a committed Kafka transaction, <b>broadcast</b> the journaled bytes, then
 * <b>record</b> results, the journal's final state and the consumer offsets in one Kafka
 * transaction. Both transactions carry the consumer group generation, so a consumer that lost its
 * partition cannot journal, and never broadcasts what it did not journal.
 *
 * <p>Before new work on a partition, every unit journaled there and not recorded is re-broadcast
 * from its stored bytes and recorded: a crash anywhere leaves at most the same bytes sent twice. A
 * payout already in the journal is never prepared again, which also makes client duplicates
 * harmless.
 */
public final class PayoutProcessor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PayoutProcessor.class);

  /** Half the group's poll interval (120 s): work left over goes on in the next pass. */
  private static final Duration PASS_BUDGET = Duration.ofSeconds(60);

  /** How long one pass may spend looking up units that wait for their depth while payouts wait. */
  static final Duration FOLLOW_PER_PASS = Duration.ofSeconds(1);

  private final Consumer<String, byte[]> consumer;
  private final Map<Chain, ChainSender> senders;
  private final JournalWriter writer;
  private final Function<Map<Integer, JournalCheckpoint>, Map<Integer, JournalIndex>> journal;

  /**
   * How many {@code sendto} records after a payout the same payout posted again is still recognised
   * (see {@link JournalIndex}): about two windows of payout ids per partition, 13 MB, read in
   * seconds at takeover.
   */
  static final int DEFAULT_HORIZON = 50_000;

  private final SendRound round;
  private final Clock clock;
  private final RecordWaits waits = new RecordWaits();
  private final RecordTriage triage;
  private final Map<TopicPartition, JournalIndex> indexes = new HashMap<>();
  private final PartitionRests rests;
  private final PauseDetector pauses;

  /** True while a recent pause of the process may have cost it its partitions. */
  private final java.util.function.BooleanSupplier quarantined;

  private final boolean measuresPauses;
  private final AccountGuard guard;

  /** Accounts whose leases were taken for each partition, to give back when it moves. */
  private final Map<TopicPartition, Set<String>> accounts = new HashMap<>();

  /** Crash tests only: halts the process at a chosen point, as a power cut would. */
  private FaultPoint fault = FaultPoint.NONE;

  /** False only in the benchmark's at-least-once mode, which measures what the journal costs. */
  private final boolean journalBeforeBroadcast;

  private volatile boolean running = true;

  private Instant passDeadline = Instant.MAX;

  /** True after a failure until journal and offsets are read again from Kafka. */
  private boolean stale;

  private final Backlog backlog = new Backlog();

  private final MeterRegistry meters;

  private final JournalGauges gauges;

  /**
   * The most units one partition follows to their depth before it takes no new work: about an hour
   * of Bitcoin blocks at a steady hundred batched transactions a minute, each a few kB.
   */
  static final int MAX_FOLLOWED = 20_000;

  private final int horizon;
  private final Confirmations confirmations;

  /**
   * The most units this consumer keeps unsettled, all partitions together, while partitions take
   * new work: four full rounds, and a fifth of what a sender follows block by block (10,000), so
   * that every unit in flight stays followed quietly. Past it, partitions wait for their units as
   * for any unit not mined yet.
   */
  static final int MAX_IN_FLIGHT = 2_000;

  static final String ROUNDS_IN_FLIGHT = "txgw.rounds.while.in.flight";

  /** Rebalances through which the senders kept their memory (all partitions held throughout). */
  static final String SENDERS_KEPT = "txgw.rebalances.senders.kept";

  /**
   * Partitions whose journaled units were all in flight when last looked at (see {@link
   * SendRound.Broadcast#flows}), and when to look at them again; meanwhile they take new work.
   * Bounded by the partitions assigned.
   */
  private final Map<TopicPartition, Instant> inFlight = new HashMap<>();

  /**
   * Per partition, the highest offset this process committed: every record below it was decided.
   * Bounded by the partitions assigned.
   */
  private final Map<TopicPartition, Long> decided = new HashMap<>();

  /**
   * Partitions whose journal held unsettled units when they were assigned or read again: units this
   * process did not send, settled before any new work. Bounded by the partitions assigned.
   */
  private final Set<TopicPartition> foundPending = new HashSet<>();

  /**
   * @param producers makes this consumer's transactional producer: once at the start, and again
   *     whenever one is left unable to take any call (see {@link JournalWriter#renewIfBroken})
   */
  public PayoutProcessor(
      Consumer<String, byte[]> consumer,
      Supplier<? extends Producer<String, Object>> producers,
      Map<Chain, ChainSender> senders,
      JournalReader journal,
      AccountGuard guard,
      Clock clock,
      boolean journalBeforeBroadcast,
      MeterRegistry meters,
      RecordIntake intake,
      Finality finality) {
    this(
        consumer,
        producers,
        senders,
        intake,
        journal::read,
        DEFAULT_HORIZON,
        guard,
        clock,
        journalBeforeBroadcast,
        meters,
        null,
        finality);
  }

  PayoutProcessor(
      Consumer<String, byte[]> consumer,
      Supplier<? extends Producer<String, Object>> producers,
      Map<Chain, ChainSender> senders,
      RecordIntake intake,
      Function<Map<Integer, JournalCheckpoint>, Map<Integer, JournalIndex>> journal,
      int horizon,
      AccountGuard guard,
      Clock clock,
      boolean journalBeforeBroadcast,
      MeterRegistry meters,
      java.util.function.BooleanSupplier quarantined,
      Finality finality) {
    this.meters = meters;
    this.horizon = horizon;
    this.triage = new RecordTriage(intake, waits, clock, meters);
    this.guard = guard;
    this.journalBeforeBroadcast = journalBeforeBroadcast;
    this.consumer = consumer;
    this.senders = Map.copyOf(senders);
    this.journal = journal;
    this.writer = new JournalWriter(producers, consumer, this.senders, clock, horizon, meters);
    // One for both: a chain's ceiling gauge is registered once.
    FeeBumps bumps = new FeeBumps(finality::bumpAfter, clock, meters);
    this.round = new SendRound(this.senders, guard, clock, finality::follows, bumps);
    this.confirmations =
        new Confirmations(
            finality,
            writer,
            clock,
            meters,
            this.senders,
            bumps,
            round.lifting(this::mayBroadcast, this::accountsOf));
    this.clock = clock;
    this.rests = new PartitionRests(consumer, clock);
    // Well inside the group's session timeout: a pause this long may already have cost the
    // partitions, a longer one certainly has.
    this.pauses =
        new PauseDetector(Duration.ofMillis(100), Duration.ofSeconds(2), Duration.ofSeconds(10));
    // The simulation says itself when the process stood still; everything else measures it.
    this.measuresPauses = quarantined == null;
    this.quarantined = measuresPauses ? pauses::quarantined : quarantined;
    Gauge.builder("txgw.sendto.partitions.waiting", waits, RecordWaits::size)
        .description("partitions held by a record not decided yet (a key announced, not given)")
        .register(meters);
    this.gauges = new JournalGauges(meters);
    Gauge.builder("txgw.consumer.backlog.records", backlog, Backlog::get)
        .description("payouts on this consumer's partitions not yet recorded")
        .register(meters);
  }

  /**
   * Ends the partitions' rests at the next pass, from any thread: an operator's resume may have
   * ended what they waited for.
   */
  public void endRestsSoon() {
    rests.endAllSoon();
  }

  /** Arms a crash point (crash tests only). */
  public void haltAt(FaultPoint point) {
    this.fault = point;
  }

  /** Stops broadcasting after the process stood still, until Kafka confirms the assignment. */
  private final class Fenced extends RuntimeException {
    Fenced() {
      super(
          "process stood still; its partitions may belong to another consumer", null, false, false);
    }
  }

  /** Joins the group and processes until {@link #stop()}; a fatal Kafka error ends it early. */
  public void run() {
    start();
    try {
      while (running && pollOnce()) {
        // Each pass polls once and works through what it read.
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      abortQuietly();
    } catch (RuntimeException e) {
      // A failure nothing here classifies: stop loudly rather than guess about money. The
      // journal lets the next owner of these partitions finish what this one started.
      log.error("consumer loop failed; stopping", e);
      abortQuietly();
    }
  }

  /** Makes the producer transactional and joins the group; {@link #pollOnce} may follow. */
  void start() {
    writer.start();
    consumer.subscribe(List.of(Topics.SENDTO), new Rebalance());
    if (measuresPauses) {
      pauses.start();
    }
  }

  /**
   * One pass of the loop: poll, settle journaled units, process what was read. An aborted
   * transaction is recovered from (state reloaded from Kafka); a fatal Kafka error answers false.
   */
  boolean pollOnce() throws InterruptedException {
    rests.wakeRested();
    // Well inside the group's poll interval, so that a long round never costs the partitions.
    passDeadline = clock.instant().plus(PASS_BUDGET);
    ConsumerRecords<String, byte[]> records;
    long polledAt = System.nanoTime();
    try {
      records = consumer.poll(Duration.ofMillis(200));
    } catch (NoOffsetForPartitionException e) {
      // Never committed: nothing of these partitions was handled, so all of it is to read.
      log.info("no committed offset for {}; reading from the start", e.partitions());
      consumer.seekToBeginning(e.partitions());
      return true;
    } catch (OffsetOutOfRangeException e) {
      log.error(
          "committed offsets {} are no longer in the log: payouts were deleted by retention before"
              + " they were paid; the consumer stops for an operator",
          e.offsetOutOfRangePartitions());
      return false;
    } catch (KafkaException e) {
      // A rebalance callback failed (the journal could not be read yet): what this consumer
      // knows of its partitions is incomplete until it is read again.
      log.warn("poll failed, re-reading journal and offsets: {}", e.toString());
      stale = true;
      return true;
    }
    if (stale) {
      // Whatever this pass read was read from positions the reload moves. A producer left unusable
      // is replaced first, so that what is read is what Kafka holds once its transaction ended.
      JournalWriter.Renewal renewal;
      try {
        renewal = writer.renewIfBroken();
      } catch (KafkaException e) {
        log.error("consumer stops: a new producer was refused: {}", e.toString());
        return false;
      }
      switch (renewal) {
        case READY -> reloadOrPutBack(records);
        case NOT_YET -> putBack(records);
        case GIVEN_UP -> {
          return false;
        }
      }
      return true;
    }
    gauges.count(indexes.values());
    for (TopicPartition p : records.partitions()) {
      meters
          .counter("txgw.records.consumed", "partition", Integer.toString(p.partition()))
          .increment(records.records(p).size());
    }
    backlog.fetched(records);
    backlog.measure(consumer, this::toSettle);
    if (quarantined.getAsBoolean()) {
      putBack(records);
      return true;
    }
    long settleAt = System.nanoTime();
    try {
      Set<TopicPartition> recovered = new HashSet<>();
      Set<TopicPartition> flowing = new HashSet<>();
      for (TopicPartition p : List.copyOf(indexes.keySet())) {
        if (!indexes.get(p).hasPending() || rests.resting(p)) {
          inFlight.remove(p);
          continue;
        }
        Instant again = inFlight.get(p);
        Instant now = clock.instant();
        // A time further off than it was ever set (the clock stepped back) is due now.
        if (again != null
            && now.isBefore(again)
            && !again.isAfter(now.plus(PartitionRests.NOT_MINED))) {
          flowing.add(p);
        } else {
          recover(p);
          recovered.add(p);
        }
      }
      Map<TopicPartition, List<String>> pendingBefore = new HashMap<>();
      for (TopicPartition p : flowing) {
        pendingBefore.put(p, pendingIds(p));
      }
      // While new payouts wait, a second a pass at most: look-ups that wait on a slow node, or on
      // a small budget share (50 of them took 10 s at 5 calls/s), must not hold them up; the rest
      // go on next pass. Otherwise a quarter of the pass, so that look-ups are never starved.
      Duration following = records.isEmpty() ? PASS_BUDGET.dividedBy(4) : FOLLOW_PER_PASS;
      confirmations.followAll(indexes, this::committedOffset, clock.instant().plus(following));
      // A followed unit sent back to PREPARED (its block left the chain, or it left every pool) is
      // not in flight: its partition waits for it as before. So does every partition once this
      // consumer holds as many unsettled units as it follows in flight.
      for (TopicPartition p : List.copyOf(flowing)) {
        if (!indexes.containsKey(p)
            || !pendingIds(p).equals(pendingBefore.get(p))
            || pendingUnits() >= MAX_IN_FLIGHT) {
          flowing.remove(p);
          inFlight.remove(p);
        }
      }
      log.debug(
          "pass: poll {} ms ({} records), recover and follow {} ms ({} recovered)",
          (settleAt - polledAt) / 1_000_000,
          records.count(),
          (System.nanoTime() - settleAt) / 1_000_000,
          recovered.size());
      for (TopicPartition p : records.partitions()) {
        List<ConsumerRecord<String, byte[]>> batch = records.records(p);
        if (!indexes.containsKey(p) || recovered.contains(p)) {
          // Recovery set where reading goes on (an abandoned unit's payouts may lie before these
          // records); these were read before it and are read again from there.
          continue;
        }
        if (rests.resting(p) || (indexes.get(p).hasPending() && !flowing.contains(p))) {
          // Recovery must finish first; read these again later.
          consumer.seek(p, batch.get(0).offset());
        } else if (indexes.get(p).full(MAX_FOLLOWED, horizon)) {
          // Memory is bounded by the units waiting for their depth: new work waits for them.
          log.info(
              "{}: {} units wait for their depth (bound {}), {} payout ids remembered; new work"
                  + " waits for them",
              p,
              indexes.get(p).followedCount(),
              MAX_FOLLOWED,
              indexes.get(p).remembered());
          consumer.seek(p, batch.get(0).offset());
          rests.rest(p, PartitionRests.WAIT);
        } else {
          process(p, batch);
        }
      }
    } catch (ProducerFencedException | JournalWriter.CommitUnknown e) {
      // Fenced most often by the coordinator ending a transaction this process stood still in;
      // either way the producer takes no call again, and a new one ends what it left open.
      log.warn("transaction not ended, re-reading journal and offsets: {}", e.toString());
      writer.markBroken(e);
      stale = true;
    } catch (FencedInstanceIdException | AuthorizationException | UnsupportedVersionException e) {
      log.error("consumer stops: {}", e.toString());
      return false;
    } catch (KafkaException e) {
      log.warn("transaction aborted, re-reading journal and offsets: {}", e.toString());
      abortQuietly();
      stale = true;
    } catch (Fenced e) {
      log.warn("{}; journaled units wait for the partition's owner", e.getMessage());
      abortQuietly();
      stale = true;
    }
    return true;
  }

  /**
   * Each partition's share of what is left of the pass: one partition's long recovery cannot use
   * all of it every pass while the others get none.
   */
  private Instant shareOfPass() {
    Instant now = clock.instant();
    Instant share = now.plus(PASS_BUDGET.dividedBy(Math.max(1, indexes.size())));
    return share.isBefore(passDeadline) ? share : passDeadline;
  }

  /**
   * Units journaled on {@code p} and not settled, unless all are in flight (just sent, their blocks
   * read as they come, no call of their own). Those of a resting partition count too: a rest is
   * short, and a consumer that looked idle during each would get too small a share to end them.
   */
  private long toSettle(TopicPartition p) {
    JournalIndex index = indexes.get(p);
    return index == null || !index.hasPending() || inFlight.containsKey(p)
        ? 0
        : index.pendingCount();
  }

  /** Records on this consumer's partitions not yet paid: what the budget leader weighs by. */
  public long backlog() {
    return backlog.get();
  }

  /**
   * Re-broadcasts the units journaled on {@code p} and not recorded, then records them. An
   * abandoned unit moves the committed offset back to its payouts, which are then read and prepared
   * anew. Reading goes on from the committed offset; when every unit left is in flight (at most
   * {@link #MAX_IN_FLIGHT}) the partition takes new work until they are looked at again, else it
   * rests as the round asks.
   */
  private void recover(TopicPartition p) throws InterruptedException {
    inFlight.remove(p);
    List<JournalEntry> pending = indexes.get(p).pending();
    pending.forEach(u -> accountsOf(p).add(u.accountKey()));
    if (!round.acquireAll(pending)) {
      log.warn("{}: an account lease is held elsewhere; recovery waits", p);
      rests.rest(p, PartitionRests.WAIT);
      return;
    }
    if (foundPending.remove(p)) {
      log.info("{}: settling {} journaled units before new work", p, pending.size());
    } else {
      log.debug("{}: settling {} journaled units", p, pending.size());
    }
    SendRound.Broadcast broadcast = round.broadcast(pending, this::mayBroadcast, shareOfPass());
    checkNotPaused();
    long committed = committedOffset(p);
    long start = consumer.beginningOffsets(List.of(p)).get(p);
    long offset = committed;
    List<JournalEntry> settled = new ArrayList<>();
    for (JournalEntry unit : broadcast.settled()) {
      if (unit.state() == JournalEntry.State.ABANDONED
          && unit.firstOffset() != null
          && unit.rereadFrom() < start) {
        settled.add(expired(p, unit, start));
        continue;
      }
      if (unit.state() == JournalEntry.State.ABANDONED) {
        offset = Math.min(offset, unit.rereadFrom());
      }
      settled.add(unit);
    }
    // A unit from before offsets were kept rereads from the log's start, never below it.
    offset = Math.max(offset, start);
    // Stuck transactions signed again at a higher fee: journaled here, sent in the next round.
    settled.addAll(broadcast.replaced());
    if (!settled.isEmpty() || offset != committed) {
      // Nothing settled and nothing to move: no transaction just to say so.
      record(p, settled, List.of(), offset);
    }
    // Always from the committed offset: records read before this pass settled anything are read
    // again, so that new work starts exactly where the journal and the offsets say.
    consumer.seek(p, offset);
    if (broadcast.flows() && offset == committed && pendingUnits() <= MAX_IN_FLIGHT) {
      lookAgain(p);
    } else {
      rests.after(p, null, broadcast);
    }
  }

  /**
   * The partition's units are all in flight: new work goes on, and they are looked at soon. A time
   * already set stays: new work arriving every pass must not put off looking at the older units.
   */
  private void lookAgain(TopicPartition p) {
    if (indexes.get(p).hasPending()) {
      inFlight.putIfAbsent(p, clock.instant().plus(PartitionRests.NOT_MINED));
    }
  }

  /**
   * Prepares, journals, broadcasts and records one partition's new payouts, a round at a time. The
   * offset committed with each round stays at the lowest payout that has neither a result nor a
   * journaled unit: a payout not prepared (node down, lease elsewhere) or whose unit was abandoned
   * is read again, never skipped.
   */
  private void process(TopicPartition p, List<ConsumerRecord<String, byte[]>> records)
      throws InterruptedException {
    JournalIndex index = indexes.get(p);
    long next = records.get(records.size() - 1).offset() + 1;
    RecordTriage.Triaged triaged =
        triage.sort(
            p,
            records,
            index,
            consumer.partitionsFor(Topics.SENDTO).size(),
            decided.getOrDefault(p, -1L));
    List<ProducerRecord<String, Object>> extra = triaged.deadLetters();
    List<SendRound.Read> fresh = triaged.fresh();
    List<JournalEntry> refusedHere = triaged.refused();
    Long waitAt = triaged.waitAt();
    if (waitAt != null) {
      next = waitAt;
    }
    fresh.forEach(r -> accountsOf(p).add(r.payout().accountKey()));
    OpenPayouts open = new OpenPayouts();
    fresh.forEach(r -> open.open(r.payout().resultKey(), r.offset()));
    List<List<SendRound.Unit>> chunks = round.chunks(round.plan(fresh));
    long committed = records.get(0).offset();
    if (chunks.isEmpty()) {
      record(p, refusedHere, extra, next);
      waitFor(p, waitAt);
      return;
    }
    for (List<SendRound.Unit> chunk : chunks) {
      if (index.hasPending()) {
        meters.counter(ROUNDS_IN_FLIGHT, "partition", Integer.toString(p.partition())).increment();
      }
      // A reorganisation may yet take the blocks of units mined and not deep enough, the last
      // chunk's included: what they cost stays held, even where the sender has forgotten them.
      round.following(index.followed());
      long t0 = System.nanoTime();
      SendRound.Prepared prepared = round.prepare(chunk, shareOfPass(), busy(index));
      long t1 = System.nanoTime();
      if (!prepared.toJournal().isEmpty() && journalBeforeBroadcast) {
        journal(p, prepared.toJournal(), committed);
        fault.reached(FaultPoint.Stage.AFTER_JOURNAL);
      } else {
        // The benchmark's at-least-once mode: remembered in memory only, so that units not mined
        // yet are settled later like journaled ones; a crash loses them.
        prepared.toJournal().forEach(indexes.get(p)::apply);
      }
      open.settle(prepared.toJournal());
      open.settle(prepared.refused());
      long t2 = System.nanoTime();
      SendRound.Broadcast broadcast =
          round.broadcast(prepared.toJournal(), this::mayBroadcast, shareOfPass());
      long t3 = System.nanoTime();
      checkNotPaused();
      if (!prepared.toJournal().isEmpty()) {
        fault.reached(FaultPoint.Stage.AFTER_BROADCAST);
      }
      boolean abandoned = false;
      for (JournalEntry e : broadcast.settled()) {
        if (e.state() == JournalEntry.State.ABANDONED) {
          abandoned = true;
          open.reopen(e);
        }
      }
      List<JournalEntry> finals = new ArrayList<>(prepared.refused());
      finals.addAll(broadcast.settled());
      finals.addAll(broadcast.replaced());
      finals.addAll(refusedHere);
      refusedHere = List.of();
      long commit = open.commitBelow(next);
      record(p, finals, extra, commit);
      long t4 = System.nanoTime();
      log.debug(
          "{}: round of {} units ({} to journal): prepare {} ms, journal {} ms, broadcast {} ms,"
              + " record {} ms",
          p,
          chunk.size(),
          prepared.toJournal().size(),
          (t1 - t0) / 1_000_000,
          (t2 - t1) / 1_000_000,
          (t3 - t2) / 1_000_000,
          (t4 - t3) / 1_000_000);
      extra = List.of();
      committed = commit;
      boolean waiting = !broadcast.unsettled().isEmpty() && !broadcast.flows();
      boolean stopped = prepared.stopped() || waiting || pendingUnits() > MAX_IN_FLIGHT;
      if (stopped || abandoned) {
        // Read the rest again: abandoned units are prepared anew, waiting ones after the pause.
        inFlight.remove(p);
        consumer.seek(p, commit);
        rests.after(p, prepared, broadcast);
        return;
      }
    }
    // Whatever this round sent is in flight: the next records are taken at once.
    lookAgain(p);
    waitFor(p, waitAt);
  }

  private List<String> pendingIds(TopicPartition p) {
    JournalIndex index = indexes.get(p);
    return index == null ? List.of() : index.pending().stream().map(JournalEntry::unitId).toList();
  }

  /** Units journaled and not settled on every partition of this consumer. */
  private int pendingUnits() {
    int units = 0;
    for (JournalIndex index : indexes.values()) {
      units += index.pendingCount();
    }
    return units;
  }

  /** Accounts with units journaled on the partition and not settled. */
  private static Set<String> busy(JournalIndex index) {
    if (!index.hasPending()) {
      return Set.of();
    }
    Set<String> busy = new HashSet<>();
    for (JournalEntry unit : index.pending()) {
      busy.add(unit.accountKey());
    }
    return busy;
  }

  /**
   * An abandoned unit whose payouts retention has removed from {@code sendto} (it waited for its
   * depth longer than the topic keeps records): they cannot be read again to be prepared anew. The
   * unit is recorded with its payouts FAILED ({@code expired}), so it is never broadcast again and
   * the client is told to post them again; the partition goes on. Like any abandoned unit, it was
   * given up only once the chain showed its inputs or nonce taken by another transaction.
   */
  private JournalEntry expired(TopicPartition p, JournalEntry unit, long start) {
    log.error(
        "{}: unit {} was abandoned after its payouts left the log by retention (offset {}, the log"
            + " starts at {}): recorded FAILED, to be posted again",
        p,
        unit.unitId(),
        unit.rereadFrom(),
        start);
    meters.counter("txgw.units.unrecoverable", "chain", unit.chain().name()).increment();
    List<JournalEntry.Item> failed =
        unit.payouts().stream()
            .map(
                i ->
                    i.withOutcome(
                        io.txgw.common.model.PayoutStatus.FAILED,
                        "expired: its transaction left the chain and its payout had left sendto"
                            + " by retention; post it again under a new payout id"))
            .toList();
    return unit.withState(JournalEntry.State.RECORDED, failed, clock.instant());
  }

  /** Reads the partition again from a record it could not decide yet, after a rest. */
  private void waitFor(TopicPartition p, Long waitAt) {
    if (waitAt != null) {
      consumer.seek(p, waitAt);
      rests.rest(p, PartitionRests.WAIT);
    }
  }

  private Set<String> accountsOf(TopicPartition p) {
    return accounts.computeIfAbsent(p, k -> new HashSet<>());
  }

  /** Broadcast only while no recent pause may have moved this consumer's partitions. */
  private boolean mayBroadcast() {
    return !quarantined.getAsBoolean();
  }

  private void checkNotPaused() {
    if (!mayBroadcast()) {
      throw new Fenced();
    }
  }

  private void journal(TopicPartition p, List<JournalEntry> units, long offset) {
    writer.journal(p, indexes.get(p), units, offset);
  }

  private void record(
      TopicPartition p,
      List<JournalEntry> finals,
      List<ProducerRecord<String, Object>> extra,
      long offset) {
    writer.record(p, indexes.get(p), finals, extra, offset);
    decided.merge(p, offset, Math::max);
    backlog.recorded(p, offset);
    backlog.measure(consumer, this::toSettle);
  }

  /** Where reading resumes: the committed offset, or the log's start when nothing is committed. */
  private long committedOffset(TopicPartition p) {
    OffsetAndMetadata committed = consumer.committed(Set.of(p)).get(p);
    // Not the position: records read ahead of it in this pass are not handled yet.
    return committed != null ? committed.offset() : consumer.beginningOffsets(List.of(p)).get(p);
  }

  /**
   * Reads journal and offsets again after a failure, which also moves every position back to its
   * committed offset; while Kafka cannot answer yet, the records read are put back instead. Nothing
   * is processed on what this consumer remembered from before the failure.
   */
  private void reloadOrPutBack(ConsumerRecords<String, byte[]> records) {
    try {
      reload(consumer.assignment());
      stale = false;
    } catch (KafkaException | IllegalStateException e) {
      log.warn("journal and offsets cannot be read yet: {}", e.toString());
      putBack(records);
    }
  }

  /** Reads these records again at the next poll. */
  private void putBack(ConsumerRecords<String, byte[]> records) {
    for (TopicPartition p : records.partitions()) {
      consumer.seek(p, records.records(p).get(0).offset());
    }
  }

  /** The group generation this consumer is in now; -1 when it has none. */
  private int generation() {
    try {
      return consumer.groupMetadata().generationId();
    } catch (RuntimeException e) {
      return -1;
    }
  }

  /**
   * Records each partition holds past its committed offset (from its start if none), asked of the
   * brokers once; empty if they cannot say now (the backlog then counts from the first fetch).
   */
  private Map<TopicPartition, Long> unread(Collection<TopicPartition> partitions) {
    try {
      // Inside the rebalance callback: a few seconds in all, well inside the poll interval.
      Duration each = Duration.ofSeconds(2);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, each);
      Map<TopicPartition, OffsetAndMetadata> committed =
          consumer.committed(Set.copyOf(partitions), each);
      List<TopicPartition> neverCommitted =
          partitions.stream().filter(p -> committed.get(p) == null).toList();
      Map<TopicPartition, Long> starts =
          neverCommitted.isEmpty() ? Map.of() : consumer.beginningOffsets(neverCommitted, each);
      Map<TopicPartition, Long> unread = new HashMap<>();
      for (TopicPartition p : partitions) {
        OffsetAndMetadata at = committed.get(p);
        long from = at != null ? at.offset() : starts.getOrDefault(p, 0L);
        unread.put(p, ends.getOrDefault(p, from) - from);
      }
      return unread;
    } catch (RuntimeException e) {
      // Best effort: only the budget share waits for the first fetch without it.
      log.debug("end offsets not known yet: {}", e.toString());
      return Map.of();
    }
  }

  /** Each partition's journal, read from the checkpoint committed with its offset. */
  private Map<Integer, JournalIndex> loadJournal(Collection<TopicPartition> partitions) {
    Map<Integer, JournalCheckpoint> from = new HashMap<>();
    if (!partitions.isEmpty()) {
      Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(Set.copyOf(partitions));
      for (TopicPartition p : partitions) {
        from.put(p.partition(), JournalCheckpoint.of(committed.get(p)));
      }
    }
    return journal.apply(from);
  }

  /** After an aborted transaction: state is what Kafka says, from the journal and the offsets. */
  private void reload(Collection<TopicPartition> partitions) {
    senders.values().forEach(ChainSender::reset);
    inFlight.clear();
    foundPending.clear();
    indexes.keySet().retainAll(partitions);
    decided.keySet().retainAll(partitions);
    Map<Integer, JournalIndex> loaded = loadJournal(partitions);
    for (TopicPartition p : partitions) {
      indexes.put(p, loaded.get(p.partition()));
      if (indexes.get(p).hasPending()) {
        foundPending.add(p);
      }
      OffsetAndMetadata committed = consumer.committed(Set.of(p)).get(p);
      if (committed != null) {
        consumer.seek(p, committed);
      } else {
        consumer.seekToBeginning(List.of(p));
      }
    }
  }

  private void abortQuietly() {
    writer.abortQuietly();
  }

  /** Asks the loop to finish its current round and return within a poll interval. */
  public void stop() {
    running = false;
  }

  @Override
  public void close() {
    stop();
  }

  /** Closes the Kafka clients; call after {@link #run()} has returned. */
  public void closeClients() {
    pauses.close();
    consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
    writer.close(Duration.ofSeconds(5));
    senders.values().forEach(ChainSender::close);
  }

  /**
   * Every assignment starts from what the journal says. The senders' memory (transactions sent from
   * this process, receipts of the blocks read, what each account has left) is kept only when the
   * partitions assigned were all this consumer's right up to this rebalance: no other consumer
   * owned them meanwhile. Any partition new to it, or a loss (another may own them now), and the
   * senders start over, learning everything from the chain again: one or more node calls for each
   * unit in flight. What an account has left is forgotten in any case when its lease is taken anew
   * ({@link SendRound#acquireAll}).
   */
  private final class Rebalance implements ConsumerRebalanceListener {
    /** Revoked in this rebalance, before its assignment: held up to it. */
    private final Set<TopicPartition> heldUpToNow = new HashSet<>();

    /**
     * The group generation they were revoked in: held throughout only if the assignment is of the
     * very next one (a member that missed one may have had its partitions dealt to others). This
     * holds for the classic group protocol the consumer uses (eager, range): generations count the
     * group's rebalances. Under KIP-848's protocol, epochs count per member and prove nothing.
     */
    private int revokedIn = -1;

    /** Lost since the last assignment: others may have had them meanwhile. */
    private boolean lost;

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      heldUpToNow.addAll(partitions);
      revokedIn = generation();
      for (TopicPartition p : partitions) {
        Set<String> released = accounts.remove(p);
        if (released != null) {
          guard.release(released);
        }
      }
      partitions.forEach(indexes::remove);
      partitions.forEach(inFlight::remove);
      partitions.forEach(decided::remove);
      partitions.forEach(foundPending::remove);
      rests.forget(partitions);
      waits.forget(partitions);
      backlog.forget(partitions);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      boolean keptThroughout =
          !lost
              && revokedIn >= 0
              && generation() == revokedIn + 1
              && heldUpToNow.containsAll(partitions);
      heldUpToNow.clear();
      revokedIn = -1;
      lost = false;
      if (partitions.isEmpty()) {
        return;
      }
      if (keptThroughout) {
        meters.counter(SENDERS_KEPT).increment();
        senders.values().forEach(ChainSender::rebalanced);
      } else {
        senders.values().forEach(ChainSender::reset);
      }
      Map<Integer, JournalIndex> loaded = loadJournal(partitions);
      for (TopicPartition p : partitions) {
        indexes.put(p, loaded.get(p.partition()));
        if (indexes.get(p).hasPending()) {
          foundPending.add(p);
        }
      }
      backlog.assigned(unread(partitions));
      log.info("assigned {}", partitions);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      // Noted first: releasing their leases may fail, and nothing of them may be kept anyway.
      lost = true;
      onPartitionsRevoked(partitions);
    }
  }
}
