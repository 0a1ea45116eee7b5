package io.txgw.common.kafka;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Tells a real lag from transaction markers. A consumer that commits the offset after its last
 * record stops short of the commit marker that follows it, so offsets alone show a partition that
 * is read to its end as one behind. Reading the few offsets in between as a read_committed consumer
 * settles it: markers (and aborted records) are never returned.
 */
public final class TailProbe implements AutoCloseable {
  /** Larger gaps are taken as they are: probing them would mean reading real work. */
  public static final long MAX_PROBED = 2;

  private final KafkaConsumer<byte[], byte[]> consumer;

  public TailProbe(KafkaConnection kafka) {
    this.consumer = oneRecordReader(kafka);
  }

  /** A read_committed consumer that fetches one record at a time: for looking at a tail. */
  public static KafkaConsumer<byte[], byte[]> oneRecordReader(KafkaConnection kafka) {
    return new KafkaConsumer<>(
        kafka.clientProperties(
            Map.of(
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                IsolationLevel.READ_COMMITTED.toString(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false,
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
                1)),
        new ByteArrayDeserializer(),
        new ByteArrayDeserializer());
  }

  /**
   * The records a read_committed consumer at {@code from} would still get before {@code end}: exact
   * for gaps up to {@value #MAX_PROBED}, {@code end - from} for larger ones or when the partition
   * cannot be read within {@code timeout}.
   */
  public long lag(TopicPartition tp, long from, long end, Duration timeout) {
    long gap = Math.max(0, end - from);
    if (gap == 0 || gap > MAX_PROBED) {
      return gap;
    }
    consumer.assign(List.of(tp));
    consumer.seek(tp, from);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!consumer.poll(Duration.ofMillis(100)).isEmpty()) {
        return gap;
      }
      if (consumer.position(tp) >= end) {
        return 0;
      }
    }
    return gap;
  }

  /**
   * {@link #lag(TopicPartition, long, long, Duration)} for every partition of {@code ends}; a
   * partition with no committed offset is read from its start.
   */
  public Map<TopicPartition, Long> lag(
      Map<TopicPartition, Long> ends, Map<TopicPartition, Long> committed, Duration timeout) {
    Map<TopicPartition, Long> lag = new HashMap<>();
    ends.forEach((tp, end) -> lag.put(tp, lag(tp, committed.getOrDefault(tp, 0L), end, timeout)));
    return lag;
  }

  @Override
  public void close() {
    consumer.close(CloseOptions.timeout(Duration.ofSeconds(2)));
  }
}
