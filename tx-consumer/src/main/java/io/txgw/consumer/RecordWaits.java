package io.txgw.consumer;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * Since when each partition has been waiting on one record: one entry per partition, the record at
 * which it waits, so that a record allowed to wait for a while is moved aside once that is over.
 */
final class RecordWaits {
  private record Waiting(long offset, Instant since) {}

  private final Map<TopicPartition, Waiting> waiting = new HashMap<>();

  /**
   * Whether the record at {@code offset} has held {@code p} longer than {@code limit}; a null limit
   * never runs out. Starts the count the first time a record is seen waiting.
   */
  boolean overdue(TopicPartition p, long offset, Instant now, Duration limit) {
    Waiting w = waiting.get(p);
    if (w == null || w.offset() != offset) {
      waiting.put(p, new Waiting(offset, now));
      return false;
    }
    if (limit == null || !now.isAfter(w.since().plus(limit))) {
      return false;
    }
    waiting.remove(p);
    return true;
  }

  void forget(java.util.Collection<TopicPartition> partitions) {
    partitions.forEach(waiting::remove);
  }
}
