package io.txgw.deploy;

import static org.awaitility.Awaitility.await;

import io.txgw.common.kafka.Topics;
import java.time.Duration;
import java.util.List;
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

  static void awaitDrained(String bootstrap, String group, Duration timeout) {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      await()
          .atMost(timeout)
          .pollInterval(Duration.ofMillis(200))
          .until(() -> drained(admin, group));
    }
  }

  private static boolean drained(Admin admin, String group) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> committed =
        admin
            .listConsumerGroupOffsets(group)
            .partitionsToOffsetAndMetadata()
            .get(10, TimeUnit.SECONDS);
    var partitions =
        admin
            .describeTopics(List.of(Topics.SENDTO))
            .allTopicNames()
            .get(10, TimeUnit.SECONDS)
            .get(Topics.SENDTO)
            .partitions()
            .stream()
            .map(p -> new TopicPartition(Topics.SENDTO, p.partition()))
            .collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest()));
    var ends = admin.listOffsets(partitions).all().get(10, TimeUnit.SECONDS);
    return ends.entrySet().stream()
        .allMatch(
            e -> {
              OffsetAndMetadata c = committed.get(e.getKey());
              // A transaction marker takes the last offset: committed stops one short of the end.
              return e.getValue().offset() == 0
                  || (c != null && c.offset() >= e.getValue().offset() - 1);
            });
  }
}
