package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.txgw.cli.Txgw;
import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.budget.BudgetTable;
import io.txgw.common.budget.Share;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Chain;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.PayoutLine;
import io.txgw.coordinator.budget.Budgets;
import io.txgw.coordinator.control.Controls;
import io.txgw.coordinator.nodes.NodeRegistry;
import io.txgw.coordinator.zk.ZkAcls;
import io.txgw.coordinator.zk.ZkClients;
import io.txgw.deploy.infra.ConsumerGroups;
import io.txgw.deploy.infra.ConsumerProcess;
import io.txgw.deploy.infra.CountingProxy;
import io.txgw.loadgen.GatewayClient;
import io.txgw.loadgen.PayoutFactory;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.retry.RetryOneTime;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Three consumer processes share one anvil node whose registered budget is 200 requests/s. A
 * counting proxy in front of anvil sees every call any of them makes, so the node's view of the
 * rate is measured outside the consumers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@RunsAlone
class BudgetIT {
  private static final Logger log = LoggerFactory.getLogger(BudgetIT.class);
  private static final double BUDGET = 200;
  private static final long SECOND = 1_000_000_000L;

  /** No Bitcoin payouts here: the regtest miner would only take CPU from the measured nodes. */
  private static final Duration NO_BITCOIN_BLOCKS = Duration.ofHours(1);

  private LocalStack stack;
  private CountingProxy proxy;
  private Budgets budgets;
  private final List<ConsumerProcess> consumers = new ArrayList<>();
  private final PayoutFactory factory =
      new PayoutFactory(new AddressCodec(BitcoinNetwork.BCOIN_REGTEST), 23);
  private GatewayClient client;

