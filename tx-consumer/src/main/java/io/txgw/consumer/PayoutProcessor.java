package io.txgw.consumer;

import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Chain;
import io.txgw.common.model.Payout;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.model.PayoutStatus;
import io.txgw.consumer.chain.ChainSender;
import io.txgw.consumer.chain.NodeUnavailableException;
import io.txgw.consumer.chain.SendOutcome;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 * The consume-pay-record loop. Payouts of one partition are paid strictly in order; each result is
 * recorded together with the consumer offsets in one Kafka transaction, so results and progress
 * never disagree. Results are committed in groups (by count and time) because a transaction per
 * payout would cap the loop at the broker's transaction rate.
 *
 * <p>A payout this process has already paid is never paid again after an aborted transaction: its
 * outcome is remembered and re-recorded. Crash-safety across processes (a journal of signed
 * transactions written before broadcast) builds on this loop.
 */
public final class PayoutProcessor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PayoutProcessor.class);
  private static final int MAX_RESULTS_PER_TRANSACTION = 200;
  private static final Duration MAX_TRANSACTION_AGE = Duration.ofSeconds(1);
  private static final Duration NODE_DOWN_PAUSE = Duration.ofSeconds(2);
  private static final int REMEMBERED_OUTCOMES = 200_000;

  private final Consumer<String, byte[]> consumer;
  private final Producer<String, Object> producer;
  private final Map<Chain, ChainSender> senders;
  private final Clock clock;
  private final JsonSerde<Payout> payoutSerde = new JsonSerde<>(Payout.class);
  private final Map<String, PayoutResult> paid =
      new LinkedHashMap<>(1024, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, PayoutResult> eldest) {
          return size() > REMEMBERED_OUTCOMES;
        }
      };
  private final Map<TopicPartition, OffsetAndMetadata> pendingOffsets = new HashMap<>();
  private final Map<TopicPartition, Instant> pausedUntil = new HashMap<>();
  private boolean inTransaction;
  private int resultsInTransaction;
  private Instant transactionStart;
  private volatile boolean running = true;

  public PayoutProcessor(
      Consumer<String, byte[]> consumer,
      Producer<String, Object> producer,
      Map<Chain, ChainSender> senders,
      Clock clock) {
    this.consumer = consumer;
    this.producer = producer;
    this.senders = Map.copyOf(senders);
    this.clock = clock;
  }

  /** Joins the group and processes until {@link #stop()}; a fatal Kafka error ends it early. */
  public void run() {
    producer.initTransactions();
    consumer.subscribe(List.of(Topics.SENDTO), new Rebalance());
    try {
      while (running) {
        resumeRested();
        ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(200));
        try {
          for (TopicPartition partition : records.partitions()) {
            processPartition(partition, records.records(partition));
          }
          if (inTransaction && transactionDue()) {
            commit();
          }
        } catch (ProducerFencedException
            | FencedInstanceIdException
            | AuthorizationException
            | UnsupportedVersionException e) {
          log.error("consumer stops: {}", e.toString());
          return;
        } catch (KafkaException e) {
          log.warn("transaction aborted, re-reading from the committed offsets: {}", e.toString());
          abortAndRewind();
        }
      }
      if (inTransaction) {
        commit();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      abortQuietly();
    }
  }

  private void processPartition(
      TopicPartition partition, List<ConsumerRecord<String, byte[]>> records)
      throws InterruptedException {
    for (ConsumerRecord<String, byte[]> record : records) {
      if (!running) {
        consumer.seek(partition, record.offset());
        return;
      }
      Payout payout;
      try {
        payout = payoutSerde.deserialize(record.topic(), record.value());
      } catch (SerializationException e) {
        deadLetter(record, e);
        markDone(partition, record.offset());
        continue;
      }
      PayoutResult result = paid.get(payout.resultKey());
      if (result == null) {
        try {
          result = pay(payout);
        } catch (NodeUnavailableException e) {
          log.warn(
              "{} node unavailable, payout {} of batch {} waits: {}",
              payout.chain(),
              payout.id(),
              payout.batchId(),
              e.getMessage());
          // Nothing was sent; read this record again after a pause, keep what is done so far.
          consumer.seek(partition, record.offset());
          consumer.pause(List.of(partition));
          pausedUntil.put(partition, clock.instant().plus(NODE_DOWN_PAUSE));
          return;
        }
        paid.put(payout.resultKey(), result);
      }
      beginIfNeeded();
      producer.send(new ProducerRecord<>(Topics.RESULTS, result.resultKey(), result));
      markDone(partition, record.offset());
      if (transactionDue()) {
        commit();
      }
    }
  }

  private PayoutResult pay(Payout payout) throws NodeUnavailableException, InterruptedException {
    ChainSender sender = senders.get(payout.chain());
    Instant now = clock.instant();
    if (sender == null) {
      return PayoutResult.failed(payout, null, "no " + payout.chain() + " node is configured", now);
    }
    SendOutcome outcome = sender.send(payout);
    Instant at = clock.instant();
    if (outcome.status() == PayoutStatus.BROADCAST) {
      log.debug("payout {} broadcast as {}", payout.id(), outcome.txid());
      return PayoutResult.broadcast(payout, outcome.txid(), sender.nodeName(), at);
    }
    log.warn(
        "payout {} of batch {} on {}: {} ({})",
        payout.id(),
        payout.batchId(),
        sender.nodeName(),
        outcome.status(),
        outcome.error());
    return outcome.status() == PayoutStatus.FAILED
        ? PayoutResult.failed(payout, sender.nodeName(), outcome.error(), at)
        : PayoutResult.unknown(payout, outcome.txid(), sender.nodeName(), outcome.error(), at);
  }

  private void deadLetter(ConsumerRecord<String, byte[]> record, SerializationException e) {
    log.warn(
        "unreadable record {}-{}@{} moved to {}: {}",
        record.topic(),
        record.partition(),
        record.offset(),
        Topics.SENDTO_DEAD_LETTER,
        e.getMessage());
    beginIfNeeded();
    ProducerRecord<String, Object> dead =
        new ProducerRecord<>(
            Topics.SENDTO_DEAD_LETTER, record.key(), rawJsonOrText(record.value()));
    dead.headers()
        .add("txgw.error", String.valueOf(e.getMessage()).getBytes(StandardCharsets.UTF_8))
        .add(
            "txgw.origin",
            (record.topic() + "-" + record.partition() + "@" + record.offset())
                .getBytes(StandardCharsets.UTF_8));
    producer.send(dead);
  }

  private static Object rawJsonOrText(byte[] value) {
    return value == null ? null : new String(value, StandardCharsets.UTF_8);
  }

  private void markDone(TopicPartition partition, long offset) {
    pendingOffsets.put(partition, new OffsetAndMetadata(offset + 1));
  }

  private void beginIfNeeded() {
    if (!inTransaction) {
      producer.beginTransaction();
      inTransaction = true;
      resultsInTransaction = 0;
      transactionStart = clock.instant();
    }
    resultsInTransaction++;
  }

  private boolean transactionDue() {
    return resultsInTransaction >= MAX_RESULTS_PER_TRANSACTION
        || !clock.instant().isBefore(transactionStart.plus(MAX_TRANSACTION_AGE));
  }

  private void commit() {
    if (!inTransaction) {
      return;
    }
    if (!pendingOffsets.isEmpty()) {
      producer.sendOffsetsToTransaction(Map.copyOf(pendingOffsets), consumer.groupMetadata());
    }
    producer.commitTransaction();
    pendingOffsets.clear();
    inTransaction = false;
  }

  private void abortAndRewind() {
    abortQuietly();
    pendingOffsets.clear();
    Collection<TopicPartition> assigned = consumer.assignment();
    Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(Set.copyOf(assigned));
    for (TopicPartition p : assigned) {
      OffsetAndMetadata c = committed.get(p);
      if (c != null) {
        consumer.seek(p, c);
      } else {
        consumer.seekToBeginning(List.of(p));
      }
    }
  }

  private void abortQuietly() {
    if (!inTransaction) {
      return;
    }
    try {
      producer.abortTransaction();
    } catch (KafkaException e) {
      log.warn("abort failed: {}", e.toString());
    }
    inTransaction = false;
  }

  private void resumeRested() {
    if (pausedUntil.isEmpty()) {
      return;
    }
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

  /** Asks the loop to finish its current payout, commit, and return within a poll interval. */
  public void stop() {
    running = false;
  }

  @Override
  public void close() {
    stop();
  }

  /** Closes the Kafka clients; call after {@link #run()} has returned. */
  public void closeClients() {
    consumer.close(Duration.ofSeconds(5));
    producer.close(Duration.ofSeconds(5));
    senders.values().forEach(ChainSender::close);
  }

  /** Commits finished work before partitions move, so the next owner starts after it. */
  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      if (inTransaction) {
        try {
          commit();
        } catch (KafkaException e) {
          log.warn("could not commit before rebalance: {}", e.toString());
          abortQuietly();
        }
      }
      partitions.forEach(pausedUntil::remove);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      log.info("assigned {}", partitions);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      abortQuietly();
      pendingOffsets.keySet().removeAll(partitions);
      partitions.forEach(pausedUntil::remove);
    }
  }
}
