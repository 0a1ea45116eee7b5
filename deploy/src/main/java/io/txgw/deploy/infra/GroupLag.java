package io.txgw.deploy.infra;

import io.txgw.common.kafka.GroupOffsets;
import io.txgw.common.kafka.Topics;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.admin.Admin;

/** The payout consumers' lag on {@code sendto}: records written and not yet committed by them. */
public final class GroupLag {
  private GroupLag() {}

  /** Sum over partitions of end offset minus committed offset, transaction markers aside. */
  public static long of(Admin admin, String group) throws Exception {
    Duration timeout = Duration.ofSeconds(10);
    return GroupOffsets.settledLag(
            GroupOffsets.ends(admin, List.of(Topics.SENDTO), timeout),
            GroupOffsets.committed(admin, group, timeout))
        .values()
        .stream()
        .mapToLong(Long::longValue)
        .sum();
  }
}
