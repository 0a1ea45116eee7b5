package io.txgw.gateway.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txgw.common.budget.BudgetSnapshot;
import io.txgw.common.budget.BudgetTable;
import io.txgw.common.budget.MemberReport;
import io.txgw.common.budget.Share;
import io.txgw.common.config.Secret;
import io.txgw.common.json.Json;
import io.txgw.common.model.Chain;
import io.txgw.coordinator.LoopbackZooKeeper;
import io.txgw.coordinator.Membership;
import io.txgw.coordinator.zk.ZkClients;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ZooKeeperReaderTest {
  private static final Secret AUTH = new Secret("txgw:reader-test-password");

  private TestingServer server;
  private CuratorFramework consumerSide;
  private Membership member;

  @BeforeEach
  void publishBudgetsAsTheConsumersDo() throws Exception {
    server = LoopbackZooKeeper.start();
    ZkClients clients = ZkClients.authenticated(server.getConnectString(), AUTH, List.of());
    consumerSide = clients.newClient(10_000, 5_000, new RetryOneTime(100));
    consumerSide.start();
    MemberReport report =
        new MemberReport(
            "host",
            1,
            "g",
            0,
            Map.of("ETH/anvil", new MemberReport.NodeUse(30, 30, 4, true, 7, 90, 12.5, false)));
    member =
        new Membership(
            clients, Membership.CONSUMERS, "consumer-1", Json.mapper().writeValueAsString(report));
    member.start(10, TimeUnit.SECONDS);
    BudgetTable table =
        new BudgetTable(
            Chain.ETH, "anvil", "consumer-1", 1, 30, 4, Map.of("consumer-1", new Share(30, 4)));
    consumerSide
        .create()
        .creatingParentsIfNeeded()
        .forPath(BudgetSnapshot.BUDGETS + "/ETH/anvil", Json.mapper().writeValueAsBytes(table));
  }

  @AfterEach
  void stop() throws Exception {
    member.close();
    consumerSide.close();
    server.close();
  }

  @Test
  void readsTheBudgetsAndReportsTheConsumersWroteUnderTheirIdentity() throws Exception {
    try (ZooKeeperReader reader =
        new ZooKeeperReader(new ZooKeeperReader.Target(server.getConnectString(), AUTH), 10_000)) {
      List<BudgetSnapshot.NodeUse> use = BudgetSnapshot.read(reader).nodeUse();

      assertThat(use).containsExactly(new BudgetSnapshot.NodeUse("ETH/anvil", 30, 12.5, 1));
    }
  }

  @Test
  void withoutTheIdentityNothingIsRead() throws Exception {
    try (ZooKeeperReader reader =
        new ZooKeeperReader(new ZooKeeperReader.Target(server.getConnectString(), null), 10_000)) {
      assertThatThrownBy(() -> BudgetSnapshot.read(reader))
          .isInstanceOf(KeeperException.NoAuthException.class);
    }
  }

  @Test
  void aMissingNodeReadsAsNone() throws Exception {
    try (ZooKeeperReader reader =
        new ZooKeeperReader(new ZooKeeperReader.Target(server.getConnectString(), AUTH), 10_000)) {
      assertThat(reader.children("/txgw/nothing-here")).isEmpty();
      assertThat(reader.data("/txgw/nothing-here")).isEmpty();
    }
  }

  @Test
  void aSessionThatEndedIsReplacedOnTheNextRead() throws Exception {
    try (ZooKeeperReader reader =
        new ZooKeeperReader(new ZooKeeperReader.Target(server.getConnectString(), AUTH), 10_000)) {
      assertThat(BudgetSnapshot.read(reader).tables()).hasSize(1);
      ZooKeeper first = reader.session();
      // Closed under it: the state an expired session or a refused identity also ends in.
      first.close();
      assertThat(first.getState().isAlive()).isFalse();

      assertThat(BudgetSnapshot.read(reader).tables()).hasSize(1);
      assertThat(reader.session()).isNotSameAs(first);
    }
  }

  @Test
  void onceClosedAReadStillUnderWayOpensNoNewSession() throws Exception {
    ZooKeeperReader reader =
        new ZooKeeperReader(new ZooKeeperReader.Target(server.getConnectString(), AUTH), 10_000);
    assertThat(BudgetSnapshot.read(reader).tables()).hasSize(1);
    ZooKeeper open = reader.session();

    reader.close();

    assertThat(open.getState().isAlive()).isFalse();
    assertThatThrownBy(() -> reader.children(BudgetSnapshot.BUDGETS))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("closed");
  }
}
