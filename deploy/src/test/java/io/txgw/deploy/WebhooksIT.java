package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Chain;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.PayoutLine;
import io.txgw.deploy.nodes.BcoinNode;
import io.txgw.gateway.Gateway;
import io.txgw.gateway.events.WebhookSignature;
import io.txgw.loadgen.GatewayClient;
import io.txgw.loadgen.PayoutFactory;
import java.math.BigInteger;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Clients told by signed webhooks and by {@code GET /v1/events}, on the real stack: a receiver that
 * checks every signature, fails every second delivery on purpose, and is down for a while, during
 * which the gateway that delivers is stopped and another started in its place. Every event of the
 * client's payouts arrives, in order per payout, none forged, none of another client's; and the
 * event log read back page by page holds the same events.
 */
class WebhooksIT {
  private static final String SECRET = "webhook-secret-of-the-demo-client-0123456789";

  private static LocalStack stack;
  private static WebhookReceiver receiver;
  private static GatewayClient client;
  private static GatewayClient other;
  private static PayoutFactory factory;

  @BeforeAll
  static void startStack() throws Exception {
    stack = LocalStack.start(new LocalStack.Options(1, 0, 400, Duration.ofMillis(500)));
    receiver = new WebhookReceiver(SECRET, 2).up();
    client = new GatewayClient(stack.gatewayUrl(), stack.apiKey());
    other = new GatewayClient(stack.gatewayUrl(), stack.otherApiKey());
    factory = new PayoutFactory(new AddressCodec(BitcoinNetwork.BCOIN_REGTEST), 21);
  }

  @AfterAll
  static void stopStack() {
    if (stack != null) {
      stack.close();
    }
    if (receiver != null) {
      receiver.close();
    }
  }

  private static Gateway startHooks() throws InterruptedException {
    return stack.startGateway(
        Map.of(
            "TXGW_GATEWAY_ID",
            "gateway-hooks",
            "TXGW_STATE_DIR",
            stack.workDir().resolve("gateway-hooks").toString(),
            "TXGW_WEBHOOKS",
            LocalStack.CLIENT + "=" + receiver.url(),
            "TXGW_WEBHOOK_SECRETS",
            LocalStack.CLIENT + "=" + SECRET,
            "TXGW_WEBHOOK_MAX_BACKOFF_S",
            "1"));
  }

  @Test
  void everyEventArrivesSignedInOrderPerPayoutThroughFailuresDowntimeAndARestart()
      throws Exception {
    Gateway hooks = startHooks();
    List<PayoutLine> eth =
        factory.payouts(
            Chain.ETH, "hook-e", 30, BigInteger.ONE, new BigInteger("1000000000000000"));
    List<PayoutLine> btc =
        factory.payouts(
            Chain.BTC, "hook-b", 10, BigInteger.valueOf(10_000), BigInteger.valueOf(90_000));
    List<PayoutLine> theirs =
        factory.payouts(Chain.ETH, "hook-o", 5, BigInteger.ONE, new BigInteger("1000000000000000"));
    post(client, "hooks-eth", Chain.ETH, stack.ethSource(), eth);
    post(client, "hooks-btc", Chain.BTC, BcoinNode.WALLET, btc);
    post(other, "hooks-other", Chain.ETH, stack.ethAccount(3), theirs);

    await().atMost(Duration.ofMinutes(1)).until(() -> receiver.events().size() >= 5);
    receiver.down();
    // Down: the deliveries fail with no answer and are logged so, then the gateway that was
    // sending them stops and another takes its place, from what was acknowledged.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> attempts().stream().filter(a -> a.path("status").asInt() == 0).count() >= 2);
    stack.stopGateway(hooks);
    hooks = startHooks();
    receiver.up();

    Demo.awaitFinal(client, "hooks-eth", eth.size(), Duration.ofMinutes(2));
    Demo.awaitFinal(client, "hooks-btc", btc.size(), Duration.ofMinutes(2));
    Demo.awaitFinal(other, "hooks-other", theirs.size(), Duration.ofMinutes(2));
    Map<String, List<String>> expected = resultsByPayout(LocalStack.CLIENT);
    Set<String> expectedIds = new HashSet<>();
    expected.values().forEach(expectedIds::addAll);
    await()
        .atMost(Duration.ofMinutes(1))
        .until(() -> receiver.events().keySet().containsAll(expectedIds));

    Map<String, JsonNode> got = receiver.events();
    assertThat(got.keySet()).isEqualTo(expectedIds);
    assertThat(got.values())
        .extracting(e -> e.path("payoutId").asText())
        .noneMatch(id -> id.startsWith("hook-o"));
    assertThat(byPayout(got.values())).isEqualTo(expected);
    assertThat(got.values())
        .filteredOn(e -> e.path("payoutId").asText().startsWith("hook-e"))
        .extracting(e -> e.path("status").asText())
        .contains("BROADCAST", "CONFIRMED");
    // No delivery failed its signature check; the check itself refuses a changed body and an old
    // timestamp.
    assertThat(receiver.refused()).isZero();
    assertThat(receiver.failedOnPurpose()).isPositive();
    byte[] changed =
        new String(receiver.lastBody(), StandardCharsets.UTF_8)
            .replace("CONFIRMED", "FAILED")
            .replace("BROADCAST", "FAILED")
            .getBytes(StandardCharsets.UTF_8);
    assertThat(forge(changed, receiver.lastSignature())).isEqualTo(401);
    List<io.txgw.common.config.Secret> secret = List.of(new io.txgw.common.config.Secret(SECRET));
    long now = System.currentTimeMillis() / 1000;
    String stale = WebhookSignature.header(now - 3_600, receiver.lastBody(), secret);
    assertThat(
            receiver.verify(
                WebhookSignature.header(now, receiver.lastBody(), secret),
                receiver.lastBody(),
                now))
        .isTrue();
    assertThat(forge(receiver.lastBody(), stale)).isEqualTo(401);

    List<JsonNode> log = attempts();
    assertThat(log).isNotEmpty();
    assertThat(log).anyMatch(a -> a.path("status").asInt() == 500);
    assertThat(log).anyMatch(a -> a.path("status").asInt() == 0);
    assertThat(log).anyMatch(a -> a.path("acknowledged").asBoolean());
    assertThat(log.toString()).doesNotContain(SECRET, "/hooks/txgw");
    stack.stopGateway(hooks);

    // The same events read back page by page, and none by another client.
    assertThat(byPayout(readAll(client, 7))).isEqualTo(expected);
    assertThat(readAll(other, 100))
        .extracting(e -> e.path("payoutId").asText())
        .allMatch(id -> id.startsWith("hook-o"))
        .hasSizeGreaterThanOrEqualTo(theirs.size() * 2);
  }

