package io.txgw.gateway.kafka;

import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.BatchRecord;
import io.txgw.common.model.PayoutResult;
import java.io.Closeable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's view of the batches and results topics: which batches exist (to answer re-posts)
 * and the latest state of each payout. It reads both topics from the beginning and is ready once it
 * has caught up with the end offsets it saw at start, so that after a restart a re-posted batch is
 * still recognised.
 *
 * <p>The view lives in memory; a persistent state store is the next step for very large histories.
 */
public final class BatchLedger implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(BatchLedger.class);

  private final KafkaConsumer<String, byte[]> consumer;
  private final JsonSerde<BatchRecord> batchSerde = new JsonSerde<>(BatchRecord.class);
  private final JsonSerde<PayoutResult> resultSerde = new JsonSerde<>(PayoutResult.class);
  private final Map<String, BatchRecord> batches = new ConcurrentHashMap<>();
  private final Map<String, PayoutResult> results = new ConcurrentHashMap<>();
  private final CountDownLatch caughtUp = new CountDownLatch(1);
  private final Thread thread;
  private volatile boolean closed;

  public BatchLedger(String bootstrap) {
    Map<String, Object> props = new HashMap<>();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Topics.MAX_MESSAGE_BYTES);
    this.consumer =
        new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
    this.thread = new Thread(this::run, "batch-ledger");
    thread.setDaemon(true);
  }

  public void start() {
    thread.start();
  }

  /** Waits until the view has read everything written before it started. */
  public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
    return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  public boolean isCaughtUp() {
    return caughtUp.getCount() == 0;
  }

  public Optional<BatchRecord> batch(String clientId, String batchId) {
    return Optional.ofNullable(batches.get(BatchRecord.key(clientId, batchId)));
  }

  /** Records a batch this gateway has just committed, before the topic echoes it back. */
  public void remember(BatchRecord batch) {
    batches.put(batch.key(), batch);
  }

  public Optional<PayoutResult> result(String clientId, String payoutId) {
    return Optional.ofNullable(results.get(clientId + "/" + payoutId));
  }

  private void run() {
    try {
      List<TopicPartition> partitions = new ArrayList<>();
      for (String topic : List.of(Topics.BATCHES, Topics.RESULTS)) {
        consumer
            .partitionsFor(topic, Duration.ofSeconds(30))
            .forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
      while (!closed) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          apply(record);
        }
        if (caughtUp.getCount() > 0 && reached(ends)) {
          log.info(
              "batch ledger caught up: {} batches, {} results", batches.size(), results.size());
          caughtUp.countDown();
        }
      }
    } catch (WakeupException e) {
      if (!closed) {
        throw e;
      }
    } catch (KafkaException e) {
      log.error("batch ledger stopped: {}", e.toString());
    } finally {
      consumer.close(Duration.ofSeconds(5));
    }
  }

  private boolean reached(Map<TopicPartition, Long> ends) {
    for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
      if (consumer.position(end.getKey()) < end.getValue()) {
        return false;
      }
    }
    return true;
  }

  private void apply(ConsumerRecord<String, byte[]> record) {
    try {
      if (record.topic().equals(Topics.BATCHES)) {
        // The batches this gateway wrote come back here; it remembered them when they committed.
        if (record.key() != null && batches.containsKey(record.key())) {
          return;
        }
        BatchRecord batch = batchSerde.deserialize(record.topic(), record.value());
        if (batch != null) {
          batches.put(batch.key(), batch);
        }
      } else {
        PayoutResult result = resultSerde.deserialize(record.topic(), record.value());
        if (result != null) {
          results.merge(result.resultKey(), result, BatchLedger::later);
        }
      }
    } catch (SerializationException e) {
      log.warn(
          "skipping unreadable record {}-{}@{}: {}",
          record.topic(),
          record.partition(),
          record.offset(),
          e.getMessage());
    }
  }

  private static PayoutResult later(PayoutResult a, PayoutResult b) {
    return b.updatedAt().isBefore(a.updatedAt()) ? a : b;
  }

  @Override
  public void close() {
    closed = true;
    if (!thread.isAlive()) {
      consumer.close(Duration.ofSeconds(5));
      return;
    }
    consumer.wakeup();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
