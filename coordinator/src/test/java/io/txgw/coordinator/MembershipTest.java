package io.txgw.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MembershipTest {
  private TestingServer zooKeeper;

  @BeforeEach
  void start() throws Exception {
    zooKeeper = LoopbackZooKeeper.start();
  }

  @AfterEach
  void stop() throws Exception {
    zooKeeper.close();
  }

  @Test
  void liveMembersSeeEachOtherAndAClosedMemberDisappears() throws Exception {
    try (Membership a =
            new Membership(zooKeeper.getConnectString(), "consumers", "a", "{\"pid\":1}");
        Membership b =
            new Membership(zooKeeper.getConnectString(), "consumers", "b", "{\"pid\":2}")) {
      a.start(10, TimeUnit.SECONDS);
      b.start(10, TimeUnit.SECONDS);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> a.members().keySet().containsAll(java.util.List.of("a", "b")));
      assertThat(a.members()).containsEntry("b", "{\"pid\":2}");
      b.close();
      await().atMost(Duration.ofSeconds(10)).until(() -> !a.members().containsKey("b"));
    }
  }

  @Test
  void startingWithoutZooKeeperFailsWithinTheTimeout() throws Exception {
    String connect = zooKeeper.getConnectString();
    zooKeeper.stop();
    try (Membership m = new Membership(connect, "consumers", "c", "{}")) {
      long t0 = System.nanoTime();
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> m.start(1, TimeUnit.SECONDS))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("cannot reach ZooKeeper");
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
    }
  }
}
