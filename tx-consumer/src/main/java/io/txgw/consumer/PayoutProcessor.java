package io.txgw.consumer;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.common.model.Payout;
import io.txgw.consumer.chain.ChainSender;
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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.SerializationException;
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
  private static final Duration NODE_DOWN_PAUSE = Duration.ofSeconds(2);

  private final Consumer<String, byte[]> consumer;
  private final Producer<String, Object> producer;
  private final Map<Chain, ChainSender> senders;
  private final Function<Collection<Integer>, Map<Integer, JournalIndex>> journal;
  private final SendRound round;
  private final Clock clock;
  private final JsonSerde<Payout> payoutSerde = new JsonSerde<>(Payout.class);
  private final Map<TopicPartition, JournalIndex> indexes = new HashMap<>();
  private final Map<TopicPartition, Instant> pausedUntil = new HashMap<>();
  private final PauseDetector pauses;
  private final AccountGuard guard;

  /** Accounts whose leases were taken for each partition, to give back when it moves. */
  private final Map<TopicPartition, Set<String>> accounts = new HashMap<>();

  /** Crash tests only: halts the process at a chosen point, as a power cut would. */
  private FaultPoint fault = FaultPoint.NONE;

  /** False only in the benchmark's at-least-once mode, which measures what the journal costs. */
  private final boolean journalBeforeBroadcast;

  private volatile boolean running = true;

  private final Backlog backlog = new Backlog();

  private final MeterRegistry meters;

  /** Units journaled and not yet recorded, over this consumer's partitions; read by scrapes. */
  private final AtomicInteger pendingUnits = new AtomicInteger();

  public PayoutProcessor(
      Consumer<String, byte[]> consumer,
      Producer<String, Object> producer,
      Map<Chain, ChainSender> senders,
      JournalReader journal,
      AccountGuard guard,
      Clock clock,
      boolean journalBeforeBroadcast,
      MeterRegistry meters) {
    this(consumer, producer, senders, journal::read, guard, clock, journalBeforeBroadcast, meters);
  }

  PayoutProcessor(
      Consumer<String, byte[]> consumer,
      Producer<String, Object> producer,
      Map<Chain, ChainSender> senders,
      Function<Collection<Integer>, Map<Integer, JournalIndex>> journal,
      AccountGuard guard,
      Clock clock,
      boolean journalBeforeBroadcast,
      MeterRegistry meters) {
    this.meters = meters;
    this.guard = guard;
    this.journalBeforeBroadcast = journalBeforeBroadcast;
    this.consumer = consumer;
    this.producer = producer;
    this.senders = Map.copyOf(senders);
    this.journal = journal;
    this.round = new SendRound(this.senders, guard, clock);
    this.clock = clock;
    // Well inside the group's session timeout: a pause this long may already have cost the
    // partitions, a longer one certainly has.
    this.pauses =
        new PauseDetector(Duration.ofMillis(100), Duration.ofSeconds(2), Duration.ofSeconds(10));
    Gauge.builder("txgw.journal.pending.units", pendingUnits, AtomicInteger::get)
        .description("transactions journaled and not yet recorded, to broadcast before new work")
        .register(meters);
    Gauge.builder("txgw.consumer.backlog.records", backlog, Backlog::get)
        .description("payouts on this consumer's partitions not yet recorded")
        .register(meters);
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
    producer.initTransactions();
    consumer.subscribe(List.of(Topics.SENDTO), new Rebalance());
    pauses.start();
    try {
      while (running) {
        resumeRested();
        ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(200));
        countPending();
        for (TopicPartition p : records.partitions()) {
          meters
              .counter("txgw.records.consumed", "partition", Integer.toString(p.partition()))
              .increment(records.records(p).size());
        }
        backlog.fetched(records);
        backlog.measure(consumer);
        if (pauses.quarantined()) {
          for (TopicPartition p : records.partitions()) {
            consumer.seek(p, records.records(p).get(0).offset());
          }
          continue;
        }
        try {
          for (TopicPartition p : List.copyOf(indexes.keySet())) {
            if (indexes.get(p).hasPending() && !pausedUntil.containsKey(p)) {
              recover(p);
            }
          }
          for (TopicPartition p : records.partitions()) {
            List<ConsumerRecord<String, byte[]>> batch = records.records(p);
            if (pausedUntil.containsKey(p) || indexes.get(p).hasPending()) {
              // Recovery must finish first; read these again later.
              consumer.seek(p, batch.get(0).offset());
            } else {
              process(p, batch);
            }
          }
        } catch (ProducerFencedException
            | FencedInstanceIdException
            | AuthorizationException
            | UnsupportedVersionException e) {
          log.error("consumer stops: {}", e.toString());
          return;
        } catch (KafkaException e) {
          log.warn("transaction aborted, re-reading journal and offsets: {}", e.toString());
          abortQuietly();
          reload(consumer.assignment());
        } catch (Fenced e) {
          log.warn("{}; journaled units wait for the partition's owner", e.getMessage());
          abortQuietly();
          reload(consumer.assignment());
        }
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

  /** Records on this consumer's partitions not yet paid: what the budget leader weighs by. */
  public long backlog() {
    return backlog.get();
  }

  /** Re-broadcasts the units journaled on {@code p} and not recorded, then records them. */
  private void recover(TopicPartition p) throws InterruptedException {
    List<JournalEntry> pending = indexes.get(p).pending();
    pending.forEach(u -> accountsOf(p).add(u.accountKey()));
    if (!round.acquireAll(pending)) {
      log.warn("{}: an account lease is held elsewhere; recovery waits", p);
      pause(p);
      return;
    }
    log.info("{}: re-broadcasting {} journaled units before new work", p, pending.size());
    SendRound.Broadcast broadcast = round.broadcast(pending, this::mayBroadcast);
    checkNotPaused();
    record(p, broadcast.settled(), List.of(), committedOffset(p));
    if (!broadcast.unsettled().isEmpty()) {
      pause(p);
    }
  }

  private void process(TopicPartition p, List<ConsumerRecord<String, byte[]>> records)
      throws InterruptedException {
    JournalIndex index = indexes.get(p);
    long start = records.get(0).offset();
    long next = records.get(records.size() - 1).offset() + 1;
    List<ProducerRecord<String, Object>> deadLetters = new ArrayList<>();
    List<SendRound.Read> fresh = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (ConsumerRecord<String, byte[]> record : records) {
      Payout payout;
      try {
        payout = payoutSerde.deserialize(record.topic(), record.value());
      } catch (SerializationException e) {
        deadLetters.add(DeadLetters.of(record, e));
        continue;
      }
      if (index.isTaken(payout.resultKey()) || !seen.add(payout.resultKey())) {
        log.debug("payout {} is already in the journal; not prepared again", payout.resultKey());
        continue;
      }
      fresh.add(new SendRound.Read(payout, record.offset()));
      accountsOf(p).add(payout.accountKey());
    }
    List<List<SendRound.Unit>> chunks = round.chunks(round.plan(fresh));
    long committed = start;
    List<ProducerRecord<String, Object>> extra = new ArrayList<>(deadLetters);
    if (chunks.isEmpty()) {
      record(p, List.of(), extra, next);
      return;
    }
    for (int c = 0; c < chunks.size(); c++) {
      long later = next;
      for (List<SendRound.Unit> rest : chunks.subList(c + 1, chunks.size())) {
        for (SendRound.Unit u : rest) {
          later = Math.min(later, u.firstOffset());
        }
      }
      SendRound.Prepared prepared = round.prepare(chunks.get(c));
      if (!prepared.toJournal().isEmpty() && journalBeforeBroadcast) {
        journal(p, prepared.toJournal(), committed);
        fault.reached(FaultPoint.Stage.AFTER_JOURNAL);
      }
      SendRound.Broadcast broadcast = round.broadcast(prepared.toJournal(), this::mayBroadcast);
      checkNotPaused();
      if (!prepared.toJournal().isEmpty()) {
        fault.reached(FaultPoint.Stage.AFTER_BROADCAST);
      }
      long commit = later;
      if (prepared.stoppedAt() != null) {
        commit = Math.min(commit, prepared.stoppedAt());
      }
      for (JournalEntry e : broadcast.settled()) {
        if (e.state() == JournalEntry.State.ABANDONED) {
          commit = Math.min(commit, firstOffset(e, fresh));
        }
      }
      List<JournalEntry> finals = new ArrayList<>(prepared.refused());
      finals.addAll(broadcast.settled());
      record(p, finals, extra, commit);
      extra = List.of();
      committed = commit;
      boolean stopped = prepared.stoppedAt() != null || !broadcast.unsettled().isEmpty();
      if (commit < later || stopped) {
        // Read the rest again: abandoned units are prepared anew, waiting ones after the pause.
        consumer.seek(p, commit);
        if (stopped) {
          pause(p);
        }
        return;
      }
    }
  }

  /** Counted once their transaction commits: an aborted one is recorded again later. */
  private void countRecorded(List<JournalEntry> finals) {
    for (JournalEntry unit : finals) {
      if (unit.state() == JournalEntry.State.RECORDED) {
        // A unit's payouts share its outcome.
        String status = unit.payouts().get(0).status().name();
        meters
            .counter("txgw.payouts", "chain", unit.chain().name(), "status", status)
            .increment(unit.payouts().size());
      }
    }
  }

  private void countPending() {
    int pending = 0;
    for (JournalIndex index : indexes.values()) {
      pending += index.pendingCount();
    }
    pendingUnits.set(pending);
  }

  private Set<String> accountsOf(TopicPartition p) {
    return accounts.computeIfAbsent(p, k -> new HashSet<>());
  }

  /** Broadcast only while no recent pause may have moved this consumer's partitions. */
  private boolean mayBroadcast() {
    return !pauses.quarantined();
  }

  private void checkNotPaused() {
    if (!mayBroadcast()) {
      throw new Fenced();
    }
  }

  private static long firstOffset(JournalEntry unit, List<SendRound.Read> reads) {
    Set<String> keys = new HashSet<>();
    unit.payouts().forEach(i -> keys.add(i.resultKey()));
    return reads.stream()
        .filter(r -> keys.contains(r.payout().resultKey()))
        .mapToLong(SendRound.Read::offset)
        .min()
        .orElse(Long.MAX_VALUE);
  }

  /** Journals prepared units; fails, and nothing is broadcast, if this consumer is fenced. */
  private void journal(TopicPartition p, List<JournalEntry> units, long offset) {
    producer.beginTransaction();
    for (JournalEntry unit : units) {
      producer.send(new ProducerRecord<>(Topics.JOURNAL, p.partition(), unit.unitId(), unit));
    }
    // Re-committing the current offset ties the transaction to this consumer's generation.
    producer.sendOffsetsToTransaction(
        Map.of(p, new OffsetAndMetadata(offset)), consumer.groupMetadata());
    producer.commitTransaction();
    units.forEach(indexes.get(p)::apply);
  }

  /** Results, final journal states and the offset, in one transaction. */
  private void record(
      TopicPartition p,
      List<JournalEntry> finals,
      List<ProducerRecord<String, Object>> extra,
      long offset) {
    producer.beginTransaction();
    Instant now = clock.instant();
    for (JournalEntry unit : finals) {
      if (unit.state() == JournalEntry.State.RECORDED) {
        String node =
            senders.containsKey(unit.chain()) ? senders.get(unit.chain()).nodeName() : null;
        for (JournalEntry.Item item : unit.payouts()) {
          var result = unit.resultOf(item, node, now);
          producer.send(new ProducerRecord<>(Topics.RESULTS, result.resultKey(), result));
        }
      }
      producer.send(new ProducerRecord<>(Topics.JOURNAL, p.partition(), unit.unitId(), unit));
    }
    extra.forEach(producer::send);
    producer.sendOffsetsToTransaction(
        Map.of(p, new OffsetAndMetadata(offset)), consumer.groupMetadata());
    producer.commitTransaction();
    countRecorded(finals);
    finals.forEach(indexes.get(p)::apply);
    backlog.recorded(p, offset);
    backlog.measure(consumer);
  }

  private long committedOffset(TopicPartition p) {
    OffsetAndMetadata committed = consumer.committed(Set.of(p)).get(p);
    return committed != null ? committed.offset() : consumer.position(p);
  }

  /** After an aborted transaction: state is what Kafka says, from the journal and the offsets. */
  private void reload(Collection<TopicPartition> partitions) {
    senders.values().forEach(ChainSender::reset);
    indexes.keySet().retainAll(partitions);
    Map<Integer, JournalIndex> loaded =
        journal.apply(partitions.stream().map(TopicPartition::partition).toList());
    for (TopicPartition p : partitions) {
      indexes.put(p, loaded.get(p.partition()));
      OffsetAndMetadata committed = consumer.committed(Set.of(p)).get(p);
      if (committed != null) {
        consumer.seek(p, committed);
      } else {
        consumer.seekToBeginning(List.of(p));
      }
    }
  }

  private void abortQuietly() {
    try {
      producer.abortTransaction();
    } catch (KafkaException | IllegalStateException e) {
      log.debug("nothing to abort: {}", e.toString());
    }
  }

  private void pause(TopicPartition p) {
    consumer.pause(List.of(p));
    pausedUntil.put(p, clock.instant().plus(NODE_DOWN_PAUSE));
  }

  private void resumeRested() {
    Instant now = clock.instant();
    pausedUntil
        .entrySet()
        .removeIf(
            e -> {
              if (now.isBefore(e.getValue())) {
                return false;
              }
              if (consumer.assignment().contains(e.getKey())) {
                consumer.resume(List.of(e.getKey()));
              }
              return true;
            });
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
    consumer.close(Duration.ofSeconds(5));
    producer.close(Duration.ofSeconds(5));
    senders.values().forEach(ChainSender::close);
  }

  /** Every assignment starts from what the journal says: its own state is not trusted. */
  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      for (TopicPartition p : partitions) {
        Set<String> released = accounts.remove(p);
        if (released != null) {
          guard.release(released);
        }
      }
      partitions.forEach(indexes::remove);
      partitions.forEach(pausedUntil::remove);
      backlog.forget(partitions);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      if (partitions.isEmpty()) {
        return;
      }
      senders.values().forEach(ChainSender::reset);
      Map<Integer, JournalIndex> loaded =
          journal.apply(partitions.stream().map(TopicPartition::partition).toList());
      for (TopicPartition p : partitions) {
        indexes.put(p, loaded.get(p.partition()));
      }
      log.info("assigned {}", partitions);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      onPartitionsRevoked(partitions);
    }
  }
}
