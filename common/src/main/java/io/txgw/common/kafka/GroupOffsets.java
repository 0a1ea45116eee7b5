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

  private static <T> T get(KafkaFuture<T> future, Duration timeout)
      throws ExecutionException, TimeoutException, InterruptedException {
    return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }
}
