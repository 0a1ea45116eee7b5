package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Chain;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.PayoutLine;
import io.txgw.deploy.infra.ConsumerProcess;
import io.txgw.deploy.nodes.BcoinNode;
import io.txgw.loadgen.GatewayClient;
import io.txgw.loadgen.PayoutFactory;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Three consumers in their own JVMs pay 2,500 payouts while one of them, picked at random, is
 * killed with SIGKILL every few seconds and restarted: ether from two accounts and the test token
 * from one, a hundred to a call of the multi-send contract, and Bitcoin. At the end the chain
 * itself must show every payout paid exactly once (each token recipient's {@code balanceOf}), and
 * the results topic one final result per payout.
 */
class CrashIT {
  private static final Logger log = LoggerFactory.getLogger(CrashIT.class);
  private static final Duration DEADLINE = Duration.ofMinutes(6);
  private static final String[] FAULTS = {
    "after-journal:2", "after-broadcast:3", "after-journal:4"
  };

  private LocalStack stack;
  private final List<ConsumerProcess> consumers = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    stack =
        LocalStack.start(new LocalStack.Options(0, 0, 400, Duration.ofMillis(500)).withMultiSend());
    for (int i = 1; i <= 3; i++) {
      Map<String, String> env = new java.util.HashMap<>(stack.consumerEnv("consumer-" + i));
      // Small Bitcoin transactions: more of them, so more kills land in the middle of one.
      env.put("TXGW_BTC_MAX_OUTPUTS", "10");
      // Each first start also dies by itself at a chosen point of a round, as a power cut would:
      // right after a journal commit, or after a broadcast and before its results are recorded.
      consumers.add(
          new ConsumerProcess("consumer-" + i, env, stack.workDir())
              .start(Map.of("TXGW_FAULT_HALT", FAULTS[i - 1])));
    }
  }

  @AfterEach
  void stop() {
    consumers.forEach(ConsumerProcess::close);
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void everyPayoutIsPaidExactlyOnceWhileConsumersAreKilledAtRandom() throws Exception {
    GatewayClient client = new GatewayClient(stack.gatewayUrl(), stack.apiKey());
    PayoutFactory factory = new PayoutFactory(new AddressCodec(BitcoinNetwork.BCOIN_REGTEST), 7);
    String ethA = stack.ethSource();
    String ethB = stack.anvil().accounts().get(1);
    Map<String, List<PayoutLine>> batches = new java.util.LinkedHashMap<>();
    batches.put(
        "crash-eth-a",
        factory.payouts(
            Chain.ETH, "ca", 500, BigInteger.ONE, new BigInteger("900000000000000000")));
    batches.put(
        "crash-eth-b",
        factory.payouts(
            Chain.ETH, "cb", 500, BigInteger.ONE, new BigInteger("900000000000000000")));
    batches.put(
        "crash-tusd",
        factory.payouts(Chain.ETH, "ct", 500, BigInteger.ONE, BigInteger.valueOf(900_000_000), 6));
    batches.put(
        "crash-btc",
        factory.payouts(
            Chain.BTC, "cc", 1000, BigInteger.valueOf(1_000), BigInteger.valueOf(2_000_000)));
    assertThat(
            client
                .postBatch(
                    new BatchSubmission("crash-eth-a", "ETH", ethA, batches.get("crash-eth-a")))
                .status())
        .isEqualTo(202);
    assertThat(
            client
                .postBatch(
                    new BatchSubmission("crash-eth-b", "ETH", ethB, batches.get("crash-eth-b")))
                .status())
        .isEqualTo(202);
    assertThat(
            client
                .postBatch(
                    new BatchSubmission(
                        "crash-tusd",
                        "ETH",
                        ethA,
                        batches.get("crash-tusd"),
                        LocalStack.TOKEN_SYMBOL))
                .status())
        .isEqualTo(202);
    assertThat(
            client
                .postBatch(
                    new BatchSubmission(
                        "crash-btc", "BTC", BcoinNode.WALLET, batches.get("crash-btc")))
                .status())
        .isEqualTo(202);

    Random random = new Random(11);
    int kills = 0;
    int halts = 0;
    // Each consumer's fault point, until it has struck: a consumer killed before it got there is
    // started again with it, or a busy machine's slow first rounds could leave no halt at all.
    Map<ConsumerProcess, String> armed = new java.util.HashMap<>();
    for (int i = 0; i < consumers.size(); i++) {
      armed.put(consumers.get(i), FAULTS[i]);
    }
    long firstKillAt = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (Pending.of(client, batches) > 0) {
      if (System.nanoTime() > deadline) {
        StackLogs.logConsumerWarnings(stack);
        StackLogs.logAnvilState(stack);
        throw new AssertionError(
            Pending.of(client, batches)
                + " payouts still pending after "
                + DEADLINE
                + " and "
                + kills
                + " kills; per batch "
                + pendingPerBatch(client, batches));
      }
      // Kill one at random every 0.5-2 s, and restart it at once with the same id.
      long pause = 500 + random.nextInt(1_500);
      long until = System.nanoTime() + pause * 1_000_000;
      await()
          .atMost(Duration.ofMillis(pause + 5_000))
          .pollInterval(Duration.ofMillis(250))
          .until(() -> System.nanoTime() >= until || Pending.of(client, batches) == 0);
      for (ConsumerProcess c : consumers) {
        if (!c.isAlive()) {
          log.info("{} halted at its fault point; starting it again", c);
          armed.remove(c);
          c.start();
          halts++;
        }
      }
      // Kills start once a fault point has struck, so that they cannot prevent it.
      boolean killing = halts > 0 || System.nanoTime() > firstKillAt;
      if (killing && Pending.of(client, batches) > 0 && kills < 12) {
        // Mostly the one broadcasting right now: killed between journal and record, its
        // successor must finish from the journal. Sometimes any one, wherever it stands.
        ConsumerProcess victim =
            random.nextInt(4) == 0
                ? consumers.get(random.nextInt(consumers.size()))
                : busiest(random);
        log.info("kill -9 {} (pid {})", victim, victim.pid());
        victim.kill();
        String fault = armed.get(victim);
        victim.start(fault == null ? Map.of() : Map.of("TXGW_FAULT_HALT", fault));
        kills++;
      }
    }
    log.info(
        "all payouts handled after {} kills, {} halts; {} recoveries", kills, halts, recoveries());

    stack.bcoin().mine(1, stack.bcoin().newWalletAddress());
    OnChainCheck chain = new OnChainCheck(stack);
    assertThat(chain.check(Chain.ETH, batches.get("crash-eth-a"))).isEmpty();
    assertThat(chain.check(Chain.ETH, batches.get("crash-eth-b"))).isEmpty();
    assertThat(chain.checkToken(batches.get("crash-tusd"))).isEmpty();
    assertThat(chain.check(Chain.BTC, batches.get("crash-btc"))).isEmpty();

    List<PayoutResult> results =
        TopicReader.readAll(stack.kafkaBootstrap(), Topics.RESULTS, PayoutResult.class).stream()
            .map(ConsumerRecord::value)
            .toList();
    // Killed while units waited for their depth too: each still said BROADCAST once, CONFIRMED
    // once.
    Pending.assertEachBroadcastOnceThenConfirmed(results, 2500);
    assertThat(kills).isGreaterThanOrEqualTo(1);
    // A consumer halted right after a journal commit left units only the journal knew of.
    assertThat(recoveries()).isGreaterThanOrEqualTo(1);
  }

  /** Each batch's payouts not final yet. */
  private static Map<String, Integer> pendingPerBatch(
      GatewayClient client, Map<String, List<PayoutLine>> batches) throws Exception {
    Map<String, Integer> out = new java.util.LinkedHashMap<>();
    for (String batch : batches.keySet()) {
      out.put(batch, Pending.of(client, Map.of(batch, batches.get(batch))));
    }
    return out;
  }

  /** The consumer whose log shows the latest broadcast (each broadcast is logged). */
  private ConsumerProcess busiest(Random random) throws java.io.IOException {
    ConsumerProcess busiest = consumers.get(random.nextInt(consumers.size()));
    String latest = "";
    for (ConsumerProcess c : consumers) {
      try (var logs = java.nio.file.Files.list(stack.workDir())) {
        for (var file : logs.filter(f -> f.getFileName().toString().startsWith(c + "-")).toList()) {
          for (String line : java.nio.file.Files.readAllLines(file)) {
            if (line.contains("broadcasting ") && line.compareTo(latest) > 0) {
              latest = line;
              busiest = c;
            }
          }
        }
      }
    }
    return busiest;
  }

  /** How often a consumer found journaled units to re-broadcast, from the consumers' logs. */
  private long recoveries() throws java.io.IOException {
    long count = 0;
    try (var logs = java.nio.file.Files.list(stack.workDir())) {
      for (var file :
          logs.filter(f -> f.getFileName().toString().startsWith("consumer-")).toList()) {
        count +=
            java.nio.file.Files.readAllLines(file).stream()
                .filter(l -> l.contains("journaled units before new work"))
                .count();
      }
    }
    return count;
  }
}
