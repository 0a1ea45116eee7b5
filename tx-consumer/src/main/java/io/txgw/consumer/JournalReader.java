package io.txgw.consumer;

import io.txgw.common.kafka.JsonSerde;
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
import org.apache.kafka.common.serialization.StringDeserializer;

/** Reads journal partitions from the beginning to their last committed entry. */
public final class JournalReader {
  private static final Duration MAX_READ = Duration.ofMinutes(2);

  private final String bootstrap;

  public JournalReader(String bootstrap) {
    this.bootstrap = bootstrap;
  }

  /** The index of each journal partition with the same number as one of {@code sendto}'s. */
  Map<Integer, JournalIndex> read(Collection<Integer> partitions) {
    Map<Integer, JournalIndex> indexes = new HashMap<>();
    partitions.forEach(p -> indexes.put(p, new JournalIndex()));
    if (partitions.isEmpty()) {
      return indexes;
    }
    Map<String, Object> props =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap,
            ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            "read_committed",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
            false,
            ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG,
            Topics.MAX_MESSAGE_BYTES);
    try (KafkaConsumer<String, JournalEntry> consumer =
        new KafkaConsumer<>(props, new StringDeserializer(), new JsonSerde<>(JournalEntry.class))) {
      List<TopicPartition> tps =
          partitions.stream().map(p -> new TopicPartition(Topics.JOURNAL, p)).toList();
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      Map<TopicPartition, Long> ends = consumer.endOffsets(tps);
      long deadline = System.nanoTime() + MAX_READ.toNanos();
      while (tps.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("journal not read to its end within " + MAX_READ);
        }
        for (ConsumerRecord<String, JournalEntry> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.value() != null) {
            indexes.get(r.partition()).apply(r.value());
          }
        }
      }
    }
    return indexes;
  }
}
