package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Chain;
import io.txgw.common.model.Payout;
import io.txgw.consumer.nodes.NodePool;
import io.txgw.coordinator.Membership;
import io.txgw.deploy.infra.ConsumerGroups;
import io.txgw.deploy.infra.KafkaCluster;
import io.txgw.deploy.infra.ZooKeeperEnsemble;
import io.txgw.deploy.nodes.BcoinNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The five fault drills on the local cluster (three Kafka nodes, three ZooKeeper servers, two
 * gateways, three consumers, anvil, three peered bcoin nodes), one after the other on one cluster.
 * Each posts its payouts around its fault (see {@link Drill}), and strikes where its payouts are:
 * the Kafka node leading their partition, the consumer paying them, the node they are sent to.
 * After each, and once more after the last, every payout is paid exactly once on chain, on {@code
 * sendto} once, and has its results once. In the suite each drill pays {@value #SHORT} payouts;
 * {@code deploy/run-drills.sh} runs them with 10,000 each ({@code -Dtxgw.drill.payouts=10000}).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@RunsAlone
class DrillsIT {
  static final int SHORT = 300;

  /** Longer than the consumers' Kafka group and ZooKeeper sessions (6 s each). */
  static final Duration CUT = Duration.ofSeconds(12);

  static final String GROUP = "txgw-payouts";

  static LocalStack stack;

  /** Every drill run, checked once more at the end: a late second payment shows then. */
  static final List<Drill> done = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    java.nio.file.Files.deleteIfExists(Drill.REPORT);
    stack = LocalStack.start(LocalStack.Options.localCluster());
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.close();
    }
  }

  /**
   * A consumer whose loop ended on a fatal error (its producer fenced when a transaction
   * coordinator moved, say) is started again before the next drill, as its supervisor would.
   */
  @org.junit.jupiter.api.BeforeEach
  void superviseConsumers() throws Exception {
    List<String> restarted = stack.restartStoppedConsumers();
    if (!restarted.isEmpty()) {
      System.out.println(
          "drill: consumers stopped and started again before the drill: " + restarted);
    }
  }

  static int payouts() {
    return Integer.getInteger("txgw.drill.payouts", SHORT);
  }

  static Drill drill(String name, String ethSource) {
    return new Drill(
        stack,
        name,
        payouts(),
        () -> List.of(stack.gatewayUrl(), stack.secondGateway().url()),
        ethSource);
  }

  /** Checks a drill's report, and keeps the drill for the check after the last. */
  static void assertExactlyOnce(Drill drill, Drill.Report report) {
    assertExactlyOnce(report);
    done.add(drill);
  }

  static void assertExactlyOnce(Drill.Report report) {
    assertThat(report.lost()).as("payouts lost").isZero();
    assertThat(report.paidTwice()).as("payouts paid twice or wrongly").isZero();
    assertThat(report.resultsWrong()).as("payouts without BROADCAST then CONFIRMED once").isZero();
    assertThat(report.sendtoWrong())
        .as("payouts missing from sendto, or on it twice though never answered in doubt")
        .isZero();
  }

  /** The {@code sendto} partition of a source account's payouts (they are keyed by account). */
  static int partitionOf(Chain chain, String source) throws Exception {
    byte[] key = Payout.accountKey(chain, source).getBytes(StandardCharsets.UTF_8);
    return Utils.toPositive(Utils.murmur2(key)) % stack.kafkaCluster().partitions(Topics.SENDTO);
  }

  /** The consumer (its id) that owns a {@code sendto} partition now. */
  static String ownerOf(int partition) throws Exception {
    try (Admin admin = stack.kafkaCluster().admin()) {
      ConsumerGroupDescription group =
          admin.describeConsumerGroups(List.of(GROUP)).all().get(30, TimeUnit.SECONDS).get(GROUP);
      for (MemberDescription m : group.members()) {
        if (m.assignment()
            .topicPartitions()
            .contains(new TopicPartition(Topics.SENDTO, partition))) {
          return m.clientId();
        }
      }
    }
    throw new IllegalStateException("nobody owns sendto-" + partition);
  }

  @Test
  @Order(1)
  void theBrokerLeadingThePayoutsPartitionKilledAndRestartedLosesAndDoublesNothing()
      throws Exception {
    KafkaCluster cluster = stack.kafkaCluster();
    int[] victim = new int[1];
    Drill drill = drill("broker", stack.ethSource());
    Drill.Report report =
        drill.run(
            new Drill.Fault() {
              @Override
              public void inject() throws Exception {
                victim[0] =
                    cluster.leaderOf(Topics.SENDTO, partitionOf(Chain.ETH, stack.ethSource()));
                cluster.kill(victim[0]);
              }

              @Override
              public void repair() {
                cluster.start(victim[0]);
              }

              @Override
              public boolean recovered() throws Exception {
                return cluster.fullyInSync(Topics.SENDTO)
                    && cluster.fullyInSync(Topics.JOURNAL)
                    && cluster.fullyInSync(Topics.RESULTS);
              }

              @Override
              public Duration hold() {
                return Duration.ofSeconds(10);
              }
            });
    assertExactlyOnce(drill, report);
    // Ingest goes on with acks=all while a node is down: two replicas of three still take writes.
    assertThat(report.batchesTakenDuringFault()).isPositive();
  }

  @Test
  @Order(2)
  void theZooKeeperLeaderKilledAndRestartedLosesAndDoublesNothing() throws Exception {
    ZooKeeperEnsemble ensemble = stack.zooKeeperEnsemble();
    int[] victim = new int[1];
    Drill drill = drill("zookeeper", stack.ethSource());
    Drill.Report report =
        drill.run(
            new Drill.Fault() {
              @Override
              public void inject() {
                victim[0] = ensemble.leader();
                ensemble.kill(victim[0]);
              }

              @Override
              public void repair() {
                ensemble.start(victim[0]);
              }

              @Override
              public boolean recovered() {
                return ensemble.fullyServing();
              }

              @Override
              public Duration hold() {
                return Duration.ofSeconds(10);
              }
            });
    assertExactlyOnce(drill, report);
  }

  @Test
  @Order(3)
  void aGatewayKilledWhileClientsPostLosesAndDoublesNothingAsTheyRetryTheOther() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    Drill drill = drill("gateway", stack.ethSource());
    Drill.Report report =
        drill.run(
            new Drill.Fault() {
              @Override
              public void inject() {
                stack.secondGateway().kill();
              }

              @Override
              public void repair() throws InterruptedException {
                stack.restartSecondGateway();
              }

              @Override
              public boolean recovered() throws Exception {
                HttpRequest ready =
                    HttpRequest.newBuilder(URI.create(stack.secondGateway().url() + "/readyz"))
                        .GET()
                        .build();
                return http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
              }
            });
    assertExactlyOnce(drill, report);
    assertThat(report.batchesTakenDuringFault()).isPositive();
    assertThat(report.retries())
        .as("batches posted to the dead gateway, then to the other")
        .isPositive();
  }

  @Test
  @Order(4)
  void aConsumerCutOffLongerThanItsSessionsAndReconnectedLosesAndDoublesNothing() throws Exception {
    String cut = "consumer-" + stack.options().consumers();
    ConsumerGroups.awaitStable(stack.kafkaBootstrap(), GROUP, 3, Duration.ofSeconds(60));
    // ETH payouts from an account whose partition the consumer to be cut off owns: it is paying
    // them when it loses Kafka and ZooKeeper.
    String source = null;
    for (int i = 0; i < 10 && source == null; i++) {
      String account = stack.ethAccount(i);
      if (cut.equals(ownerOf(partitionOf(Chain.ETH, account)))) {
        source = account;
      }
    }
    assertThat(source).as("an anvil account whose partition %s owns", cut).isNotNull();
    Drill drill = drill("consumer-cut", source);
    Drill.Report report =
        drill.run(
            new Drill.Fault() {
              @Override
              public void inject() {
                stack.cutOffProxiedConsumers();
              }

              @Override
              public void repair() {
                stack.reconnectProxiedConsumers();
              }

              @Override
              public boolean recovered() throws InterruptedException {
                ConsumerGroups.awaitStable(stack.kafkaBootstrap(), GROUP, 3, Duration.ofSeconds(5));
                return true;
              }

              @Override
              public Duration hold() {
                return CUT;
              }

              /** Out of both: its group membership and its ZooKeeper session are over. */
              @Override
              public void whileFaulty() throws Exception {
                ConsumerGroups.awaitStable(
                    stack.kafkaBootstrap(), GROUP, 2, Duration.ofSeconds(30));
                assertThat(stack.zk().getChildren().forPath(Membership.ROOT + "/consumers"))
                    .as("consumers in ZooKeeper while one is cut off")
                    .doesNotContain(cut);
              }
            });
    assertExactlyOnce(drill, report);
  }

  @Test
  @Order(5)
  void theChainNodeInUseStoppedAndStartedAgainLosesAndDoublesNothing() throws Exception {
    ConsumerGroups.awaitStable(stack.kafkaBootstrap(), GROUP, 3, Duration.ofSeconds(60));
    // The node the consumer paying the BTC payouts sends them to.
    String payer = ownerOf(partitionOf(Chain.BTC, BcoinNode.WALLET));
    NodePool pool = stack.consumer(payer).pools().get(Chain.BTC);
    BcoinNode.Spec[] victim = new BcoinNode.Spec[1];
    Drill drill = drill("chain-node", stack.ethSource());
    Drill.Report report =
        drill.run(
            new Drill.Fault() {
              @Override
              public void inject() {
                String name = pool.primaryName();
                victim[0] =
                    stack.bcoins().stream()
                        .filter(b -> b.name().equals(name))
                        .findFirst()
                        .orElseThrow()
                        .spec();
                // Stopped, not killed: a node killed -9 loses the blocks bcoin had not
                // flushed, and resyncing hundreds of them on a loaded machine stalls
                // ("peer is not reading"). FailoverIT kills the node in use -9.
                stack.stopBcoin(name);
              }

              @Override
              public void repair() throws InterruptedException {
                // Its resync is bcoin's own: on a loaded machine hundreds of blocks can
                // stall for minutes ("peer is not reading"); the pool keeps it out of
                // rotation until it is within reach of the best height.
                stack.restartBcoin(victim[0], false);
              }

              /**
               * Payouts go on through the pool's next node, and the restarted one answers again.
               * Its return to the rotation waits for bcoin's own resync, which is no part of txgw.
               */
              @Override
              public boolean recovered() throws Exception {
                return pool.primaryName() != null
                    && stack.bcoins().stream()
                            .filter(b -> b.name().equals(victim[0].name()))
                            .findFirst()
                            .orElseThrow()
                            .blockCount()
                        > 0;
              }

              @Override
              public Duration hold() {
                return Duration.ofSeconds(5);
              }
            });
    assertExactlyOnce(drill, report);
  }

  @Test
  @Order(6)
  void noDrillsPayoutIsPaidOrRecordedAgainAfterItsDrill() throws Exception {
    assertThat(done).isNotEmpty();
    for (Drill drill : done) {
      assertThat(drill.checkChain()).as("%s: lost, paid twice", drill.name()).containsExactly(0, 0);
      assertThat(drill.wrongResults()).as("%s: results", drill.name()).isZero();
      assertThat(drill.checkSendto().wrong()).as("%s: on sendto", drill.name()).isZero();
    }
  }
}
