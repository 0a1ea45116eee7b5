package io.txgw.deploy.infra;

import io.txgw.common.kafka.GroupOffsets;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.TailProbe;
import io.txgw.common.kafka.Topics;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.admin.Admin;

/** The payout consumers' lag on {@code sendto}: records written and not yet committed by them. */
public final class GroupLag implements AutoCloseable {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final Admin admin;
  private final TailProbe probe;

  public GroupLag(String bootstrap) {
    this(KafkaConnection.plaintext(bootstrap));
  }

  public GroupLag(KafkaConnection kafka) {
    this.admin = Admin.create(kafka.clientProperties());
    this.probe = new TailProbe(kafka);
  }

  /** Sum over partitions of the records after the committed offset, transaction markers aside. */
  public synchronized long of(String group) throws Exception {
    return probe
        .lag(
            GroupOffsets.ends(admin, List.of(Topics.SENDTO), TIMEOUT),
            GroupOffsets.committed(admin, group, TIMEOUT),
            Duration.ofSeconds(1))
        .values()
        .stream()
        .mapToLong(Long::longValue)
        .sum();
  }

  @Override
  public void close() {
    probe.close();
    admin.close(Duration.ofSeconds(5));
  }
}
