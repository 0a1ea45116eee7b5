package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.config.Secret;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Chain;
import io.txgw.common.model.Payout;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.PayoutLine;
import io.txgw.consumer.rpc.JsonRpcClient;
import io.txgw.consumer.rpc.RetryPolicy;
import io.txgw.consumer.rpc.RpcEndpoint;
import io.txgw.consumer.rpc.RpcException;
import io.txgw.deploy.nodes.BcoinNode;
import io.txgw.loadgen.GatewayClient;
import io.txgw.loadgen.PayoutFactory;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole path against real parts started on loopback: HTTP batch, Kafka {@code sendto}, the
 * consumer, anvil and bcoin, the results topic, and what each recipient holds on chain.
 */
class EndToEndIT {
  private static LocalStack stack;
  private static GatewayClient client;
  private static PayoutFactory factory;

  @BeforeAll
  static void startStack() throws Exception {
    stack = LocalStack.start(LocalStack.Options.defaults());
    client = new GatewayClient(stack.gatewayUrl(), stack.apiKey());
    factory = new PayoutFactory(new AddressCodec(BitcoinNetwork.BCOIN_REGTEST), 42);
  }

  @AfterAll
  static void stopStack() {
    if (stack != null) {
      stack.close();
    }
  }

  private static List<PayoutLine> eth(String prefix, int n) {
    return factory.payouts(
        Chain.ETH, prefix, n, BigInteger.ONE, new BigInteger("3000000000000000000"));
  }

  private static List<PayoutLine> btc(String prefix, int n) {
    return factory.payouts(
        Chain.BTC, prefix, n, BigInteger.valueOf(1_000), BigInteger.valueOf(5_000_000));
  }

  private static List<ConsumerRecord<String, Payout>> sendtoRecordsOf(String batchId) {
    return TopicReader.readAll(stack.kafkaBootstrap(), Topics.SENDTO, Payout.class).stream()
        .filter(r -> r.value().batchId().equals(batchId))
        .toList();
  }

  @Test
  void twoHundredPayoutsPerChainAreAllConfirmedAndEachRecipientHoldsExactlyItsAmount()
      throws Exception {
    List<PayoutLine> ethLines = eth("e2e-eth", 200);
    List<PayoutLine> btcLines = btc("e2e-btc", 200);
    GatewayClient.Answer ethAnswer =
        client.postBatch(new BatchSubmission("e2e-eth", "ETH", stack.ethSource(), ethLines));
    GatewayClient.Answer btcAnswer =
        client.postBatch(new BatchSubmission("e2e-btc", "BTC", BcoinNode.WALLET, btcLines));
    assertThat(ethAnswer.status()).isEqualTo(202);
    assertThat(btcAnswer.status()).isEqualTo(202);
    assertThat(ethAnswer.body().path("location").asText()).isEqualTo("/v1/batches/e2e-eth");

    JsonNode ethStatus = Demo.awaitFinal(client, "e2e-eth", 200, Duration.ofMinutes(3));
    JsonNode btcStatus = Demo.awaitFinal(client, "e2e-btc", 200, Duration.ofMinutes(3));
    for (JsonNode status : List.of(ethStatus, btcStatus)) {
      assertThat(status.path("counts").path("CONFIRMED").asInt()).isEqualTo(200);
      assertThat(status.path("payouts"))
          .allSatisfy(p -> assertThat(p.path("txid").asText()).isNotEmpty());
    }
    stack.bcoin().mine(1, stack.bcoin().newWalletAddress());
    OnChainCheck chain = new OnChainCheck(stack);
    assertThat(chain.check(Chain.ETH, ethLines)).isEmpty();
    assertThat(chain.check(Chain.BTC, btcLines)).isEmpty();

    // One record per payout, all keyed by the sending account, so they share one partition.
    List<ConsumerRecord<String, Payout>> records = sendtoRecordsOf("e2e-eth");
    assertThat(records).hasSize(200);
    assertThat(records).allSatisfy(r -> assertThat(r.key()).isEqualTo("ETH:" + stack.ethSource()));
    assertThat(records.stream().map(ConsumerRecord::partition).distinct()).hasSize(1);
  }

  @Test
  void aBatchWithOneBadAddressIsRefusedWholeNamingTheItemAndWritesNothing() throws Exception {
    List<PayoutLine> lines = new ArrayList<>(eth("bad", 5));
    PayoutLine good = lines.get(3);
    // One letter's case changed: the EIP-55 checksum no longer matches.
    String broken = good.to().substring(0, 41) + swapCase(good.to().charAt(41));
    lines.set(3, new PayoutLine(good.id(), broken, good.amount(), null));
    GatewayClient.Answer answer =
        client.postBatch(new BatchSubmission("bad-batch", "ETH", stack.ethSource(), lines));
    assertThat(answer.status()).isEqualTo(422);
    assertThat(answer.contentType()).startsWith("application/problem+json");
    JsonNode violation = answer.body().path("violations").get(0);
    assertThat(violation.path("index").asInt()).isEqualTo(3);
    assertThat(violation.path("id").asText()).isEqualTo(good.id());
    assertThat(violation.path("field").asText()).isEqualTo("to");
    assertThat(answer.body().path("violations")).hasSize(1);
    assertThat(sendtoRecordsOf("bad-batch")).isEmpty();
    assertThat(client.batch("bad-batch").status()).isEqualTo(404);
  }

