package io.txgw.deploy.infra;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.common.GroupState;

/** Waits on a Kafka consumer group, so that a measurement does not start inside a rebalance. */
public final class ConsumerGroups {
  private ConsumerGroups() {}

  /** Waits until the group is stable with {@code members} members, each owning partitions. */
  public static void awaitStable(String bootstrap, String group, int members, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      while (true) {
        try {
          ConsumerGroupDescription d =
              admin.describeConsumerGroups(List.of(group)).all().get().get(group);
          if (d.groupState() == GroupState.STABLE
              && d.members().size() == members
              && d.members().stream().allMatch(m -> !m.assignment().topicPartitions().isEmpty())) {
            return;
          }
        } catch (ExecutionException e) {
          // Not known yet: keep asking until the deadline.
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "group " + group + " not stable with " + members + " members within " + timeout);
        }
        Thread.sleep(200);
      }
    }
  }
}
