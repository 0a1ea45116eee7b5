package io.txgw.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AccountLeasesTest {
  private TestingServer zooKeeper;

  @BeforeEach
  void start() throws Exception {
    zooKeeper = LoopbackZooKeeper.start();
  }

  @AfterEach
  void stop() throws Exception {
    zooKeeper.close();
  }

  private Membership member(String id) throws InterruptedException {
    Membership m = new Membership(zooKeeper.getConnectString(), "consumers", id, "{}");
    m.start(10, TimeUnit.SECONDS);
    return m;
  }

  @Test
  void onlyOneProcessHoldsAnAccountAndAReleasedLeasePassesOn() throws Exception {
    try (Membership a = member("a");
        Membership b = member("b");
        AccountLeases leasesA = new AccountLeases(a.client());
        AccountLeases leasesB = new AccountLeases(b.client())) {
      assertThat(leasesA.acquire("ETH:0xabc", 2, TimeUnit.SECONDS)).isTrue();
      assertThat(leasesA.holds("ETH:0xabc")).isTrue();
      assertThat(leasesB.acquire("ETH:0xabc", 200, TimeUnit.MILLISECONDS)).isFalse();
      assertThat(leasesB.acquire("BTC:primary", 2, TimeUnit.SECONDS)).isTrue();

      leasesA.release(Set.of("ETH:0xabc"));
      assertThat(leasesA.holds("ETH:0xabc")).isFalse();
      assertThat(leasesB.acquire("ETH:0xabc", 2, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void aHolderWhoseSessionExpiresStopsHoldingAndAnotherTakesOver() throws Exception {
    try (Membership a = member("a");
        Membership b = member("b");
        AccountLeases leasesA = new AccountLeases(a.client());
        AccountLeases leasesB = new AccountLeases(b.client())) {
      assertThat(leasesA.acquire("ETH:0xabc", 2, TimeUnit.SECONDS)).isTrue();
      a.client().getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();
      await().atMost(Duration.ofSeconds(10)).until(() -> !leasesA.holds("ETH:0xabc"));
      // The server frees the lease when it expires the session: up to a session timeout later.
      assertThat(leasesB.acquire("ETH:0xabc", 15, TimeUnit.SECONDS)).isTrue();
    }
  }
}
