package io.txgw.gateway.status;

import io.txgw.common.kafka.GroupOffsets;
import io.txgw.common.kafka.TailProbe;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
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
