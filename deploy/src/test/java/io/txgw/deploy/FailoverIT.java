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
import io.txgw.consumer.TxConsumer;
import io.txgw.consumer.nodes.NodePool;
import io.txgw.deploy.nodes.BcoinNode;
import io.txgw.loadgen.GatewayClient;
import io.txgw.loadgen.PayoutFactory;
import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operators' private-network crash test: three bcoin regtest nodes peered on loopback, each
 * holding the same wallet. During a batch the node the consumer is using is killed; payouts go on
 * through the others; the node is restarted, resyncs from its peers and returns to the rotation.
 * Nothing may be lost or paid twice.
 */
// Alone: a restarted bcoin resyncs hundreds of blocks while new ones come every 0.5 s, and on a
// machine shared with a second stack its sync has stood still.
@RunsAlone
class FailoverIT {
  private static final Logger log = LoggerFactory.getLogger(FailoverIT.class);

  private LocalStack stack;

  @BeforeEach
  void start() throws Exception {
    stack =
        LocalStack.start(
            new LocalStack.Options(0, 0, 300, Duration.ofMillis(500))
                .withBcoinNodes(3)
                .withLimits(LocalStack.Options.GENEROUS, new LocalStack.NodeLimits(40, 4)));
  }

  private static long heightOf(BcoinNode node) {
    try {
      return node.blockCount();
    } catch (Exception e) {
      return -1;
    }
  }

  @AfterEach
  void stop() {
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void killingTheNodeInUseMidBatchLosesAndDoublesNothingAndTheNodeRejoinsAfterResync()
      throws Exception {
    // Few outputs per transaction and a low node budget make the batch last long enough to
    // lose a node in the middle of it.
    TxConsumer consumer = stack.startConsumer("consumer-1", Map.of("TXGW_BTC_MAX_OUTPUTS", "4"));
    NodePool pool = consumer.pools().get(Chain.BTC);
    await().atMost(Duration.ofSeconds(30)).until(() -> pool.primaryName() != null);

    GatewayClient client = new GatewayClient(stack.gatewayUrl(), stack.apiKey());
    PayoutFactory factory = new PayoutFactory(new AddressCodec(BitcoinNetwork.BCOIN_REGTEST), 41);
    List<PayoutLine> first =
        factory.payouts(
            Chain.BTC, "f", 240, BigInteger.valueOf(1_000), BigInteger.valueOf(2_000_000));
    assertThat(
            client
                .postBatch(new BatchSubmission("failover-1", "BTC", BcoinNode.WALLET, first))
                .status())
        .isEqualTo(202);

    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> Pending.of(client, Map.of("failover-1", first)) < first.size() * 3 / 4);
    String victim = pool.primaryName();
    BcoinNode.Spec spec =
        stack.bcoins().stream()
            .filter(b -> b.name().equals(victim))
            .findFirst()
            .orElseThrow()
            .spec();
    int left = Pending.of(client, Map.of("failover-1", first));
    log.info("killing {} with {} payouts left", victim, left);
    stack.killBcoin(victim);
    assertThat(left).isPositive();

    await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(250))
        .until(() -> Pending.of(client, Map.of("failover-1", first)) == 0);
    // The last payouts may all have been sent before the kill: the pool leaves the dead node at
    // its next call or health check, whichever comes first, not necessarily before they finish.
    await().atMost(Duration.ofSeconds(10)).until(() -> !victim.equals(pool.primaryName()));

    BcoinNode restarted = stack.restartBcoin(spec);
    // In sync means within 3 blocks of the best while blocks come every 0.5 s, and the node has
    // just rescanned its wallet: a minute on a busy machine.
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> Boolean.TRUE.equals(pool.endpoints().get(victim).healthy()));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError(
          victim
              + " not back in rotation: at height "
              + restarted.blockCount()
              + ", the best "
              + stack.bcoins().stream().mapToLong(FailoverIT::heightOf).max().orElse(-1),
          e);
    }
    log.info("{} is back in rotation at height {}", victim, restarted.blockCount());

    List<PayoutLine> second =
        factory.payouts(
            Chain.BTC, "s", 40, BigInteger.valueOf(1_000), BigInteger.valueOf(2_000_000));
    assertThat(
            client
                .postBatch(new BatchSubmission("failover-2", "BTC", BcoinNode.WALLET, second))
                .status())
        .isEqualTo(202);
    await()
        .atMost(Duration.ofMinutes(1))
        .pollInterval(Duration.ofMillis(250))
        .until(() -> Pending.of(client, Map.of("failover-2", second)) == 0);

    // Every live node, the restarted one included, must show each payout exactly once.
    stack.bcoin().mine(1, stack.bcoin().newWalletAddress());
    long height = stack.bcoin().blockCount();
    for (BcoinNode node : stack.bcoins()) {
      // A node may drop an idle pooled connection: ask again rather than fail.
      await()
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptions()
          .until(() -> node.blockCount() >= height);
    }
    OnChainCheck chain = new OnChainCheck(stack);
    assertThat(chain.check(Chain.BTC, first)).isEmpty();
    assertThat(chain.check(Chain.BTC, second)).isEmpty();
    List<PayoutResult> results =
        TopicReader.readAll(stack.kafkaBootstrap(), Topics.RESULTS, PayoutResult.class).stream()
            .map(ConsumerRecord::value)
            .toList();
    Pending.assertEachBroadcastOnceThenConfirmed(results, first.size() + second.size());
  }
}
