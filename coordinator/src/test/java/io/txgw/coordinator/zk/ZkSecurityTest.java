package io.txgw.coordinator.zk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.txgw.common.budget.MemberReport;
import io.txgw.common.config.ConfigException;
import io.txgw.common.config.Secret;
import io.txgw.common.json.Json;
import io.txgw.common.model.Chain;
import io.txgw.coordinator.AccountLeases;
import io.txgw.coordinator.LoopbackZooKeeper;
import io.txgw.coordinator.Membership;
import io.txgw.coordinator.budget.BudgetLeader;
import io.txgw.coordinator.budget.Budgets;
import io.txgw.coordinator.control.Controls;
import io.txgw.coordinator.nodes.NodeRegistry;
import io.txgw.coordinator.nodes.NodeSpec;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.barriers.DistributedDoubleBarrier;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.ThrowingConsumer;

/** Digest identities and ACLs against a real ZooKeeper server (digest needs no server setup). */
class ZkSecurityTest {
  private static final Secret SERVICE = new Secret("txgw:service-password");
  private static final String NODE = NodeRegistry.ROOT + "/ETH/anvil";

  private TestingServer zooKeeper;
  private final List<AutoCloseable> open = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    zooKeeper = LoopbackZooKeeper.start();
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
    zooKeeper.close();
  }

  private ZkClients service(List<Id> extra) {
    return ZkClients.authenticated(zooKeeper.getConnectString(), SERVICE, extra);
  }

  private CuratorFramework started(ZkClients clients) throws InterruptedException {
    CuratorFramework client = clients.newClient(10_000, 5_000, new RetryOneTime(100));
    open.add(client);
    client.start();
    assertThat(client.blockUntilConnected(10, TimeUnit.SECONDS)).isTrue();
    return client;
  }

  private static NodeSpec anvil(String url) {
    return new NodeSpec(Chain.ETH, "anvil", url, null, null, null, 100, 4, 100, false);
  }

  /** Runs what a consumer and an operator do in ZooKeeper, as the service identity. */
  private Membership coordinate(ZkClients clients) throws Exception {
    String report = Json.mapper().writeValueAsString(new MemberReport("host", 1, "g", 0, Map.of()));
    Membership member = new Membership(clients, "consumers", "c1", report);
    open.add(member);
    member.start(10, TimeUnit.SECONDS);
    NodeRegistry registry = new NodeRegistry(member.client());
    open.add(registry);
    registry.put(anvil("http://127.0.0.1:8545"));
    registry.watch();
    new Controls(member.client()).pause(Chain.BTC, new Controls.Pause("op", Instant.now(), ""));
    AccountLeases leases = new AccountLeases(member.client());
    open.add(leases);
    assertThat(leases.acquire("ETH:0xabc", 5, TimeUnit.SECONDS)).isTrue();
    BudgetLeader leader =
        new BudgetLeader(member.client(), registry, member::members, "c1", Clock.systemUTC())
            .start(50);
    open.add(leader);
    Budgets budgets = new Budgets(member.client()).start();
    open.add(budgets);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> budgets.share(Chain.ETH, "anvil", "c1").isPresent());
    return member;
  }

  @Test
  void everyZnodeTheCoordinatorCreatesIsOpenToItsIdentityAlone() throws Exception {
    ZkClients clients = service(List.of());
    Membership member = coordinate(clients);

    assertThat(new NodeRegistry(member.client()).read(Chain.ETH, "anvil")).isPresent();
    // The load generator's barrier, as its boxes meet.
    DistributedDoubleBarrier barrier =
        new DistributedDoubleBarrier(member.client(), "/txgw/loadgen/run-1", 1);
    assertThat(barrier.enter(10, TimeUnit.SECONDS)).isTrue();
    List<String> paths = new ArrayList<>();
    walk(member.client(), "/txgw", paths);
    // Members, leases, the latch, budgets, nodes and pauses: recipes' own znodes included.
    assertThat(paths)
        .contains(
            "/txgw",
            NODE,
            "/txgw/members/consumers/c1",
            "/txgw/control/paused/BTC",
            "/txgw/budgets/ETH/anvil")
        .anyMatch(p -> p.startsWith("/txgw/leases/"))
        .anyMatch(p -> p.startsWith("/txgw/loadgen/run-1/"))
        .anyMatch(p -> p.startsWith("/txgw/budget-leader/"));
    List<ACL> only = List.of(new ACL(ZooDefs.Perms.ALL, ZkClients.digestId(SERVICE.reveal())));
    for (String path : paths) {
      assertThat(member.client().getACL().forPath(path)).as(path).isEqualTo(only);
    }
  }

  @Test
  void anUnauthenticatedClientCanNeitherReadNorWriteNorDeleteUnderTxgw() throws Exception {
    coordinate(service(List.of()));
    assertLockedOut(started(ZkClients.open(zooKeeper.getConnectString())));
  }

  @Test
  void aClientWithOtherDigestCredentialsIsLockedOutToo() throws Exception {
    coordinate(service(List.of()));
    assertLockedOut(
        started(
            ZkClients.authenticated(
                zooKeeper.getConnectString(), new Secret("txgw:guessed"), List.of())));
  }

  private static void walk(CuratorFramework client, String path, List<String> paths)
      throws Exception {
    paths.add(path);
    for (String child : client.getChildren().forPath(path)) {
      walk(client, path + "/" + child, paths);
    }
  }

  private static void assertLockedOut(CuratorFramework intruder) {
    byte[] evil =
        "{\"chain\":\"ETH\",\"name\":\"evil\",\"url\":\"http://attacker\"}"
            .getBytes(StandardCharsets.UTF_8);
    List<ThrowingConsumer<CuratorFramework>> attempts =
        List.of(
            c -> c.getData().forPath(NODE),
            c -> c.getChildren().forPath(NodeRegistry.ROOT + "/ETH"),
            c -> c.getChildren().forPath("/txgw"),
            c -> c.setData().forPath(NODE, evil),
            c -> c.create().forPath(NodeRegistry.ROOT + "/ETH/evil", evil),
            c -> c.create().forPath(Controls.ROOT + "/ETH"),
            c -> c.delete().forPath(NODE),
            c -> c.delete().forPath(Controls.ROOT + "/BTC"),
            c -> c.delete().forPath("/txgw/members/consumers/c1"),
            c -> c.setACL().withACL(ZooDefs.Ids.OPEN_ACL_UNSAFE).forPath(NODE));
    for (ThrowingConsumer<CuratorFramework> attempt : attempts) {
      assertThatThrownBy(() -> attempt.accept(intruder))
          .isInstanceOf(KeeperException.NoAuthException.class);
    }
  }

  @Test
  void anOperatorNamedInTheExtraIdsSharesTheTreeWithTheService() throws Exception {
    String operatorAuth = "operator:operator-password";
    Id operator = ZkClients.digestId(operatorAuth);
    Id serviceId = ZkClients.digestId(SERVICE.reveal());
    CuratorFramework service = started(service(List.of(operator)));
    CuratorFramework cli =
        started(
            ZkClients.authenticated(
                zooKeeper.getConnectString(), new Secret(operatorAuth), List.of(serviceId)));

    new NodeRegistry(cli).put(anvil("http://127.0.0.1:8545"));
    assertThat(new NodeRegistry(service).read(Chain.ETH, "anvil")).isPresent();
    new NodeRegistry(service).put(anvil("http://127.0.0.1:8546"));
    assertThat(new NodeRegistry(cli).read(Chain.ETH, "anvil").orElseThrow().url())
        .isEqualTo("http://127.0.0.1:8546");
    CuratorFramework intruder = started(ZkClients.open(zooKeeper.getConnectString()));
    assertThatThrownBy(() -> intruder.getData().forPath(NODE))
        .isInstanceOf(KeeperException.NoAuthException.class);
    assertThat(new NodeRegistry(cli).remove(Chain.ETH, "anvil")).isTrue();
  }

  @Test
  void withoutAnIdentityZnodesStayWorldOpenAsBefore() throws Exception {
    CuratorFramework client = started(ZkClients.open(zooKeeper.getConnectString()));
    new NodeRegistry(client).put(anvil("http://127.0.0.1:8545"));
    assertThat(client.getACL().forPath(NODE)).isEqualTo(ZooDefs.Ids.OPEN_ACL_UNSAFE);
  }

  @Test
  void aMalformedIdentityIsRefusedWithoutShowingIt() {
    assertThatThrownBy(() -> ZkClients.fromEnv("zk:2181", Map.of("TXGW_ZK_AUTH", "justapassword")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TXGW_ZK_AUTH")
        .hasMessageNotContaining("justapassword");
  }

  @Test
  void anExtraIdThatIsAPasswordOrOpensTheTreeIsRefused() {
    for (String extra :
        List.of("digest:operator:hunter2", "world:anyone", "ip:10.0.0.0/8", "auth:", "digest")) {
      assertThatThrownBy(
              () ->
                  ZkClients.fromEnv(
                      "zk:2181", Map.of("TXGW_ZK_AUTH", "txgw:pw", "TXGW_ZK_ACL_EXTRA", extra)))
          .as(extra)
          .isInstanceOf(ConfigException.class)
          .hasMessageNotContaining("hunter2");
    }
  }

  @Test
  void extraIdsWithoutAnIdentityAreRefused() {
    String operator = "digest:" + ZkClients.digestId("operator:pw").getId();
    assertThat(ZkClients.parseIds(operator)).hasSize(1);
    assertThatThrownBy(() -> ZkClients.fromEnv("zk:2181", Map.of("TXGW_ZK_ACL_EXTRA", operator)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("needs TXGW_ZK_AUTH");
  }

  @Test
  void theIdentityIsReadFromAFileAndNeverShown(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path file = dir.resolve("zk-auth");
    java.nio.file.Files.writeString(file, "txgw:from-a-file\n");
    ZkClients clients =
        ZkClients.fromEnv("127.0.0.1:2181", Map.of("TXGW_ZK_AUTH_FILE", file.toString()));
    assertThat(clients.authenticated()).isTrue();
    assertThat(clients.acl())
        .containsExactly(new ACL(ZooDefs.Perms.ALL, ZkClients.digestId("txgw:from-a-file")));
    assertThat(clients.toString()).contains("txgw").doesNotContain("from-a-file");
  }
}
