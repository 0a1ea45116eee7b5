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

  /** Where a record stands in its wait. */
  enum State {
    /** Seen waiting for the first time: worth saying so once. */
    STARTED,
    WAITING,
    /** It has held the partition longer than allowed. */
    OVERDUE
  }

  /**
   * Where the record at {@code offset} of {@code p} stands, given it may wait {@code limit} (null:
   * for ever). Starts the count the first time a record is seen waiting.
   */
  synchronized State check(TopicPartition p, long offset, Instant now, Duration limit) {
    Waiting w = waiting.get(p);
    if (w == null || w.offset() != offset) {
      waiting.put(p, new Waiting(offset, now));
      return State.STARTED;
    }
    if (limit == null || !now.isAfter(w.since().plus(limit))) {
      return State.WAITING;
    }
    waiting.remove(p);
    return State.OVERDUE;
  }

  /** Partitions waiting now; read by a gauge from another thread. */
  synchronized int size() {
    return waiting.size();
  }

  synchronized void forget(java.util.Collection<TopicPartition> partitions) {
    partitions.forEach(waiting::remove);
  }
}
