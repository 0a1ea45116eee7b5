package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.model.Chain;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.model.PayoutStatus;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.PayoutLine;
import io.txgw.deploy.nodes.BcoinNode;
import io.txgw.loadgen.GatewayClient;
import io.txgw.loadgen.PayoutFactory;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Stuck Ethereum transactions on anvil: the test mines every block itself and raises the base fee
 * past what pooled payouts pay ({@code anvil_setNextBlockBaseFeePerGas}). The consumer replaces
 * them at their nonces with a higher gas price, journaled first; the replacement is mined once and
 * the client sees REPLACED with the new txid, then BROADCAST and CONFIRMED with it. Above the fee
 * ceiling the replacements stop at it, the transaction waits, the ceiling gauge says so, and it is
 * mined at the ceiling once the base fee falls: nothing overpaid.
 *
 * <p>Stuck Bitcoin transactions on bcoin: no block comes unless the test mines one. The consumer
 * lifts a transaction in no block with children spending its change back to the wallet, up to the
 * ceiling; the payout's transaction and txid stay, and it is mined with its children.
 */
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class FeeBumpIT {
  private static final int DEPTH = 2;
  private static final BigInteger GWEI = BigInteger.TEN.pow(9);
  private static final BigInteger CEILING = GWEI.multiply(BigInteger.valueOf(20));

  /** Satoshis per vbyte: bcoin's wallet pays 1, so two children reach it. */
  private static final long BTC_CEILING = 3;

  private static LocalStack stack;
  private static GatewayClient client;
  private static PayoutFactory factory;

  @BeforeAll
  static void startStack() throws Exception {
    stack = LocalStack.start(new LocalStack.Options(0, 0, 400, Duration.ofHours(1)));
    stack.startConsumer(
        "consumer-1",
        Map.of(
            "TXGW_ETH_CONFIRMATIONS",
            Integer.toString(DEPTH),
            "TXGW_ETH_BUMP_AFTER_S",
            "2",
            "TXGW_ETH_MAX_GAS_PRICE_GWEI",
            "20",
            "TXGW_BTC_CONFIRMATIONS",
            Integer.toString(DEPTH),
            "TXGW_BTC_BUMP_AFTER_S",
            "2",
            "TXGW_BTC_MAX_FEE_RATE_SAT_VB",
            Long.toString(BTC_CEILING)));
    client = new GatewayClient(stack.gatewayUrl(), stack.apiKey());
    factory = new PayoutFactory(new AddressCodec(BitcoinNetwork.BCOIN_REGTEST), 31);
    // No block unless the test mines one.
    stack.anvil().rpc().call("evm_setIntervalMining", 0);
    stack.anvil().rpc().call("evm_setAutomine", false);
  }

  @AfterAll
  static void stopStack() {
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  @org.junit.jupiter.api.Order(1)
  void aTransactionUnderARisenBaseFeeIsReplacedAtItsNonceAndTheReplacementIsMinedOnce()
      throws Exception {
    List<PayoutLine> lines =
        factory.payouts(Chain.ETH, "bump", 2, BigInteger.ONE, new BigInteger("10000000000000000"));
    post("eth-bump", stack.ethAccount(4), lines);
    Map<String, String> first = awaitTxids(lines, PayoutStatus.ACCEPTED);
    // The next block's base fee is 10 gwei: the payouts, signed at about 1-2 gwei, stay pooled.
    stack
        .anvil()
        .rpc()
        .call("anvil_setNextBlockBaseFeePerGas", "0x" + GWEI.multiply(BigInteger.TEN).toString(16));
    mine(1);
    Map<String, String> replaced = awaitTxids(lines, PayoutStatus.REPLACED);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> replaced.values().stream().allMatch(FeeBumpIT::pooled));
    mine(1 + DEPTH);
    Demo.awaitFinal(client, "eth-bump", lines.size(), Duration.ofMinutes(1));

    assertThat(new OnChainCheck(stack).check(Chain.ETH, lines)).isEmpty();
    Map<String, List<PayoutResult>> history = history(lines);
    for (PayoutLine line : lines) {
      List<PayoutResult> h = history.get(line.id());
      PayoutResult last = h.get(h.size() - 1);
      assertThat(last.status()).isEqualTo(PayoutStatus.CONFIRMED);
      // Every txid the payout had was told, and the one confirmed is one of them.
      assertThat(h).extracting(PayoutResult::status).contains(PayoutStatus.REPLACED);
      assertThat(h.stream().map(PayoutResult::txid).toList()).contains(last.txid());
      assertThat(last.txid()).isNotEqualTo(first.get(line.id()));
      assertThat(receipt(first.get(line.id()))).isNull();
      BigInteger price = gasPrice(last.txid());
      assertThat(price)
          .isGreaterThan(GWEI.multiply(BigInteger.valueOf(8)))
          .isLessThanOrEqualTo(CEILING);
    }
  }

  @Test
  @org.junit.jupiter.api.Order(2)
  void theReplacementsStopAtTheCeilingAndTheTransactionWaitsUntilTheBaseFeeFalls()
      throws Exception {
    List<PayoutLine> lines =
        factory.payouts(Chain.ETH, "ceil", 1, BigInteger.ONE, new BigInteger("10000000000000000"));
    // Back to a base fee of 1 gwei: signed at twice that and the tip, well under the ceiling, so
    // that it is replaced before it reaches it (at the 10 gwei the first test left, the first
    // signature's fee cap would be the ceiling already).
    stack.anvil().rpc().call("anvil_setNextBlockBaseFeePerGas", "0x" + GWEI.toString(16));
    mine(1);
    post("eth-ceiling", stack.ethAccount(5), lines);
    Map<String, String> first = awaitTxids(lines, PayoutStatus.ACCEPTED);
    stack
        .anvil()
        .rpc()
        .call(
            "anvil_setNextBlockBaseFeePerGas",
            "0x" + GWEI.multiply(BigInteger.valueOf(60)).toString(16));
    mine(1);
    await().atMost(Duration.ofSeconds(60)).until(() -> ceilingUnits() == 1);
    // Replaced up to the ceiling, or signed at it already: the fee market the consumer read a few
    // seconds ago may still be the first test's, whose base fee priced a first signature there.
    String atCeiling = current(lines, first);
    // anvil does not even pool a transaction under the base fee; txgw sends the same bytes again
    // each round, and does not sign anything dearer.
    assertThat(receipt(atCeiling)).isNull();
    assertThat(current(lines, first)).isEqualTo(atCeiling);

    // The base fee falls under the ceiling: the bytes at the ceiling are taken, and mined.
    stack
        .anvil()
        .rpc()
        .call("anvil_setNextBlockBaseFeePerGas", "0x" + GWEI.multiply(BigInteger.TEN).toString(16));
    await().atMost(Duration.ofSeconds(30)).until(() -> pooled(atCeiling));
    mine(1 + DEPTH);
    Demo.awaitFinal(client, "eth-ceiling", 1, Duration.ofMinutes(1));
    assertThat(new OnChainCheck(stack).check(Chain.ETH, lines)).isEmpty();
    PayoutResult last =
        history(lines).get(lines.get(0).id()).stream().reduce((a, b) -> b).orElseThrow();
    assertThat(last.status()).isEqualTo(PayoutStatus.CONFIRMED);
    assertThat(last.txid()).isEqualTo(atCeiling);
    // At the ceiling: a type-2 transaction's fee cap (it pays the base fee and its tip) no more
    // than it, and within the 10% a replacement must rise, so none could be signed under it.
    assertThat(feeCap(last.txid()))
        .isLessThanOrEqualTo(CEILING)
        .isGreaterThan(CEILING.multiply(BigInteger.TEN).divide(BigInteger.valueOf(11)));
    await().atMost(Duration.ofSeconds(30)).until(() -> ceilingUnits() == 0);
  }

  @Test
  @org.junit.jupiter.api.Order(3)
  void aBitcoinTransactionInNoBlockIsLiftedByChildrenUpToTheCeilingAndMinedWithThem()
      throws Exception {
    BcoinNode bcoin = stack.bcoin();
    List<PayoutLine> lines =
        factory.payouts(
            Chain.BTC, "lift", 3, BigInteger.valueOf(20_000), BigInteger.valueOf(90_000));
    assertThat(
            client
                .postBatch(
                    new BatchSubmission("btc-lift", Chain.BTC.name(), BcoinNode.WALLET, lines))
                .status())
        .isEqualTo(202);
    Map<String, String> sent = awaitTxids(lines, PayoutStatus.BROADCAST);
    String txid = sent.values().iterator().next();
    assertThat(sent.values()).containsOnly(txid);

    // No block: the transaction is lifted a step at a time until its package reaches the ceiling.
    await().atMost(Duration.ofSeconds(60)).until(() -> ceilingUnits("BTC") == 1);
    JsonNode entry = bcoin.nodeRpc().call("getmempoolentry", txid);
    long fees = entry.path("descendantfees").asLong();
    long size = entry.path("descendantsize").asLong();
    assertThat(entry.path("descendantcount").asInt()).isEqualTo(2);
    assertThat(fees).isLessThanOrEqualTo(BTC_CEILING * size).isGreaterThan(2 * size);
    List<String> children = new java.util.ArrayList<>();
    for (JsonNode pooled : bcoin.nodeRpc().call("getrawmempool")) {
      if (!pooled.asText().equals(txid)) {
        children.add(pooled.asText());
      }
    }
    assertThat(children).hasSize(2);

    bcoin.mine(1 + DEPTH, bcoin.newWalletAddress());
    Demo.awaitFinal(client, "btc-lift", lines.size(), Duration.ofMinutes(1));
    assertThat(new OnChainCheck(stack).check(Chain.BTC, lines)).isEmpty();
    for (String child : children) {
      assertThat(
              bcoin.nodeRpc().call("getrawtransaction", child, true).path("confirmations").asInt())
          .isEqualTo(1 + DEPTH);
    }
    // The payouts kept their one transaction: nothing replaced, nothing more to tell.
    assertThat(history(lines).values())
        .allSatisfy(
            h -> {
              assertThat(h)
                  .extracting(PayoutResult::status)
                  .containsExactly(PayoutStatus.BROADCAST, PayoutStatus.CONFIRMED);
              assertThat(h).extracting(PayoutResult::txid).containsOnly(txid);
            });
    await().atMost(Duration.ofSeconds(30)).until(() -> ceilingUnits("BTC") == 0);
  }

  private static void post(String batchId, String source, List<PayoutLine> lines) throws Exception {
    assertThat(
            client
                .postBatch(new BatchSubmission(batchId, Chain.ETH.name(), source, lines))
                .status())
        .isEqualTo(202);
  }

  private static void mine(int blocks) throws Exception {
    stack.anvil().rpc().call("anvil_mine", "0x" + Integer.toHexString(blocks));
  }

  /**
   * Each payout's txid once a result with {@code status} names one; for ACCEPTED, its unit's first
   * transaction as the node's pool holds it.
   */
  private static Map<String, String> awaitTxids(List<PayoutLine> lines, PayoutStatus status) {
    Map<String, String> out = new LinkedHashMap<>();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              out.clear();
              if (status == PayoutStatus.ACCEPTED) {
                out.putAll(pooledByRecipient(lines));
              } else {
                history(lines)
                    .forEach(
                        (id, h) ->
                            h.stream()
                                .filter(r -> r.status() == status)
                                .forEach(r -> out.put(id, r.txid())));
              }
              return out.size() == lines.size();
            });
    return out;
  }

  /** The one payout's current transaction: its last replacement, else its first. */
  private static String current(List<PayoutLine> lines, Map<String, String> first) {
    Map<String, String> replaced = latestTxids(lines);
    return (replaced.isEmpty() ? first : replaced).values().iterator().next();
  }

  private static Map<String, String> latestTxids(List<PayoutLine> lines) {
    Map<String, String> out = new LinkedHashMap<>();
    history(lines)
        .forEach(
            (id, h) ->
                h.stream()
                    .filter(r -> r.status() == PayoutStatus.REPLACED)
                    .forEach(r -> out.put(id, r.txid())));
    return out;
  }

  /** The pooled transactions paying each payout's recipient, by payout id. */
  private static Map<String, String> pooledByRecipient(List<PayoutLine> lines) throws Exception {
    JsonNode content = stack.anvil().rpc().call("txpool_content");
    Map<String, String> out = new LinkedHashMap<>();
    for (JsonNode byNonce : content.path("pending")) {
      for (JsonNode tx : byNonce) {
        for (PayoutLine line : lines) {
          if (tx.path("to").asText().equalsIgnoreCase(line.to())) {
            out.put(line.id(), tx.path("hash").asText());
          }
        }
      }
    }
    return out;
  }

  private static boolean pooled(String txid) {
    try {
      JsonNode tx = stack.anvil().rpc().call("eth_getTransactionByHash", txid);
      return tx != null && !tx.isNull() && tx.path("blockNumber").isNull();
    } catch (Exception e) {
      return false;
    }
  }

  private static JsonNode receipt(String txid) throws Exception {
    JsonNode r = stack.anvil().rpc().call("eth_getTransactionReceipt", txid);
    return r == null || r.isNull() ? null : r;
  }

  private static BigInteger feeCap(String txid) throws Exception {
    JsonNode tx = stack.anvil().rpc().call("eth_getTransactionByHash", txid);
    String cap = tx.path("maxFeePerGas").asText(tx.path("gasPrice").asText());
    return new BigInteger(cap.substring(2), 16);
  }

  private static BigInteger gasPrice(String txid) throws Exception {
    JsonNode tx = stack.anvil().rpc().call("eth_getTransactionByHash", txid);
    return new BigInteger(tx.path("gasPrice").asText().substring(2), 16);
  }

  private static double ceilingUnits() throws Exception {
    return ceilingUnits("ETH");
  }

  /** The consumer's gauge of a chain's transactions waiting at the fee ceiling. */
  private static double ceilingUnits(String chain) throws Exception {
    String body =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(stack.consumer("consumer-1").metricsUrl()))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    for (String line : body.split("\n")) {
      if (line.startsWith("txgw_fee_ceiling_units{") && line.contains("chain=\"" + chain + "\"")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return -1;
  }

  private static Map<String, List<PayoutResult>> history(List<PayoutLine> lines) {
    return ResultHistory.of(stack, lines);
  }
}
