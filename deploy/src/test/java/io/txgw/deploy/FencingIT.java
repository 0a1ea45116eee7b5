package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.model.Chain;
import io.txgw.common.model.Payout;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.PayoutLine;
import io.txgw.deploy.infra.ConsumerProcess;
import io.txgw.loadgen.GatewayClient;
import io.txgw.loadgen.PayoutFactory;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The consumer paying an account is frozen with SIGSTOP, as in a long GC pause, past its group
 * session while it pays ether and test-token transfers from one account: one payout per
 * transaction, or ten to a call of the multi-send contract. The others take its partition over and
 * finish from its journal; when it runs again it rejoins, and the chain shows every payout paid
 * exactly once (each token recipient's {@code balanceOf}).
 */
class FencingIT {
  private LocalStack stack;
  private final List<ConsumerProcess> consumers = new ArrayList<>();

  private void start(LocalStack.Options options, Map<String, String> env) throws Exception {
    stack = LocalStack.start(options);
    for (int i = 1; i <= 3; i++) {
      Map<String, String> consumerEnv = new java.util.HashMap<>(stack.consumerEnv("consumer-" + i));
      consumerEnv.putAll(env);
      consumers.add(new ConsumerProcess("consumer-" + i, consumerEnv, stack.workDir()).start());
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
  void aConsumerFrozenPastItsSessionIsReplacedAndNothingIsPaidTwice() throws Exception {
    start(new LocalStack.Options(0, 0, 200, Duration.ofMillis(500)), Map.of());
    freezeTheOwnerWhilePaying(100);
  }

  @Test
  void aConsumerFrozenMidMultiSendIsReplacedAndNothingIsPaidTwice() throws Exception {
    // Ten payouts to a call: enough calls that the owner is frozen with some in flight.
    start(
        new LocalStack.Options(0, 0, 200, Duration.ofMillis(500)).withMultiSend(),
        Map.of("TXGW_ETH_MULTISEND_MAX", "10"));
    freezeTheOwnerWhilePaying(10);
  }

  /** Freezes the account's owner once its log shows it sent {@code sends} transactions. */
  private void freezeTheOwnerWhilePaying(int sends) throws Exception {
    // All three own partitions before the payouts come, so the owner found below stays the owner.
    await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptionsInstanceOf(java.util.concurrent.ExecutionException.class)
        .until(() -> stableMembers() == 3 && assignedLogs() == 3);
    GatewayClient client = new GatewayClient(stack.gatewayUrl(), stack.apiKey());
    PayoutFactory factory = new PayoutFactory(new AddressCodec(BitcoinNetwork.BCOIN_REGTEST), 5);
    List<PayoutLine> lines =
        factory.payouts(Chain.ETH, "fz", 600, BigInteger.ONE, new BigInteger("100000000000000000"));
    // The test token from the same account, one transfer each: one nonce sequence for both kinds,
    // which the new owner carries on from the frozen one's last ether sends into the tokens.
    List<PayoutLine> tokens =
        factory.payouts(Chain.ETH, "fzt", 120, BigInteger.ONE, BigInteger.valueOf(90_000_000), 6);
    assertThat(
            client
                .postBatch(new BatchSubmission("freeze", "ETH", stack.ethSource(), lines))
                .status())
        .isEqualTo(202);
    assertThat(
            client
                .postBatch(
                    new BatchSubmission(
                        "freeze-tusd", "ETH", stack.ethSource(), tokens, LocalStack.TOKEN_SYMBOL))
                .status())
        .isEqualTo(202);
    // Frozen as soon as its own log shows it sending, not when the status view shows it (which
    // can lag behind a fast owner): what it just sent waits for its depth, blocks two seconds
    // apart, so the next owner finds those units journaled and not settled.
    ConsumerProcess frozen =
        consumers.get(ownerOf(Payout.accountKey(Chain.ETH, stack.ethSource())));
    await().atMost(Duration.ofSeconds(60)).until(() -> broadcasts(frozen) > sends);
    frozen.freeze();
    try {
      Demo.awaitHandled(client, "freeze", lines.size(), Duration.ofMinutes(3));
      Demo.awaitHandled(client, "freeze-tusd", tokens.size(), Duration.ofMinutes(1));
    } catch (IllegalStateException e) {
      StackLogs.logConsumerWarnings(stack);
      StackLogs.logAnvilState(stack);
      throw e;
    }
    java.time.LocalTime thawedAt = java.time.LocalTime.now();
    frozen.thaw();

    // Running again, it rejoins the group; what it had started, the new owner has finished.
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptionsInstanceOf(java.util.concurrent.ExecutionException.class)
          .until(() -> stableMembers() == 3);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      // Which consumer is missing, and why: its process, and every consumer's last warnings.
      for (ConsumerProcess c : consumers) {
        org.slf4j.LoggerFactory.getLogger(FencingIT.class)
            .info("consumer pid {} alive: {}", c.pid(), c.isAlive());
      }
      StackLogs.logConsumerWarnings(stack);
      throw e;
    }
    List<PayoutLine> after =
        factory.payouts(
            Chain.ETH, "fz-after", 20, BigInteger.ONE, new BigInteger("1000000000000000"));
    assertThat(
            client
                .postBatch(new BatchSubmission("after-freeze", "ETH", stack.ethSource(), after))
                .status())
        .isEqualTo(202);
    try {
      Demo.awaitHandled(client, "after-freeze", after.size(), Duration.ofMinutes(1));
    } catch (IllegalStateException e) {
      StackLogs.logConsumerWarnings(stack);
      throw e;
    }

    assertThat(frozen.isAlive()).isTrue();
    // The frozen owner's journaled units were in flight: another consumer settled them.
    assertThat(takeoversOfJournaledUnits(frozen))
        .as("another consumer settling the frozen owner's journaled units")
        .isNotEmpty();
    assertThat(broadcastsBetweenThawAndRejoin(frozen, thawedAt)).isEmpty();
    OnChainCheck chain = new OnChainCheck(stack);
    assertThat(chain.check(Chain.ETH, lines)).isEmpty();
    assertThat(chain.checkToken(tokens)).isEmpty();
    assertThat(chain.check(Chain.ETH, after)).isEmpty();
  }

  /** The consumer whose latest assignment holds the account's partition, from its log. */
  private int ownerOf(String accountKey) throws Exception {
    int partition = partitionOf(accountKey);
    for (int i = 0; i < consumers.size(); i++) {
      List<String> log =
          Files.readAllLines(stack.workDir().resolve("consumer-" + (i + 1) + "-1.log"));
      String last =
          log.stream().filter(l -> l.contains("assigned [")).reduce((a, b) -> b).orElse("");
      if (last.matches(".*sendto-" + partition + "[,\\]].*")) {
        return i;
      }
    }
    throw new IllegalStateException("no consumer owns partition " + partition);
  }

  private long broadcasts(ConsumerProcess consumer) throws Exception {
    return Files.readAllLines(stack.workDir().resolve(consumer + "-1.log")).stream()
        .filter(l -> l.contains("broadcasting "))
        .count();
  }

  /** The log lines of the other consumers settling journaled units of the account's partition. */
  private List<String> takeoversOfJournaledUnits(ConsumerProcess frozen) throws Exception {
    int partition = partitionOf(Payout.accountKey(Chain.ETH, stack.ethSource()));
    List<String> found = new ArrayList<>();
    for (int i = 1; i <= consumers.size(); i++) {
      if (consumers.get(i - 1) == frozen) {
        continue;
      }
      for (String line : Files.readAllLines(stack.workDir().resolve("consumer-" + i + "-1.log"))) {
        if (line.contains("sendto-" + partition + ": settling")
            && line.contains("journaled units before new work")) {
          found.add(line);
        }
      }
    }
    return found;
  }

  private static int partitionOf(String accountKey) {
    return Utils.toPositive(Utils.murmur2(accountKey.getBytes(StandardCharsets.UTF_8))) % 6;
  }

  /**
   * What the thawed consumer broadcast after it ran again and before Kafka gave it an assignment
   * again: a zombie's broadcasts. Read from its log, which records each broadcast.
   */
  private List<String> broadcastsBetweenThawAndRejoin(
      ConsumerProcess frozen, java.time.LocalTime thawedAt) throws Exception {
    List<String> zombie = new ArrayList<>();
    List<String> log = Files.readAllLines(stack.workDir().resolve(frozen + "-1.log"));
    for (String line : log) {
      if (line.length() < 12 || !Character.isDigit(line.charAt(0))) {
        continue;
      }
      java.time.LocalTime at = java.time.LocalTime.parse(line.substring(0, 12));
      if (at.isBefore(thawedAt)) {
        continue;
      }
      if (line.contains("assigned [")) {
        break;
      }
      if (line.contains("broadcasting ")) {
        zombie.add(line);
      }
    }
    return zombie;
  }

  /** Members of the payout group once it is stable; 0 while it rebalances. */
  private int stableMembers() throws Exception {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrap()))) {
      var group =
          admin
              .describeConsumerGroups(List.of("txgw-payouts"))
              .all()
              .get(10, TimeUnit.SECONDS)
              .get("txgw-payouts");
      return group.groupState() == GroupState.STABLE ? group.members().size() : 0;
    }
  }

  private long assignedLogs() throws Exception {
    long n = 0;
    for (int i = 1; i <= consumers.size(); i++) {
      List<String> log = Files.readAllLines(stack.workDir().resolve("consumer-" + i + "-1.log"));
      n += log.stream().anyMatch(l -> l.contains("assigned [")) ? 1 : 0;
    }
    return n;
  }
}