  @BeforeAll
  void start() throws Exception {
    stack =
        LocalStack.start(
            new LocalStack.Options(0, 0, 200, NO_BITCOIN_BLOCKS)
                .withLimits(null, LocalStack.Options.GENEROUS));
    proxy = new CountingProxy(stack.anvil().rpcUrl());
    stack.registerAnvil(proxy.url(), new LocalStack.NodeLimits(BUDGET, 8));
    budgets = new Budgets(stack.zk()).start();
    for (int i = 1; i <= 3; i++) {
      ConsumerProcess c =
          new ConsumerProcess("consumer-" + i, stack.consumerEnv("consumer-" + i), stack.workDir());
      consumers.add(c.start());
    }
    client = new GatewayClient(stack.gatewayUrl(), stack.apiKey());
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> budgets.table(Chain.ETH, "anvil").map(t -> t.shares().size() == 3).orElse(false));
    // The measurement starts once the Kafka group has settled: a rebalance is not a throttle.
    ConsumerGroups.awaitStable(stack.kafkaBootstrap(), "txgw-payouts", 3, Duration.ofSeconds(60));
  }

  @AfterAll
  void stop() {
    consumers.forEach(ConsumerProcess::close);
    if (budgets != null) {
      budgets.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  @Order(1)
  void threeConsumersKeepTheNodeAtItsBudgetAndADeadOnesShareMovesWithinTenSeconds()
      throws Exception {
    // Enough for every consumer to have work through the whole steady window even when the six
    // accounts fall unevenly on the partitions: a consumer that runs dry mid-window leaves its
    // share idle until the leader's next table (under a second), which is not what is measured.
    // Warmed up first on the same accounts: what is measured is the budget shared under a
    // backlog, not three cold JVMs compiling their first rounds (on a slow day the node saw 17,
    // 40 and 86 calls in the window's first seconds that way).
    Map<String, List<PayoutLine>> warmUp = batches("budget-warm-", "w", 0, 6, 40);
    post(warmUp, 0);
    await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> Pending.of(client, warmUp) == 0);
    // 1,200 at five to six node calls each (sends, receipts, the confirmations: 6,835 calls from
    // the post to the last on 2026-12-01): the 14 s to the kill use about 40% of them, and a
    // consumer left with one account's 200 still has work through the window at its share.
    Map<String, List<PayoutLine>> batches = batches("budget-", "b", 0, 6, 200);
    long t0 = proxy.now();
    post(batches, 0);

    // Measure the steady state before any consumer dies: from the moment every consumer has a
    // backlog-weighted share and work, for ten seconds.
    long steadyFrom = t0 + 4 * SECOND;
    long killAt = steadyFrom + 10 * SECOND;
    // Counted half a second after the window: a call that arrived just before its end may not
    // be noted yet, and the last second read about a third short.
    await().atMost(Duration.ofSeconds(60)).until(() -> proxy.now() >= killAt + SECOND / 2);
    int steadyCalls = proxy.countBetween(steadyFrom, killAt);
    double sustained = steadyCalls / 10.0;
    log.info(
        "node-observed rate under backlog: {} req/s against a budget of {} ({} per second)",
        sustained,
        BUDGET,
        proxy.perSecond(steadyFrom, killAt));
    log.info(
        "shares at the end of the steady window: {}",
        budgets.table(Chain.ETH, "anvil").map(BudgetTable::shares).orElse(Map.of()));
    assertThat(Pending.of(client, batches))
        .as("backlog left when the steady window ends")
        .isPositive();

    ConsumerProcess victim = consumers.get(2);
    log.info(
        "killing consumer-3; the budget leader is {}",
        budgets.table(Chain.ETH, "anvil").map(BudgetTable::leader).orElse("unknown"));
    victim.kill();
    long killedAt = System.nanoTime();
    // Each table seen after the kill, with its age then: which step of the move was late, should
    // it take longer than the ten seconds (the session's end, the leader's, the held second).
    List<String> seen = new ArrayList<>();
    try {
      await()
          .atMost(Duration.ofSeconds(10))
          .pollInterval(Duration.ofMillis(100))
          .until(
              () ->
                  budgets
                      .table(Chain.ETH, "anvil")
                      .map(
                          t -> {
                            String line =
                                "leader " + t.leader() + " computed " + t.computedAtMillis();
                            if (seen.isEmpty() || !seen.get(seen.size() - 1).startsWith(line)) {
                              seen.add(
                                  line
                                      + ", seen "
                                      + (System.nanoTime() - killedAt) / 1_000_000
                                      + " ms after the kill: "
                                      + t.shares());
                            }
                            return !t.shares().containsKey("consumer-3")
                                && t.shares().size() == 2
                                // Handed on whole once its last calls are a second old.
                                && t.shares().values().stream()
                                        .mapToDouble(Share::requestsPerSecond)
                                        .sum()
                                    >= BUDGET * 0.99;
                          })
                      .orElse(false));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      seen.forEach(line -> log.info("budget table after the kill: {}", line));
      StackLogs.logConsumerWarnings(stack);
      throw e;
    }
    double moved = (System.nanoTime() - killedAt) / 1e9;
    BudgetTable after = budgets.table(Chain.ETH, "anvil").orElseThrow();
    double total = after.shares().values().stream().mapToDouble(Share::requestsPerSecond).sum();
    log.info("share of the killed consumer moved in {} s; shares now {}", moved, after.shares());

    await()
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> Pending.of(client, batches) == 0);
    long end = proxy.now();
    int worst = proxy.maxInWindow(Duration.ofSeconds(1), t0, end);
    log.info(
        "busiest 1-second window at the node: {} calls (budget {}); per second from the post: {}",
        worst,
        BUDGET,
        proxy.perSecond(t0, end));

    assertThat(worst)
        .as("calls in the busiest 1-second window")
        .isLessThanOrEqualTo((int) (BUDGET * 1.05));
    // A floor that says the budget is used (a share stuck at nothing, or consumers that stop
    // asking, fall far below it), not how well: the figure itself (0.97-0.99 of the budget) is
    // measured by benchmarks/run.sh budget. Here three consumer JVMs, the broker, the gateway and
    // anvil share two cores, and on a slow night the window read 0.78 while the consumers' first
    // rounds still ramped up (95, 163, 128, ... 190 calls a second), against 0.94 that evening.
    assertThat(sustained)
        .as("sustained node rate under backlog")
        .isGreaterThanOrEqualTo(BUDGET * 0.60);
    assertThat(total).isGreaterThanOrEqualTo(BUDGET * 0.99);
    assertExactlyOnce(batches);
    assertExactlyOnce(warmUp);
    victim.start();
  }

  @Test
  @Order(2)
  void aPausedChainGetsNoNodeCallAfterOneSecondAndResumingFinishesTheBatch() throws Exception {
    // Enough that the pause lands while most wait: 600 at five to six node calls each take the
    // consumers some 15-20 s at the budget, and reading the batches' counts takes a while on a
    // busy machine.
    Map<String, List<PayoutLine>> batches = batches("pause-", "p", 6, 8, 300);
    post(batches, 6);
    int total = batches.values().stream().mapToInt(List::size).sum();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> Pending.of(client, batches) < total);

    assertThat(cli("pause", "--chain", "ETH", "--reason", "test")).isZero();
    long pausedAt = proxy.now();
    long quietFrom = pausedAt + SECOND;
    long quietTo = pausedAt + 4 * SECOND;
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.now() >= quietTo);
    int duringPause = proxy.countBetween(quietFrom, quietTo);
    int stillPending = Pending.of(client, batches);
    log.info(
        "calls in the first second of the pause: {}; from 1 s to 4 s: {}",
        proxy.countBetween(pausedAt, quietFrom),
        duringPause);
    assertThat(duringPause).as("node calls from 1 s after the pause").isZero();
    assertThat(stillPending).as("payouts left while paused").isPositive();

    StringWriter budgetsOut = new StringWriter();
    assertThat(
            Txgw.run(
                new PrintWriter(budgetsOut, true),
                new PrintWriter(new StringWriter()),
                withStack("budgets")))
        .isZero();
    assertThat(budgetsOut.toString()).contains("paused: [ETH]", "ETH/anvil", "consumer-1");

    assertThat(cli("resume", "--chain", "ETH")).isZero();
    await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> Pending.of(client, batches) == 0);
    assertExactlyOnce(batches);
  }

  @Test
  @Order(3)
  void everyZnodeTheStackMadeIsClosedToClientsWithoutItsIdentity() throws Exception {
    // Consumers in their own JVMs, the gateway, the command line and the stack all wrote here.
    assertThat(ZkAcls.differing(stack.zk(), stack.zkClients().acl(), Set.of(), 100)).isEmpty();
    assertThat(stack.zk().getChildren().forPath("/txgw/members/consumers")).isNotEmpty();
    try (CuratorFramework anonymous =
        ZkClients.open(stack.zooKeeperConnect()).newClient(10_000, 5_000, new RetryOneTime(100))) {
      anonymous.start();
      assertThat(anonymous.blockUntilConnected(10, TimeUnit.SECONDS)).isTrue();
      assertThatThrownBy(() -> anonymous.getChildren().forPath(NodeRegistry.ROOT + "/ETH"))
          .isInstanceOf(KeeperException.NoAuthException.class);
      assertThatThrownBy(() -> anonymous.create().forPath(NodeRegistry.ROOT + "/ETH/evil"))
          .isInstanceOf(KeeperException.NoAuthException.class);
      assertThatThrownBy(() -> anonymous.create().forPath(Controls.ROOT + "/ALL"))
          .isInstanceOf(KeeperException.NoAuthException.class);
    }
  }

  private String[] withStack(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(stack.zkCliArgs());
    return all.toArray(String[]::new);
  }

  private int cli(String... args) {
    StringWriter err = new StringWriter();
    int code =
        Txgw.run(new PrintWriter(new StringWriter()), new PrintWriter(err, true), withStack(args));
    assertThat(err.toString()).isEmpty();
    return code;
  }

  /** A batch of {@code each} ETH payouts per account from {@code from} up to {@code to}. */
  private Map<String, List<PayoutLine>> batches(
      String batchPrefix, String idPrefix, int from, int to, int each) {
    Map<String, List<PayoutLine>> batches = new LinkedHashMap<>();
    for (int a = from; a < to; a++) {
      batches.put(
          batchPrefix + a,
          factory.payouts(
              Chain.ETH, idPrefix + a, each, BigInteger.ONE, new BigInteger("1000000000000000")));
    }
    return batches;
  }

  private void post(Map<String, List<PayoutLine>> batches, int firstAccount) throws Exception {
    AddressCodec codec = new AddressCodec(BitcoinNetwork.BCOIN_REGTEST);
    int account = firstAccount;
    for (var batch : batches.entrySet()) {
      String source =
          codec.decode(Chain.ETH, stack.anvil().accounts().get(account++)).address().value();
      assertThat(
              client
                  .postBatch(new BatchSubmission(batch.getKey(), "ETH", source, batch.getValue()))
                  .status())
          .isEqualTo(202);
    }
  }

  private void assertExactlyOnce(Map<String, List<PayoutLine>> batches) throws Exception {
    OnChainCheck chain = new OnChainCheck(stack);
    for (List<PayoutLine> payouts : batches.values()) {
      assertThat(chain.check(Chain.ETH, payouts)).isEmpty();
    }
    Pending.assertEachBroadcastOnceThenConfirmed(
        TopicReader.readAll(stack.kafkaBootstrap(), Topics.RESULTS, PayoutResult.class).stream()
            .map(ConsumerRecord::value)
            .filter(r -> batches.containsKey(r.batchId()))
            .toList(),
        batches.values().stream().mapToInt(List::size).sum());
  }
}
