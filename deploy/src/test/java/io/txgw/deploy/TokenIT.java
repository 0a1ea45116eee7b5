package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.model.Chain;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.model.PayoutStatus;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.PayoutLine;
import io.txgw.loadgen.GatewayClient;
import io.txgw.loadgen.PayoutFactory;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * ERC-20 payouts and airdrops in one transaction, on anvil: the test token and the multi-send
 * contract are compiled by the build and deployed by the operator's deployer; the gateway and the
 * consumer are configured with the token; payouts of one account and asset are packed into calls of
 * the multi-send contract, each recipient checked on chain by {@code balanceOf}.
 */
class TokenIT {
  private static LocalStack stack;
  private static GatewayClient client;
  private static PayoutFactory factory;
  private static String token;
  private static String multiSend;

  @BeforeAll
  static void startStack() throws Exception {
    // The stack deploys the test token and the multi-send contract as an operator would
    // (ContractDeployer, the code of deploy/txgw-contracts), and lists the token in TXGW_ASSETS.
    stack =
        LocalStack.start(new LocalStack.Options(1, 0, 400, Duration.ofMillis(500)).withMultiSend());
    token = stack.token();
    multiSend = stack.multiSend();
    client = new GatewayClient(stack.gatewayUrl(), stack.apiKey());
    factory = new PayoutFactory(new AddressCodec(BitcoinNetwork.BCOIN_REGTEST), 57);
  }

  @AfterAll
  static void stopStack() {
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void aTokenAirdropIsPaidAHundredToATransactionEachRecipientExactlyOnce() throws Exception {
    List<PayoutLine> lines =
        factory.payouts(
            Chain.ETH, "drop", 250, BigInteger.ONE, BigInteger.valueOf(5_000_000_000L), 6);
    post(new BatchSubmission("airdrop", "ETH", stack.ethAccount(0), lines, "TUSD"));
    Demo.awaitFinal(client, "airdrop", lines.size(), Duration.ofMinutes(2));
    Set<String> txids = new HashSet<>();
    Map<String, List<PayoutResult>> history = ResultHistory.of(stack, lines);
    for (PayoutLine line : lines) {
      List<PayoutResult> h = history.get(line.id());
      PayoutResult last = h.get(h.size() - 1);
      assertThat(last.status()).as(line.id()).isEqualTo(PayoutStatus.CONFIRMED);
      txids.add(last.txid());
      assertThat(tokenBalance(line.to())).as(line.id()).isEqualTo(units(line.amount(), 6));
      // No ether moved with the token.
      assertThat(stack.anvil().balanceWei(line.to())).isZero();
    }
    // 250 payouts of one account: three calls of the multi-send contract.
    assertThat(txids).hasSize(3);
    for (String txid : txids) {
      JsonNode tx = stack.anvil().rpc().call("eth_getTransactionByHash", txid);
      assertThat(tx.path("to").asText()).isEqualToIgnoringCase(multiSend);
    }
  }

  @Test
  void anEtherPayrollThroughTheContractPaysEachRecipientItsWei() throws Exception {
    List<PayoutLine> lines =
        factory.payouts(Chain.ETH, "eth", 120, BigInteger.ONE, new BigInteger("10000000000000000"));
    post(new BatchSubmission("ether", "ETH", stack.ethAccount(1), lines));
    Demo.awaitFinal(client, "ether", lines.size(), Duration.ofMinutes(2));
    Set<String> txids = new HashSet<>();
    Map<String, List<PayoutResult>> history = ResultHistory.of(stack, lines);
    for (PayoutLine line : lines) {
      List<PayoutResult> h = history.get(line.id());
      PayoutResult last = h.get(h.size() - 1);
      assertThat(last.status()).isEqualTo(PayoutStatus.CONFIRMED);
      txids.add(last.txid());
      assertThat(stack.anvil().balanceWei(line.to())).isEqualTo(units(line.amount(), 18));
    }
    assertThat(txids).hasSize(2);
  }

  @Test
  void payoutsOfAnAccountWithoutTokensFailWithNothingPaid() throws Exception {
    List<PayoutLine> lines =
        factory.payouts(Chain.ETH, "empty", 3, BigInteger.ONE, BigInteger.valueOf(1_000_000), 6);
    post(new BatchSubmission("no-tokens", "ETH", stack.ethAccount(2), lines, "TUSD"));
    Demo.awaitFinal(client, "no-tokens", lines.size(), Duration.ofMinutes(1));
    Map<String, List<PayoutResult>> history = ResultHistory.of(stack, lines);
    for (PayoutLine line : lines) {
      List<PayoutResult> h = history.get(line.id());
      assertThat(h.get(h.size() - 1).status()).isEqualTo(PayoutStatus.FAILED);
      assertThat(h.get(h.size() - 1).error()).contains("insufficient funds");
      assertThat(tokenBalance(line.to())).isZero();
    }
  }

  @Test
  void anUnknownAssetAnUnknownFieldOrAnAmountFinerThanTheTokenIsRefusedWithNothingWritten()
      throws Exception {
    String to = factory.payouts(Chain.ETH, "x", 1, BigInteger.ONE, BigInteger.TEN).get(0).to();
    GatewayClient.Answer unknown =
        client.post(
            "/v1/batches",
            "application/json",
            ("{\"batchId\":\"usdt\",\"chain\":\"ETH\",\"source\":\""
                    + stack.ethAccount(0)
                    + "\",\"asset\":\"USDT\",\"payouts\":[{\"id\":\"u1\",\"to\":\""
                    + to
                    + "\",\"amount\":\"1\"}]}")
                .getBytes(StandardCharsets.UTF_8));
    assertThat(unknown.status()).isEqualTo(422);
    assertThat(unknown.body().toString()).contains("\"field\":\"asset\"").contains("TUSD");
    GatewayClient.Answer field =
        client.post(
            "/v1/batches",
            "application/json",
            ("{\"batchId\":\"fld\",\"chain\":\"ETH\",\"source\":\""
                    + stack.ethAccount(0)
                    + "\",\"token\":\"TUSD\",\"payouts\":[{\"id\":\"u1\",\"to\":\""
                    + to
                    + "\",\"amount\":\"1\"}]}")
                .getBytes(StandardCharsets.UTF_8));
    assertThat(field.status()).isEqualTo(422);
    assertThat(field.body().toString()).contains("\"field\":\"token\"");
    GatewayClient.Answer fine =
        client.postBatch(
            new BatchSubmission(
                "fine",
                "ETH",
                stack.ethAccount(0),
                List.of(new PayoutLine("f1", to, "1.0000001", null)),
                "TUSD"));
    assertThat(fine.status()).isEqualTo(422);
    assertThat(fine.body().toString()).contains("6 decimal places for TUSD");
    for (String batch : List.of("usdt", "fld", "fine")) {
      assertThat(client.batch(batch).status()).isEqualTo(404);
    }
  }

  private static void post(BatchSubmission batch) throws Exception {
    assertThat(client.postBatch(batch).status()).isEqualTo(202);
  }

  private static BigInteger tokenBalance(String holder) throws Exception {
    com.fasterxml.jackson.databind.node.ObjectNode call =
        io.txgw.common.json.Json.mapper().createObjectNode();
    call.put("to", token);
    call.put("data", "0x70a08231" + "0".repeat(24) + holder.substring(2).toLowerCase());
    String word = stack.anvil().rpc().call("eth_call", call, "latest").asText();
    return new BigInteger(word.substring(2), 16);
  }

  private static BigInteger units(String amount, int decimals) {
    return new BigDecimal(amount).movePointRight(decimals).toBigIntegerExact();
  }
}
