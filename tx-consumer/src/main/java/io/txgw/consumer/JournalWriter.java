package io.txgw.consumer;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.txgw.common.kafka.Topics;
import io.txgw.common.kafka.TransactionalProducers;
import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.model.PayoutStatus;
import io.txgw.consumer.chain.ChainSender;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The two Kafka transactions of a round, each carrying the consumer offset with its group metadata
 * and the journal checkpoint: <b>journal</b> (signed units before they are broadcast) and
 * <b>record</b> (results, the units' final state, dead letters). Both also roll the partition's
 * journal generations when due, tombstoning the oldest in the same transaction. The in-memory index
 * is changed only once a transaction has committed.
 */
final class JournalWriter {
  private static final Logger log = LoggerFactory.getLogger(JournalWriter.class);
  private static final int COMMIT_ATTEMPTS = 3;

  /**
   * Producers replaced within {@link #RENEWAL_WINDOW} before the consumer gives up: a pause past
   * the transaction timeout now and then costs one each; one after another means something no new
   * producer mends (another process with this consumer's id, or a broker refusing it each time).
   */
  static final int MAX_RENEWALS = 3;

  static final Duration RENEWAL_WINDOW = Duration.ofMinutes(10);

  /**
   * How long a consumer whose producer is unusable keeps its partitions waiting for a new one to be
   * ready (two or three tries of {@code initTransactions}, each blocking up to {@code
   * max.block.ms}) before it gives them up to the others.
   */
  static final Duration RENEWAL_PATIENCE = Duration.ofMinutes(2);

  /** What {@link #renewIfBroken} did. */
  enum Renewal {
    /** The producer is usable: it was, or a new one replaced it. */
    READY,
    /** A new producer could not be made ready yet (its coordinator is unreachable). */
    NOT_YET,
    /**
     * Replaced too often lately (see {@link #MAX_RENEWALS}), or no new one ready within {@link
     * #RENEWAL_PATIENCE}: the consumer stops (the reason is logged here).
     */
    GIVEN_UP
  }

  private final Supplier<? extends Producer<String, Object>> producers;
  private Producer<String, Object> producer;

  /**
   * When the producer was found unable to take a transactional call again (see {@link
   * #abortQuietly}); null while it is usable. It is replaced before the next transaction.
   */
  private Instant brokenSince;

  /** When producers were replaced, the oldest first; at most {@link #MAX_RENEWALS}. */
  private final ArrayDeque<Instant> renewals = new ArrayDeque<>();

  private final Consumer<String, byte[]> consumer;
  private final Map<Chain, ChainSender> senders;
  private final Clock clock;
  private final int horizon;
  private final MeterRegistry meters;

  /** A commit whose outcome stayed unknown: the producer can take no other call. */
  static final class CommitUnknown extends RuntimeException {
    CommitUnknown(Throwable cause) {
      super("transaction commit outcome unknown after retries", cause);
    }
  }

  /**
   * @param producers makes a transactional producer, always with this consumer's transactional id:
   *     the first at {@link #start}, another each time one is left unusable
   */
  JournalWriter(
      Supplier<? extends Producer<String, Object>> producers,
      Consumer<String, byte[]> consumer,
      Map<Chain, ChainSender> senders,
      Clock clock,
      int horizon,
      MeterRegistry meters) {
    this.producers = producers;
    this.consumer = consumer;
    this.senders = senders;
    this.clock = clock;
    this.horizon = horizon;
    this.meters = meters;
  }

  /** Journals prepared units; fails, and nothing is broadcast, if this consumer is fenced. */
  void journal(TopicPartition p, JournalIndex index, List<JournalEntry> units, long offset) {
    List<String> forgotten = rollIfDue(p, index, offset);
    producer.beginTransaction();
    tombstone(p, forgotten);
    for (JournalEntry unit : units) {
      producer.send(new ProducerRecord<>(Topics.JOURNAL, p.partition(), unit.unitId(), unit));
    }
    commitWithOffset(p, index, offset);
    units.forEach(index::apply);
  }

  /**
   * Results, the units' new journal states, dead letters and the offset, in one transaction. A unit
   * RECORDED announces each payout's outcome; one CONFIRMING (the chain holds it, followed to its
   * depth) announces BROADCAST for the payouts it pays and nothing yet for a reverted one.
   */
  void record(
      TopicPartition p,
      JournalIndex index,
      List<JournalEntry> finals,
      List<ProducerRecord<String, Object>> extra,
      long offset) {
    List<Change> changes = new ArrayList<>();
    for (JournalEntry unit : finals) {
      changes.add(
          switch (unit.state()) {
            case RECORDED -> Change.asRecorded(unit);
            case CONFIRMING -> new Change(unit, PayoutStatus.BROADCAST);
            // Back to PREPARED with other bytes: its transaction replaced at a higher fee.
            case PREPARED ->
                unit.replaced().isEmpty()
                    ? Change.silent(unit)
                    : Change.toEvery(unit, PayoutStatus.REPLACED);
            default -> Change.silent(unit);
          });
    }
    write(p, index, changes, extra, offset);
  }

  /**
   * A unit's new journal state, and what its payouts' results say: with {@code itemStatus} each
   * payout's own status; with {@code everyItem} {@code announce} for every payout, whatever it was
   * told before; otherwise {@code announce} for each payout the unit pays (item status BROADCAST),
   * nothing for one it does not (reverted in a block not yet deep enough: FAILED is said once the
   * block is), and nothing at all when {@code announce} is null.
   */
  record Change(JournalEntry unit, PayoutStatus announce, boolean itemStatus, boolean everyItem) {
    Change(JournalEntry unit, PayoutStatus announce) {
      this(unit, announce, false, false);
    }

    static Change silent(JournalEntry unit) {
      return new Change(unit, null, false, false);
    }

    static Change asRecorded(JournalEntry unit) {
      return new Change(unit, null, true, false);
    }

    /** {@code announce} to each payout of the unit, whatever it was told before. */
    static Change toEvery(JournalEntry unit, PayoutStatus announce) {
      return new Change(unit, announce, false, true);
    }

    PayoutStatus statusOf(JournalEntry.Item item) {
      if (itemStatus) {
        return item.status();
      }
      if (everyItem) {
        return announce;
      }
      return announce != null && item.status() == PayoutStatus.BROADCAST ? announce : null;
    }
  }

  /** Writes followed units' changes (confirmed, seen in a block, reorganised away, dropped). */
  void follow(TopicPartition p, JournalIndex index, List<Change> changes, long offset) {
    write(p, index, changes, List.of(), offset);
  }

  private void write(
      TopicPartition p,
      JournalIndex index,
      List<Change> changes,
      List<ProducerRecord<String, Object>> extra,
      long offset) {
    List<String> forgotten = rollIfDue(p, index, offset);
    producer.beginTransaction();
    tombstone(p, forgotten);
    Instant now = clock.instant();
    List<PayoutResult> results = new ArrayList<>();
    for (Change change : changes) {
      JournalEntry unit = change.unit();
      String node = senders.containsKey(unit.chain()) ? senders.get(unit.chain()).nodeName() : null;
      for (JournalEntry.Item item : unit.payouts()) {
        PayoutStatus status = change.statusOf(item);
        if (status != null) {
          PayoutResult result = unit.resultOf(item, status, node, now);
          results.add(result);
          producer.send(new ProducerRecord<>(Topics.RESULTS, result.resultKey(), result));
        }
      }
      producer.send(new ProducerRecord<>(Topics.JOURNAL, p.partition(), unit.unitId(), unit));
    }
    extra.forEach(producer::send);
    commitWithOffset(p, index, offset);
    count(results);
    changes.forEach(c -> index.apply(c.unit()));
  }

  /** Makes the first producer transactional: it fences any earlier one with the same id. */
  void start() {
    producer = TransactionalProducers.initialized(producers);
  }

  /**
   * Aborts the open transaction, if any, and notes a producer that can take no call again. Kafka
   * 4's client leaves a producer fatally failed when its coordinator timed its transaction out (a
   * process that stood still past {@code transaction.timeout.ms}): {@code InvalidTxnStateException}
   * or {@code ProducerFencedException} under transaction protocol 2, after which every call, an
   * abort too, fails the same way. Tried again, it would fail forever while its consumer keeps its
   * partitions; it is replaced at the next {@link #renewIfBroken} instead.
   */
  void abortQuietly() {
    if (producer == null) {
      return;
    }
    try {
      producer.abortTransaction();
    } catch (IllegalStateException e) {
      log.debug("nothing to abort: {}", e.toString());
    } catch (KafkaException e) {
      // A retriable error (an abort that timed out) would do with asking again; a new producer
      // ends that transaction as surely, and one path is simpler to trust.
      markBroken(e);
    }
  }

  /**
   * Notes that the producer can take no call again: it was fenced, or a commit's outcome stayed
   * unknown (it then accepts nothing but the same commit).
   */
  void markBroken(RuntimeException why) {
    if (brokenSince == null) {
      log.warn("the producer can take no call again; a new one replaces it: {}", why.toString());
      brokenSince = clock.instant();
    }
  }

  /**
   * Replaces a producer left unusable by a new one with the same transactional id, as a restarted
   * process would: its {@code initTransactions} ends whatever the old one left open, completing a
   * commit already decided and aborting the rest, so the journal and offsets read next are what
   * Kafka holds. Call before reading them again; nothing may be written unless it answers {@link
   * Renewal#READY}.
   *
   * @throws KafkaException when a new producer is refused for good (authorization, say)
   */
  Renewal renewIfBroken() {
    if (brokenSince == null) {
      return Renewal.READY;
    }
    Instant now = clock.instant();
    while (!renewals.isEmpty() && renewals.peekFirst().isBefore(now.minus(RENEWAL_WINDOW))) {
      renewals.removeFirst();
    }
    if (renewals.size() >= MAX_RENEWALS) {
      log.error(
          "consumer stops: its producer is unusable again after {} new ones within {} (another"
              + " consumer with its id?)",
          MAX_RENEWALS,
          RENEWAL_WINDOW);
      return Renewal.GIVEN_UP;
    }
    if (producer != null) {
      closeQuietly(producer);
      producer = null;
    }
    try {
      producer = TransactionalProducers.initialized(producers);
    } catch (RetriableException e) {
      if (clock.instant().isAfter(brokenSince.plus(RENEWAL_PATIENCE))) {
        log.error(
            "consumer stops: no new producer ready within {}: {}", RENEWAL_PATIENCE, e.toString());
        return Renewal.GIVEN_UP;
      }
      log.warn("a new producer is not ready yet, tried again next pass: {}", e.toString());
      return Renewal.NOT_YET;
    }
    brokenSince = null;
    renewals.addLast(now);
    meters.counter("txgw.consumer.producer.renewals").increment();
    log.warn("a new producer replaced the unusable one; journal and offsets are read again");
    return Renewal.READY;
  }

  /** Closes the producer; unsent records of an open transaction are dropped with it. */
  void close(Duration timeout) {
    if (producer != null) {
      producer.close(timeout);
    }
  }

  private static void closeQuietly(Producer<String, Object> producer) {
    try {
      producer.close(Duration.ZERO);
    } catch (KafkaException e) {
      log.debug("closing an unusable producer: {}", e.toString());
    }
  }

  private void tombstone(TopicPartition p, List<String> unitIds) {
    for (String unitId : unitIds) {
      producer.send(new ProducerRecord<>(Topics.JOURNAL, p.partition(), unitId, null));
    }
  }

  private void commitWithOffset(TopicPartition p, JournalIndex index, long offset) {
    // The records reach the broker before the offsets are checked against this consumer's
    // generation. A consumer frozen after that check holds the partition's stable offset back, so
    // the next owner's journal read waits for this transaction to end; one frozen before it fails
    // the check and its records are aborted. Either way no journaled unit escapes the next owner.
    producer.flush();
    producer.sendOffsetsToTransaction(
        Map.of(p, new OffsetAndMetadata(offset, index.checkpoint().metadata())),
        consumer.groupMetadata());
    commit();
  }

  /**
   * Commits the open transaction. A commit that timed out may still complete, and the producer
   * accepts nothing else until it is asked again (Kafka 4 refuses even an abort): ask again a few
   * times, then give the producer up ({@link CommitUnknown}); a new one completes or aborts what is
   * left before the journal is read again.
   */
  private void commit() {
    for (int attempt = 1; ; attempt++) {
      try {
        producer.commitTransaction();
        return;
      } catch (TimeoutException e) {
        if (attempt >= COMMIT_ATTEMPTS) {
          throw new CommitUnknown(e);
        }
        log.warn("commit timed out ({}); asking for the same commit again", e.getMessage());
      }
    }
  }

  /**
   * Starts a new journal generation when the newest is full and nothing is pending, and answers the
   * units of the oldest, to tombstone in the transaction about to begin, which also commits the new
   * checkpoint. Should it abort, the index is read again from Kafka, which never saw the roll.
   */
  private List<String> rollIfDue(TopicPartition p, JournalIndex index, long committing) {
    // Generations of a quarter window: a roll (one offset look-up) every few thousand payouts.
    if (!index.shouldRoll(Math.max(1, horizon / 4), horizon, committing)) {
      return List.of();
    }
    // Nothing is pending, so everything this partition journaled lies below the stable end.
    TopicPartition journalPartition = new TopicPartition(Topics.JOURNAL, p.partition());
    long end = consumer.endOffsets(List.of(journalPartition)).get(journalPartition);
    List<String> forgotten = index.roll(end);
    log.info(
        "{}: the journal is read from offset {} on; {} settled units tombstoned",
        p,
        index.checkpoint().previousStart(),
        forgotten.size());
    return forgotten;
  }

  /** Counted once their transaction commits: an aborted one is recorded again later. */
  private void count(List<PayoutResult> results) {
    for (PayoutResult r : results) {
      meters
          .counter("txgw.payouts", "chain", r.chain().name(), "status", r.status().name())
          .increment();
      boolean reached =
          r.status() == PayoutStatus.BROADCAST || r.status() == PayoutStatus.CONFIRMED;
      if (reached && r.acceptedAt() != null) {
        Timer.builder("txgw.payout.latency")
            .description(
                "from the gateway's accept to BROADCAST (again after a reorg) or CONFIRMED")
            .tag("chain", r.chain().name())
            .tag("to", r.status().name())
            .publishPercentileHistogram()
            .register(meters)
            .record(Duration.between(r.acceptedAt(), r.updatedAt()));
      }
    }
  }
}