  @Test
  void aCursorOrLimitThatCannotBeReadIsA422NamingIt() throws Exception {
    GatewayClient.Answer bad = client.get("/v1/events?after=not-a-cursor!&limit=0");
    assertThat(bad.status()).isEqualTo(422);
    assertThat(bad.body().path("violations").findValuesAsText("field"))
        .containsExactlyInAnyOrder("after", "limit");
    String beyond = new io.txgw.gateway.events.EventCursor(Map.of(999, 0L)).encode();
    GatewayClient.Answer far = client.get("/v1/events?after=" + beyond);
    assertThat(far.status()).isEqualTo(422);
    assertThat(far.body().toString()).contains("names 1000 partitions");
    assertThat(client.get("/v1/webhooks/deliveries?limit=100000").status()).isEqualTo(422);
  }

  private static void post(
      GatewayClient as, String batchId, Chain chain, String source, List<PayoutLine> lines)
      throws Exception {
    assertThat(as.postBatch(new BatchSubmission(batchId, chain.name(), source, lines)).status())
        .isEqualTo(202);
  }

  private static List<JsonNode> attempts() throws Exception {
    GatewayClient.Answer answer = client.get("/v1/webhooks/deliveries?limit=200");
    List<JsonNode> out = new ArrayList<>();
    if (answer.status() != 200) {
      // Busy (429): read again by the caller's wait.
      return out;
    }
    answer.body().path("deliveries").forEach(out::add);
    return out;
  }

  private static int forge(byte[] body, String signature) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(receiver.url()))
            .header("Txgw-Signature", signature)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build();
    return HttpClient.newHttpClient()
        .send(request, HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  /** Each payout's event ids in the results topic's order, for one client. */
  private static Map<String, List<String>> resultsByPayout(String clientId) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (ConsumerRecord<String, PayoutResult> r :
        TopicReader.readAll(stack.kafkaBootstrap(), Topics.RESULTS, PayoutResult.class)) {
      if (r.value().clientId().equals(clientId) && r.value().payoutId().startsWith("hook-")) {
        out.computeIfAbsent(r.value().payoutId(), k -> new ArrayList<>())
            .add(r.partition() + "-" + r.offset());
      }
    }
    return out;
  }

  private static Map<String, List<String>> byPayout(Iterable<JsonNode> events) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (JsonNode e : events) {
      String payout = e.path("payoutId").asText();
      if (payout.startsWith("hook-")) {
        out.computeIfAbsent(payout, k -> new ArrayList<>()).add(e.path("id").asText());
      }
    }
    return out;
  }

  private static List<JsonNode> readAll(GatewayClient as, int limit) throws Exception {
    List<JsonNode> all = new ArrayList<>();
    String cursor = "";
    for (int page = 0; page < 10_000; page++) {
      GatewayClient.Answer answer =
          as.get(
              "/v1/events?limit="
                  + limit
                  + (cursor.isEmpty()
                      ? ""
                      : "&after=" + URLEncoder.encode(cursor, StandardCharsets.UTF_8)));
      assertThat(answer.status()).isEqualTo(200);
      answer.body().path("events").forEach(all::add);
      cursor = answer.body().path("next").asText();
      if (!answer.body().path("more").asBoolean()) {
        return all;
      }
    }
    throw new AssertionError("the event log did not end");
  }
}
