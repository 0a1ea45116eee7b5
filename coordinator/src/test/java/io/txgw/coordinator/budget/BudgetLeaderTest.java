package io.txgw.coordinator.budget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txgw.common.budget.BudgetTable;
import io.txgw.common.budget.MemberReport;
import io.txgw.common.budget.Share;
import io.txgw.common.json.Json;
import io.txgw.common.model.Chain;
import io.txgw.coordinator.LoopbackZooKeeper;
import io.txgw.coordinator.Membership;
import io.txgw.coordinator.nodes.NodeRegistry;
import io.txgw.coordinator.nodes.NodeSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Consumers as the budget leader sees them: members with reports, one of them leading. */
class BudgetLeaderTest {
  private TestingServer zooKeeper;
  private final List<AutoCloseable> open = new ArrayList<>();
  private Budgets budgets;

  /** One consumer's coordination: its membership, registry view and leader candidate. */
  private record Consumer(Membership membership, NodeRegistry registry, BudgetLeader leader)
      implements AutoCloseable {
    @Override
    public void close() {
      leader.close();
      registry.close();
      membership.close();
    }
  }

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

  private Consumer consumer(String id, long backlog) throws Exception {
    Membership m = new Membership(zooKeeper.getConnectString(), "consumers", id, report(backlog));
    m.start(10, TimeUnit.SECONDS);
    NodeRegistry registry = new NodeRegistry(m.client()).watch();
    BudgetLeader leader =
        new BudgetLeader(m.client(), registry, m::members, id, Clock.systemUTC()).start(50);
    Consumer c = new Consumer(m, registry, leader);
    open.add(c);
    if (budgets == null) {
      budgets = new Budgets(m.client()).start();
    }
    return c;
  }

  private static String report(long backlog) throws Exception {
    return Json.mapper().writeValueAsString(new MemberReport("host", 1, "g", backlog, Map.of()));
  }

  private Optional<BudgetTable> table() {
    return budgets.table(Chain.ETH, "anvil");
  }

  private void register(Consumer c, double rps) throws Exception {
    c.registry()
        .put(
            new NodeSpec(
                Chain.ETH, "anvil", "http://127.0.0.1:8545", null, null, null, rps, 6, 100, false));
  }

  @Test
  void aMemberThatReportsTheNewestTableInForceIsCountedAtWhatItCanStillStart() {
    BudgetTable newest =
        new BudgetTable(
            io.txgw.common.model.Chain.ETH,
            "anvil",
            "a",
            1_000,
            200,
            8,
            Map.of("a", new Share(190, 4), "b", new Share(10, 4)));
    Map<String, Double> held = Map.of("a", 100.0, "b", 100.0);
    Map<String, MemberReport.NodeUse> use =
        Map.of(
            // b applied the newest table and started 12 calls in the second before its report.
            "b", new MemberReport.NodeUse(10, 10, 4, true, 1, 50, 12, false, 1_000, 12),
            // a still reports an older table: its larger shares may still be spent.
            "a", new MemberReport.NodeUse(100, 100, 4, true, 1, 50, 99, true, 750, 99));
    assertThat(BudgetLeader.acknowledged(held, newest, use)).containsEntry("b", 12.0);
    assertThat(BudgetLeader.acknowledged(held, newest, use)).containsEntry("a", 100.0);

    // Calls fewer than its share: its share is what it can start.
    Map<String, MemberReport.NodeUse> idle =
        Map.of("b", new MemberReport.NodeUse(10, 10, 4, true, 1, 50, 0, false, 1_000, 0));
    assertThat(BudgetLeader.acknowledged(held, newest, idle)).containsEntry("b", 10.0);
    // A report without a count of its calls, or of another table, changes nothing.
    Map<String, MemberReport.NodeUse> uncounted =
        Map.of("b", new MemberReport.NodeUse(10, 10, 4, true, 1, 50, 0, false, 1_000, -1));
    assertThat(BudgetLeader.acknowledged(held, newest, uncounted)).containsEntry("b", 100.0);
    Map<String, MemberReport.NodeUse> older =
        Map.of("b", new MemberReport.NodeUse(10, 10, 4, true, 1, 50, 0, false, 999, 0));
    assertThat(BudgetLeader.acknowledged(held, newest, older)).containsEntry("b", 100.0);
  }

