package io.txgw.consumer;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;

/**
 * Records on a consumer's partitions not yet recorded: the lag after the last fetch plus what was
 * fetched and is still being paid. A consumer working through one large poll must not look idle to
 * the budget leader, which weighs shares by this. Updated by the loop thread, read by any.
 */
final class Backlog {
  private final AtomicLong total = new AtomicLong();

  /** The offset each partition's last record transaction committed. */
  private final Map<TopicPartition, Long> recordedUpTo = new HashMap<>();

  /** The offset after the last record fetched from each partition. */
  private final Map<TopicPartition, Long> fetchedUpTo = new HashMap<>();

  /**
   * Records a partition held when it was assigned, counted until the consumer knows its lag (its
   * first fetch): before that the lag reads as unknown, and a consumer just given a backlog would
   * look idle to the budget leader, which then hands its share to others.
   */
  private final Map<TopicPartition, Long> unreadAtAssignment = new HashMap<>();

  /**
   * Notes a poll. A partition's first fetch after assignment starts at its committed offset, so it
   * also marks where recording stands.
   */
  void fetched(ConsumerRecords<String, byte[]> records) {
    for (TopicPartition p : records.partitions()) {
      List<ConsumerRecord<String, byte[]>> batch = records.records(p);
      fetchedUpTo.put(p, batch.get(batch.size() - 1).offset() + 1);
      recordedUpTo.putIfAbsent(p, batch.get(0).offset());
    }
  }

  /** Notes what each newly assigned partition holds past its committed offset. */
  void assigned(Map<TopicPartition, Long> unread) {
    unread.forEach((p, n) -> unreadAtAssignment.put(p, Math.max(0, n)));
  }

  void recorded(TopicPartition p, long offset) {
    recordedUpTo.put(p, offset);
  }

  void forget(Collection<TopicPartition> partitions) {
    partitions.forEach(recordedUpTo::remove);
    partitions.forEach(fetchedUpTo::remove);
    partitions.forEach(unreadAtAssignment::remove);
  }

  /**
   * Recomputes from the consumer's last known lag and each partition's journaled units still to
   * settle: their records lie below the committed offset, and a consumer settling them (another's,
   * after a takeover) needs calls like one paying new work, so it must not look idle to the budget
   * leader either. Call from the thread that polls.
   */
  void measure(
      Consumer<?, ?> consumer, java.util.function.ToLongFunction<TopicPartition> toSettle) {
    long sum = 0;
    for (TopicPartition p : consumer.assignment()) {
      sum += toSettle.applyAsLong(p);
      // Read from the consumer's cache, which an end offset fetched earlier can leave behind the
      // position: a negative lag would cancel other partitions' backlog and cost this consumer its
      // share while it still has work.
      java.util.OptionalLong known = consumer.currentLag(p);
      long lag;
      if (known.isPresent()) {
        unreadAtAssignment.remove(p);
        lag = Math.max(0, known.getAsLong());
      } else {
        lag = unreadAtAssignment.getOrDefault(p, 0L);
      }
      Long done = recordedUpTo.get(p);
      Long fetched = fetchedUpTo.get(p);
      sum += lag + (done == null || fetched == null ? 0 : Math.max(0, fetched - done));
    }
    total.set(sum);
  }

  long get() {
    return total.get();
  }
}
