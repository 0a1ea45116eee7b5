package io.txgw.gateway.status;

import io.txgw.common.kafka.GroupOffsets;
import io.txgw.common.kafka.TailProbe;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Whether the view's application has consumed up to given offsets. */
final class ViewOffsets {
  private static final Logger log = LoggerFactory.getLogger(ViewOffsets.class);
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final Duration PROBE_TIMEOUT = Duration.ofMillis(500);

  private ViewOffsets() {}

  static Map<TopicPartition, Long> endOffsets(Admin admin, Collection<String> topics) {
    try {
      return GroupOffsets.ends(admin, topics, TIMEOUT);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot read the end offsets of " + topics, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted reading the end offsets of " + topics, e);
    }
  }

  /**
   * Every partition of the topic with its end: the high watermark, past every record written so
   * far, open transactions' included (not the last stable offset, which stops at the first open
   * transaction and may lie before a record that is settled already).
   */
  static Map<TopicPartition, Long> highWatermarks(Admin admin, String topic)
      throws ExecutionException, TimeoutException, InterruptedException {
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    admin
        .describeTopics(List.of(topic))
        .allTopicNames()
        .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .get(topic)
        .partitions()
        .forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
    Map<TopicPartition, Long> ends = new HashMap<>();
    admin
        .listOffsets(latest)
        .all()
        .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .forEach((tp, info) -> ends.put(tp, info.offset()));
    return ends;
  }

  /** True once the application's committed offsets reach {@code ends} on every partition. */
  static boolean reached(
      Admin admin, TailProbe probe, String applicationId, Map<TopicPartition, Long> ends)
      throws InterruptedException {
    try {
      Map<TopicPartition, Long> committed = GroupOffsets.committed(admin, applicationId, TIMEOUT);
      return probe.lag(ends, committed, PROBE_TIMEOUT).values().stream().allMatch(lag -> lag == 0);
    } catch (ExecutionException | TimeoutException e) {
      log.debug("view offsets not read yet: {}", e.toString());
      return false;
    }
  }
}
