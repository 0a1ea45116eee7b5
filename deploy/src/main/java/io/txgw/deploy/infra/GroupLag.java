package io.txgw.deploy.infra;

import io.txgw.common.kafka.Topics;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/** The payout consumers' lag on {@code sendto}: records written and not yet committed by them. */
public final class GroupLag {
  private GroupLag() {}

  /** Sum over partitions of end offset minus committed offset. */
  public static long of(Admin admin, String group) throws Exception {
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
    long lag = 0;
    for (var e : admin.listOffsets(partitions).all().get(10, TimeUnit.SECONDS).entrySet()) {
      OffsetAndMetadata c = committed.get(e.getKey());
      long end = e.getValue().offset();
      // A transaction marker takes the last offset: committed stops one short of the end.
      lag += Math.max(0, end - (c == null ? 0 : c.offset()) - (end > 0 ? 1 : 0));
    }
    return lag;
  }
}
