package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Chain;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.model.PayoutStatus;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.PayoutLine;
import io.txgw.deploy.nodes.BcoinNode;
import io.txgw.loadgen.GatewayClient;
import io.txgw.loadgen.PayoutFactory;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Payouts followed past the mempool on real nodes: blocks taken back by anvil's {@code anvil_reorg}
 * and bcoin's {@code invalidateblock}, a transaction dropped from anvil's pool. The test mines the
 * blocks itself (anvil's interval mining off, the bcoin miner idle), so that a payout's block is
 * reorganised away before it is deep enough. After each, every recipient holds exactly its amount
 * and the results say what the client saw: BROADCAST, REORGED, BROADCAST again with the same txid,
 * CONFIRMED once.
 */
class FinalityIT {
  /** Deeper than the local stack's, so that the test's own blocks decide when it is reached. */
  private static final int DEPTH = 4;

  private static LocalStack stack;
  private static GatewayClient client;
  private static PayoutFactory factory;

  @BeforeAll
  static void startStack() throws Exception {
    stack = LocalStack.start(new LocalStack.Options(0, 0, 400, Duration.ofHours(1)));
    stack.startConsumer(
        "consumer-1",
        Map.of(
            "TXGW_ETH_CONFIRMATIONS", Integer.toString(DEPTH),
            "TXGW_BTC_CONFIRMATIONS", Integer.toString(DEPTH)));
    client = new GatewayClient(stack.gatewayUrl(), stack.apiKey());
    factory = new PayoutFactory(new AddressCodec(BitcoinNetwork.BCOIN_REGTEST), 14);
    // Each transaction is mined as it arrives; no other block comes unless asked for. (Interval
    // mining off leaves anvil mining nothing at all until automine is asked for again.)
    stack.anvil().rpc().call("evm_setIntervalMining", 0);
    stack.anvil().rpc().call("evm_setAutomine", true);
  }

  @AfterAll
  static void stopStack() {
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void anEthereumPayoutReorganisedAwayIsBroadcastAgainAndConfirmedOnce() throws Exception {
    List<PayoutLine> lines =
        factory.payouts(Chain.ETH, "reorg", 3, BigInteger.ONE, new BigInteger("10000000000000000"));
    post("eth-reorg", Chain.ETH, stack.ethSource(), lines);
    Demo.awaitHandled(client, "eth-reorg", 3, Duration.ofMinutes(1));
    assertThat(counts("eth-reorg").path("BROADCAST").asInt()).isEqualTo(3);

    // The three blocks that hold them are replaced by three empty ones: anvil forgets the
    // transactions, the accounts' nonces go back.
    stack.anvil().rpc().call("anvil_reorg", 3, List.of());
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> history(lines).values().stream().allMatch(h -> h.size() >= 3));
    mineEth(DEPTH);
    Demo.awaitFinal(client, "eth-reorg", 3, Duration.ofMinutes(1));

    assertThat(new OnChainCheck(stack).check(Chain.ETH, lines)).isEmpty();
    assertThat(history(lines).values()).allSatisfy(FinalityIT::broadcastReorgedBroadcastConfirmed);
  }

  @Test
  void anEthereumTransactionDroppedFromThePoolIsBroadcastAgainFromItsJournaledBytes()
      throws Exception {
    stack.anvil().rpc().call("evm_setAutomine", false);
    List<PayoutLine> lines =
        factory.payouts(Chain.ETH, "drop", 2, BigInteger.ONE, new BigInteger("10000000000000000"));
    String source = stack.ethAccount(2);
    try {
      post("eth-drop", Chain.ETH, source, lines);
      List<String> pooled = new ArrayList<>();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                pooled.clear();
                pooled.addAll(pooledFrom(source));
                return pooled.size() == 2;
              });
      for (String txid : pooled) {
        stack.anvil().rpc().call("anvil_dropTransaction", txid);
      }
      assertThat(pooledFrom(source)).isEmpty();
      // The consumer sends the same bytes again while they are not mined.
      await().atMost(Duration.ofSeconds(30)).until(() -> pooledFrom(source).size() == 2);
      assertThat(pooledFrom(source)).containsExactlyInAnyOrderElementsOf(pooled);
    } finally {
      stack.anvil().rpc().call("evm_setAutomine", true);
    }
    mineEth(DEPTH);
    Demo.awaitFinal(client, "eth-drop", 2, Duration.ofMinutes(1));

    assertThat(new OnChainCheck(stack).check(Chain.ETH, lines)).isEmpty();
    assertThat(history(lines).values())
        .allSatisfy(
            h ->
                assertThat(h)
                    .extracting(PayoutResult::status)
                    .containsExactly(PayoutStatus.BROADCAST, PayoutStatus.CONFIRMED));
  }

  @Test
  void aBitcoinBlockInvalidatedWithPayoutsInItIsFollowedToTheBlockThatReplacesIt()
      throws Exception {
    BcoinNode bcoin = stack.bcoin();
    List<PayoutLine> lines =
        factory.payouts(
            Chain.BTC, "inval", 4, BigInteger.valueOf(10_000), BigInteger.valueOf(90_000));
    post("btc-reorg", Chain.BTC, BcoinNode.WALLET, lines);
    Demo.awaitHandled(client, "btc-reorg", 4, Duration.ofMinutes(1));
    String miner = bcoin.newWalletAddress();
    bcoin.mine(1, miner);
    String block = bcoin.nodeRpc().call("getbestblockhash").asText();
    // Seen in its block by the tracker before the block goes.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> bcoin.nodeRpc().call("getblockcount").asLong() > 0 && seenInBlock(lines));

    bcoin.nodeRpc().call("invalidateblock", block);
    bcoin.mine(1, miner);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> history(lines).values().stream().allMatch(h -> h.size() >= 3));
    bcoin.mine(DEPTH, miner);
    Demo.awaitFinal(client, "btc-reorg", 4, Duration.ofMinutes(1));

    assertThat(new OnChainCheck(stack).check(Chain.BTC, lines)).isEmpty();
    assertThat(history(lines).values()).allSatisfy(FinalityIT::broadcastReorgedBroadcastConfirmed);
  }

  private static void broadcastReorgedBroadcastConfirmed(List<PayoutResult> h) {
    assertThat(h)
        .extracting(PayoutResult::status)
        .containsExactly(
            PayoutStatus.BROADCAST,
            PayoutStatus.REORGED,
            PayoutStatus.BROADCAST,
            PayoutStatus.CONFIRMED);
    assertThat(h).extracting(PayoutResult::txid).containsOnly(h.get(0).txid());
  }

  /** True once the tracker has journaled a block for the batch's transaction. */
  private static boolean seenInBlock(List<PayoutLine> lines) {
    return TopicReader.readAll(
            stack.kafkaBootstrap(), Topics.JOURNAL, io.txgw.common.model.JournalEntry.class)
        .stream()
        .map(ConsumerRecord::value)
        .filter(e -> e != null && e.blockHash() != null)
        .anyMatch(e -> e.payouts().stream().anyMatch(i -> i.payoutId().equals(lines.get(0).id())));
  }

  private static void post(String batchId, Chain chain, String source, List<PayoutLine> lines)
      throws Exception {
    GatewayClient.Answer answer =
        client.postBatch(new BatchSubmission(batchId, chain.name(), source, lines));
    assertThat(answer.status()).isEqualTo(202);
  }

  private static JsonNode counts(String batchId) throws Exception {
    return client.batch(batchId).body().path("counts");
  }

  private static void mineEth(int blocks) throws Exception {
    stack.anvil().rpc().call("anvil_mine", "0x" + Integer.toHexString(blocks));
  }

  /** The transactions from {@code source} in anvil's pool. */
  private static List<String> pooledFrom(String source) throws Exception {
    JsonNode pending = stack.anvil().rpc().call("eth_getBlockByNumber", "pending", true);
    List<String> out = new ArrayList<>();
    for (JsonNode tx : pending.path("transactions")) {
      if (tx.path("from").asText().equalsIgnoreCase(source)) {
        out.add(tx.path("hash").asText());
      }
    }
    return out;
  }

  /** Each payout's results in the order they were recorded. */
  private static Map<String, List<PayoutResult>> history(List<PayoutLine> lines) {
    return ResultHistory.of(stack, lines);
  }
}
