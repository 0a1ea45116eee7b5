package io.txgw.deploy;

import static org.awaitility.Awaitility.await;

import io.txgw.deploy.infra.GroupLag;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/** Waits until a consumer group has committed every record of {@code sendto}. */
final class Lag {
  private Lag() {}

  static void awaitDrained(String bootstrap, String group, Duration timeout) {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      await()
          .atMost(timeout)
          .pollInterval(Duration.ofMillis(200))
          .until(() -> GroupLag.of(admin, group) == 0);
    }
  }
}
