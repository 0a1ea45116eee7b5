package io.txgw.deploy;

import io.txgw.common.kafka.Topics;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/** Waits until a consumer group has committed every record of {@code sendto}. */
final class Lag {
  private Lag() {}

  static void awaitDrained(String bootstrap, String group, Duration timeout) throws Exception {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (true) {
        Map<TopicPartition, OffsetAndMetadata> committed =
            admin
                .listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata()
                .get(10, TimeUnit.SECONDS);
        var partitions =
            admin
                .describeTopics(java.util.List.of(Topics.SENDTO))
                .allTopicNames()
                .get(10, TimeUnit.SECONDS)
                .get(Topics.SENDTO)
                .partitions()
                .stream()
                .map(p -> new TopicPartition(Topics.SENDTO, p.partition()))
                .collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest()));
        var ends = admin.listOffsets(partitions).all().get(10, TimeUnit.SECONDS);
        boolean drained =
            ends.entrySet().stream()
                .allMatch(
                    e -> {
                      OffsetAndMetadata c = committed.get(e.getKey());
                      // Transaction markers take an offset: committed may stop one short of the
                      // end.
                      return e.getValue().offset() == 0
                          || (c != null && c.offset() >= e.getValue().offset() - 1);
                    });
        if (drained) {
          return;
        }
        if (System.nanoTime() > deadline) {
          throw new AssertionError(
              "group " + group + " still lags after " + timeout + ": " + committed + " vs " + ends);
        }
        Thread.sleep(200);
      }
    }
  }
}