  private static String swapCase(char c) {
    char swapped = Character.isUpperCase(c) ? Character.toLowerCase(c) : Character.toUpperCase(c);
    // A digit has no case; pick a hex letter in both cases instead.
    return swapped == c ? (c == 'a' ? "b" : "a") : String.valueOf(swapped);
  }

  @Test
  void aRepostedBatchGetsTheSameAnswerAndWritesNothingWhileOtherContentIsAConflict()
      throws Exception {
    List<PayoutLine> lines = eth("repost", 3);
    BatchSubmission batch = new BatchSubmission("repost-1", "ETH", stack.ethSource(), lines);
    GatewayClient.Answer first = client.postBatch(batch);
    GatewayClient.Answer again = client.postBatch(batch);
    assertThat(first.status()).isEqualTo(202);
    assertThat(again.status()).isEqualTo(202);
    assertThat(again.body()).isEqualTo(first.body());
    Demo.awaitHandled(client, "repost-1", 3, Duration.ofMinutes(1));
    assertThat(client.postBatch(batch).body()).isEqualTo(first.body());
    assertThat(sendtoRecordsOf("repost-1")).hasSize(3);

    List<PayoutLine> changed = new ArrayList<>(lines);
    changed.set(0, new PayoutLine(lines.get(0).id(), lines.get(0).to(), "0.5", null));
    GatewayClient.Answer conflict =
        client.postBatch(new BatchSubmission("repost-1", "ETH", stack.ethSource(), changed));
    assertThat(conflict.status()).isEqualTo(409);
    assertThat(sendtoRecordsOf("repost-1")).hasSize(3);
  }

  @Test
  void aPayoutFromAnUnderfundedAccountEndsFailedWithAStableCodeAndNotTheBalance() throws Exception {
    String poor = stack.anvil().accounts().get(9);
    stack.anvil().setBalanceWei(poor, new BigInteger("1000000000000000"));
    GatewayClient.Answer answer =
        client.postBatch(new BatchSubmission("underfunded", "ETH", poor, eth("poor", 1)));
    assertThat(answer.status()).isEqualTo(202);
    JsonNode status = Demo.awaitHandled(client, "underfunded", 1, Duration.ofMinutes(1));
    JsonNode payout = status.path("payouts").get(0);
    assertThat(payout.path("status").asText()).isEqualTo("FAILED");
    // A stable code: the node's wording (with the account's balance) stays out of the answer.
    assertThat(payout.path("error").asText()).isEqualTo("insufficient-funds");
    assertThat(status.toString()).doesNotContain("wei");
  }

  @Test
  void payoutIdsPostedAgainInOtherBatchesAndAfterAConsumerRestartArePaidOnce() throws Exception {
    List<PayoutLine> lines = eth("dup", 3);
    assertThat(
            client
                .postBatch(new BatchSubmission("dup-1", "ETH", stack.ethSource(), lines))
                .status())
        .isEqualTo(202);
    assertThat(
            client
                .postBatch(new BatchSubmission("dup-2", "ETH", stack.ethSource(), lines))
                .status())
        .isEqualTo(202);
    Demo.awaitHandled(client, "dup-1", 3, Duration.ofMinutes(1));
    stack.restartConsumer("consumer-1");
    assertThat(
            client
                .postBatch(new BatchSubmission("dup-3", "ETH", stack.ethSource(), lines))
                .status())
        .isEqualTo(202);
    Lag.awaitDrained(stack.kafkaBootstrap(), "txgw-payouts", Duration.ofMinutes(1));
    // Every batch that names these payouts shows the one payment made.
    JsonNode third = Demo.awaitFinal(client, "dup-3", 3, Duration.ofMinutes(1));
    assertThat(third.path("counts").path("CONFIRMED").asInt()).isEqualTo(3);

    assertThat(new OnChainCheck(stack).check(Chain.ETH, lines)).isEmpty();
    List<String> keys = lines.stream().map(l -> LocalStack.CLIENT + "/" + l.id()).toList();
    Pending.assertEachBroadcastOnceThenConfirmed(
        TopicReader.readAll(stack.kafkaBootstrap(), Topics.RESULTS, PayoutResult.class).stream()
            .map(ConsumerRecord::value)
            .filter(r -> keys.contains(r.resultKey()))
            .toList(),
        3);
  }

