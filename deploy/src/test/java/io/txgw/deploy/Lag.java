package io.txgw.deploy;

import static org.awaitility.Awaitility.await;

import io.txgw.deploy.infra.GroupLag;
import java.time.Duration;

/** Waits until a consumer group has committed every record of {@code sendto}. */
final class Lag {
  private Lag() {}

  static void awaitDrained(String bootstrap, String group, Duration timeout) {
    try (GroupLag lag = new GroupLag(bootstrap)) {
      await().atMost(timeout).pollInterval(Duration.ofMillis(200)).until(() -> lag.of(group) == 0);
    }
  }
}
