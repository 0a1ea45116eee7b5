package io.txgw.common.kafka;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;

/**
 * A consumer group's position against the end of its topics, as read_committed consumers see the
 * end: the last stable offset, so that aborted and open transactions are not counted as work.
 */
public final class GroupOffsets {
  private GroupOffsets() {}

  /** Every partition of the topics with its last stable offset. */
  public static Map<TopicPartition, Long> ends(
      Admin admin, Collection<String> topics, Duration timeout)
      throws ExecutionException, TimeoutException, InterruptedException {
    Map<String, TopicDescription> described =
        get(admin.describeTopics(List.copyOf(topics)).allTopicNames(), timeout);
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    described.forEach(
        (topic, d) ->
            d.partitions()
                .forEach(
                    p ->
                        latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest())));
    Map<TopicPartition, Long> ends = new HashMap<>();
    get(
            admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all(),
            timeout)
        .forEach((tp, info) -> ends.put(tp, info.offset()));
    return ends;
  }

  /** The group's committed offsets; partitions it never committed are absent. */
  public static Map<TopicPartition, Long> committed(Admin admin, String group, Duration timeout)
      throws ExecutionException, TimeoutException, InterruptedException {
    Map<TopicPartition, Long> committed = new HashMap<>();
    get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata(), timeout)
        .forEach(
            (tp, meta) -> {
              if (meta != null) {
                committed.put(tp, meta.offset());
              }
            });
    return committed;
  }

  /** Records between the committed offset (or the start) and the end, per partition. */
  public static Map<TopicPartition, Long> lag(
      Map<TopicPartition, Long> ends, Map<TopicPartition, Long> committed) {
    Map<TopicPartition, Long> lag = new HashMap<>();
    ends.forEach((tp, end) -> lag.put(tp, Math.max(0, end - committed.getOrDefault(tp, 0L))));
    return lag;
  }

  /**
   * Like {@link #lag}, for topics written in transactions: the commit marker after a partition's
   * last record takes an offset that a consumer's committed position stops short of, so one offset
   * less is counted (an estimate: every transaction leaves a marker, and a partition with one
   * unread record and no marker after it counts as caught up).
   */
  public static Map<TopicPartition, Long> settledLag(
      Map<TopicPartition, Long> ends, Map<TopicPartition, Long> committed) {
    Map<TopicPartition, Long> lag = new HashMap<>();
    ends.forEach(
        (tp, end) -> {
          long behind = end - committed.getOrDefault(tp, 0L);
          lag.put(tp, Math.max(0, behind - 1));
        });
    return lag;
  }

  private static <T> T get(KafkaFuture<T> future, Duration timeout)
      throws ExecutionException, TimeoutException, InterruptedException {
    return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }
}