  @Test
  void aCsvBatchIsAcceptedLikeJson() throws Exception {
    List<PayoutLine> lines = btc("csv", 2);
    StringBuilder csv = new StringBuilder("id,to,amount,memo\n");
    for (PayoutLine l : lines) {
      csv.append(l.id())
          .append(',')
          .append(l.to())
          .append(',')
          .append(l.amount())
          .append(",\"bonus, Q4\"\n");
    }
    GatewayClient.Answer answer =
        client.post(
            "/v1/batches?batchId=csv-1&chain=BTC&source=" + BcoinNode.WALLET,
            "text/csv",
            csv.toString().getBytes(StandardCharsets.UTF_8));
    assertThat(answer.status()).isEqualTo(202);
    assertThat(sendtoRecordsOf("csv-1"))
        .extracting(r -> r.value().memo())
        .containsOnly("bonus, Q4");
  }

  @Test
  void theBcoinNodeRefusesCallsWithoutItsApiKey() {
    for (String url : List.of(stack.bcoin().nodeUrl(), stack.bcoin().walletUrl())) {
      JsonRpcClient anonymous =
          new JsonRpcClient(
              new RpcEndpoint("anonymous", url, null, null, false, Duration.ofSeconds(5)),
              RetryPolicy.NONE);
      assertThatThrownBy(() -> anonymous.call("getblockcount"))
          .isInstanceOfSatisfying(
              RpcException.class, e -> assertThat(e.httpStatus()).isEqualTo(401));
    }
  }

  @Test
  void clientMistakesGetProblemAnswersAndTheGatewayKeepsServing() throws Exception {
    GatewayClient.Answer malformed =
        client.post(
            "/v1/batches", "application/json", "{\"batchId\":".getBytes(StandardCharsets.UTF_8));
    assertThat(malformed.status()).isEqualTo(400);
    assertThat(malformed.body().path("detail").asText()).contains("not valid JSON");

    GatewayClient.Answer numberAmount =
        client.post(
            "/v1/batches",
            "application/json",
            ("{\"batchId\":\"n\",\"chain\":\"ETH\",\"source\":\""
                    + stack.ethSource()
                    + "\",\"payouts\":[{\"id\":\"a\",\"to\":\""
                    + stack.ethSource()
                    + "\",\"amount\":0.1}]}")
                .getBytes(StandardCharsets.UTF_8));
    assertThat(numberAmount.status()).isEqualTo(422);
    assertThat(numberAmount.body().path("violations").get(0).path("field").asText())
        .isEqualTo("amount");

    GatewayClient.Answer xml = client.post("/v1/batches", "application/xml", new byte[] {'<'});
    assertThat(xml.status()).isEqualTo(415);
    GatewayClient.Answer untyped =
        client.post("/v1/batches", null, "{}".getBytes(StandardCharsets.UTF_8));
    assertThat(untyped.status()).isEqualTo(415);

    GatewayClient.Answer repeatedKey =
        client.post(
            "/v1/batches",
            "application/json",
            "{\"batchId\":\"r\",\"batchId\":\"s\"}".getBytes(StandardCharsets.UTF_8));
    assertThat(repeatedKey.status()).isEqualTo(400);
    assertThat(repeatedKey.body().path("detail").asText()).contains("Duplicate field 'batchId'");

    StringBuilder many = new StringBuilder();
    for (int i = 0; i < 150; i++) {
      many.append(i == 0 ? "" : ",")
          .append("{\"id\":\"m")
          .append(i)
          .append("\",\"to\":\"nowhere\",\"amount\":\"1\"}");
    }
    GatewayClient.Answer manyBad =
        client.post(
            "/v1/batches",
            "application/json",
            ("{\"batchId\":\"many\",\"chain\":\"ETH\",\"source\":\""
                    + stack.ethSource()
                    + "\",\"payouts\":["
                    + many
                    + "]}")
                .getBytes(StandardCharsets.UTF_8));
    assertThat(manyBad.status()).isEqualTo(422);
    assertThat(manyBad.body().path("violations").size()).isEqualTo(100);
    assertThat(manyBad.body().path("more").asInt()).isEqualTo(50);

    GatewayClient wrongKey =
        new GatewayClient(stack.gatewayUrl(), new Secret("not-a-real-key-at-all"));
    assertThat(wrongKey.batch("e2e-eth").status()).isEqualTo(401);

    client.postBatch(new BatchSubmission("mine-only", "ETH", stack.ethSource(), eth("mine", 1)));
    GatewayClient other = new GatewayClient(stack.gatewayUrl(), stack.otherApiKey());
    assertThat(other.batch("mine-only").status()).isEqualTo(404);
    assertThat(client.batch("mine-only").status()).isEqualTo(200);

    assertThat(client.get("/healthz").status()).isEqualTo(200);
    assertThat(client.get("/readyz").status()).isEqualTo(200);
  }
}
