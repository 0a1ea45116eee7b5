package io.txgw.consumer;

import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.JournalEntry;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads journal partitions from the beginning to their end, once no transaction is open on them.
 *
 * <p>Waiting matters: a consumer frozen between the two halves of committing its journal
 * transaction leaves it open. Were the new owner to read past it and prepare the same payouts, the
 * frozen one's transaction could still commit later, journaling a second transaction for them.
 * Waiting until the transaction is committed, or aborted by the broker's transaction timeout, means
 * the new owner sees and finishes whatever was journaled.
 */
public final class JournalReader {
  private static final Logger log = LoggerFactory.getLogger(JournalReader.class);
  private static final Duration MAX_READ = Duration.ofMinutes(2);

  private final KafkaConnection kafka;

  public JournalReader(KafkaConnection kafka) {
    this.kafka = kafka;
  }

  /**
   * The index of each journal partition with the same number as one of {@code sendto}'s, read from
   * its checkpoint on: below it nothing is pending or needed to tell a payout already taken.
   */
  Map<Integer, JournalIndex> read(Map<Integer, JournalCheckpoint> from) {
    Map<Integer, JournalIndex> indexes = new HashMap<>();
    from.forEach((p, checkpoint) -> indexes.put(p, new JournalIndex(checkpoint)));
    Collection<Integer> partitions = from.keySet();
    if (partitions.isEmpty()) {
      return indexes;
    }
    Map<String, Object> props =
        // A checkpoint below the log's start (records compacted away) reads from the start, never
        // from the end.
        kafka.committedReader(
            Map.of(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Topics.MAX_MESSAGE_BYTES));
    try (KafkaConsumer<String, JournalEntry> consumer =
        new KafkaConsumer<>(props, new StringDeserializer(), new JsonSerde<>(JournalEntry.class))) {
      List<TopicPartition> tps =
          partitions.stream().map(p -> new TopicPartition(Topics.JOURNAL, p)).toList();
      consumer.assign(tps);
      for (TopicPartition tp : tps) {
        consumer.seek(tp, from.get(tp.partition()).previousStart());
      }
      long deadline = System.nanoTime() + MAX_READ.toNanos();
      Map<TopicPartition, Long> ends = settledEnds(consumer, tps, deadline);
      while (tps.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("journal not read to its end within " + MAX_READ);
        }
        for (ConsumerRecord<String, JournalEntry> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.value() != null) {
            indexes.get(r.partition()).apply(r.value(), r.offset());
          }
        }
      }
    }
    return indexes;
  }

  /** The end offsets once the last stable offset has caught up with the high watermark. */
  private Map<TopicPartition, Long> settledEnds(
      KafkaConsumer<String, JournalEntry> committed, List<TopicPartition> tps, long deadline) {
    Map<String, Object> props =
        kafka.clientProperties(Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted"));
    try (KafkaConsumer<byte[], byte[]> uncommitted =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      while (true) {
        Map<TopicPartition, Long> stable = committed.endOffsets(tps);
        Map<TopicPartition, Long> high = uncommitted.endOffsets(tps);
        if (stable.equals(high)) {
          return stable;
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "a journal transaction stays open: " + stable + " < " + high);
        }
        log.info("journal has an open transaction (a frozen consumer's?); waiting for it to end");
        try {
          Thread.sleep(200);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for the journal", e);
        }
      }
    }
  }
}