  @Test
  void membersJoiningAndLeavingMoveTheSharesAndTheyAlwaysAddUpToTheLimit() throws Exception {
    Consumer a = consumer("a", 0);
    consumer("b", 0);
    Consumer c = consumer("c", 0);
    register(a, 90);
    // A share given up is handed on only once the last second's larger ones have aged out.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                table()
                    .map(
                        t ->
                            t.shares().size() == 3
                                && t.shares().values().stream()
                                    .allMatch(x -> x.equals(new Share(30, 2))))
                    .orElse(false));

    c.close();
    open.remove(c);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                table()
                    .map(
                        t ->
                            t.shares().keySet().equals(java.util.Set.of("a", "b"))
                                && t.shares().values().stream()
                                    .allMatch(x -> x.equals(new Share(45, 3))))
                    .orElse(false));

    consumer("d", 0);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> table().map(t -> t.shares().size() == 3).orElse(false));
  }

  @Test
  void whenTheLeaderDiesAnotherTakesOverAndCountsItOut() throws Exception {
    Consumer a = consumer("a", 0);
    Consumer b = consumer("b", 0);
    register(a, 60);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> table().map(t -> t.shares().size() == 2).orElse(false));
    Consumer leader = a.leader().isLeader() ? a : b;
    Consumer other = leader == a ? b : a;
    String leaderId = leader == a ? "a" : "b";
    String otherId = leader == a ? "b" : "a";
    if (leader == a) {
      // Keep the test's own view of the budgets alive: it rides on a's client.
      budgets = new Budgets(b.membership().client()).start();
    }
    leader.close();
    open.remove(leader);

    await().atMost(Duration.ofSeconds(10)).until(other.leader()::isLeader);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                table()
                    .map(
                        t ->
                            t.leader().equals(otherId)
                                && t.shares().keySet().equals(java.util.Set.of(otherId))
                                // The dead leader's share is handed on once a second old.
                                && t.shares().get(otherId).equals(new Share(60, 6)))
                    .orElse(false));
    assertThat(table().orElseThrow().shares().get(otherId)).isEqualTo(new Share(60, 6));
    assertThat(table().orElseThrow().shares()).doesNotContainKey(leaderId);
  }

  @Test
  void aLeaderWhoseSessionExpiresGivesUpLeadershipAndTheSharesStayWhole() throws Exception {
    Consumer a = consumer("a", 0);
    Consumer b = consumer("b", 0);
    register(a, 100);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> table().map(t -> t.shares().size() == 2).orElse(false));
    Consumer leader = a.leader().isLeader() ? a : b;
    String leaderId = leader == a ? "a" : "b";
    leader
        .membership()
        .client()
        .getZookeeperClient()
        .getZooKeeper()
        .getTestable()
        .injectSessionExpiration();

    // Its latch node went with the session: the other consumer leads now, and once the expired
    // one is back on a new session both hold a share again.
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                !leader.leader().isLeader()
                    || !table().map(t -> t.leader().equals(leaderId)).orElse(true));
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                table()
                    .map(
                        t ->
                            t.shares().size() == 2
                                && t.shares().values().stream()
                                        .mapToDouble(Share::requestsPerSecond)
                                        .sum()
                                    >= 99)
                    .orElse(false));
    double total =
        table().orElseThrow().shares().values().stream()
            .mapToDouble(Share::requestsPerSecond)
            .sum();
    assertThat(total).isLessThanOrEqualTo(100).isGreaterThanOrEqualTo(99);
  }

  @Test
  void theBusierConsumerGetsTheLargerShare() throws Exception {
    Consumer a = consumer("a", 900);
    consumer("b", 100);
    register(a, 100);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> table().map(t -> t.shares().size() == 2).orElse(false));
    Map<String, Share> shares = table().orElseThrow().shares();
    assertThat(shares.get("a").requestsPerSecond())
        .isGreaterThan(4 * shares.get("b").requestsPerSecond());
  }
}
