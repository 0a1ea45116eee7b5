package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Chain;
import io.txgw.common.model.Payout;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.PayoutLine;
import io.txgw.coordinator.control.Controls;
import io.txgw.gateway.Gateway;
import io.txgw.loadgen.GatewayClient;
import io.txgw.loadgen.PayoutFactory;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What operators and clients can see, against a real stack: Prometheus metrics of the gateway and a
 * consumer, a batch followed live over server-sent events, the status view across a gateway
 * restart, and backpressure while the consumers are behind.
 */
class ObservabilityIT {
  private static LocalStack stack;
  private static GatewayClient client;
  private static PayoutFactory factory;
  private static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void startStack() throws Exception {
    stack = LocalStack.start(LocalStack.Options.defaults());
    client = new GatewayClient(stack.gatewayUrl(), stack.apiKey());
    factory = new PayoutFactory(new AddressCodec(BitcoinNetwork.BCOIN_REGTEST), 7);
  }

  @AfterAll
  static void stopStack() {
    if (stack != null) {
      stack.close();
    }
  }

  private static List<PayoutLine> eth(String prefix, int n) {
    return factory.payouts(
        Chain.ETH, prefix, n, BigInteger.ONE, new BigInteger("1000000000000000000"));
  }

  private static String scrape(String url) throws Exception {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create(url)).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
    return response.body();
  }

  @Test
  void theGatewayAndEveryConsumerServePrometheusMetricsNamedByConvention() throws Exception {
    List<PayoutLine> lines = eth("metrics", 5);
    assertThat(
            client
                .postBatch(new BatchSubmission("metrics", "ETH", stack.ethSource(), lines))
                .status())
        .isEqualTo(202);
    Demo.awaitHandled(client, "metrics", lines.size(), Duration.ofMinutes(1));

    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(scrape(stack.gatewayAdminUrl() + "/metrics"))
                    .contains(
                        "txgw_http_requests_total{",
                        "route=\"/v1/batches\"",
                        "txgw_payouts_accepted_total{",
                        "txgw_consumer_lag_records{",
                        "txgw_consumer_group_members{",
                        "kafka_producer_",
                        "kafka_stream_",
                        "jvm_memory_used_bytes"));
    String consumer = scrape(stack.consumer("consumer-1").metricsUrl());
    assertThat(consumer)
        .contains(
            "txgw_node_calls_total{",
            "method=\"eth_sendRawTransaction\"",
            "outcome=\"ok\"",
            "txgw_node_call_seconds_count{",
            "txgw_throttle_wait_seconds_count{",
            "txgw_node_share_requests_per_second{",
            "txgw_payouts_total{",
            "status=\"BROADCAST\"",
            "txgw_records_consumed_total{",
            "txgw_journal_pending_units",
            "kafka_consumer_");
    assertThat(stack.scrapeConfig()).content().contains("job_name: txgw-consumer");
  }

  @Test
  void aClientFollowsABatchLiveUntilEveryPayoutIsFinal() throws Exception {
    List<PayoutLine> lines = eth("live", 20);
    assertThat(
            client.postBatch(new BatchSubmission("live", "ETH", stack.ethSource(), lines)).status())
        .isEqualTo(202);
    List<String> events = new ArrayList<>();
    Set<String> paid = new HashSet<>();
    List<JsonNode> progress = new ArrayList<>();
    CompletableFuture.runAsync(
            () -> {
              try {
                client.events(
                    "live",
                    (event, data) -> {
                      events.add(event);
                      if (event.equals("payouts")) {
                        data.path("payouts").forEach(p -> paid.add(p.path("id").asText()));
                      } else {
                        progress.add(data);
                      }
                    });
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            })
        .get(90, TimeUnit.SECONDS);

    assertThat(events.get(0)).isEqualTo("progress");
    assertThat(events).last().isEqualTo("complete");
    JsonNode last = progress.get(progress.size() - 1);
    assertThat(last.path("handled").asInt()).isEqualTo(20);
    assertThat(last.path("settled").asInt()).isEqualTo(20);
    assertThat(last.path("counts").path("CONFIRMED").asInt()).isEqualTo(20);
    assertThat(progress)
        .extracting(p -> p.path("handled").asInt())
        .isSortedAccordingTo(Integer::compare);
    if (progress.get(0).path("handled").asInt() == 0) {
      // Followed from the start: every payout's change came as an event.
      assertThat(paid).hasSize(20);
    }
  }

  @Test
  void theStatusViewAnswersTheSameAfterTheGatewayRestartsAndRecognisesARepost() throws Exception {
    List<PayoutLine> lines = eth("restart", 10);
    BatchSubmission batch = new BatchSubmission("restart", "ETH", stack.ethSource(), lines);
    assertThat(client.postBatch(batch).status()).isEqualTo(202);
    JsonNode before = Demo.awaitFinal(client, "restart", 10, Duration.ofMinutes(1));

    stack.restartGateway();
    GatewayClient again = new GatewayClient(stack.gatewayUrl(), stack.apiKey());
    JsonNode after = again.batch("restart").body();
    assertThat(after.path("counts")).isEqualTo(before.path("counts"));
    assertThat(after.path("payouts")).isEqualTo(before.path("payouts"));
    assertThat(again.postBatch(batch).status()).isEqualTo(202);
    assertThat(
            TopicReader.readAll(stack.kafkaBootstrap(), Topics.SENDTO, Payout.class).stream()
                .filter(r -> r.value().batchId().equals("restart"))
                .count())
        .isEqualTo(10);
    client = again;
  }

  @Test
  void newBatchesGet429WithRetryAfterWhileTheConsumersAreFurtherBehindThanTheLimit()
      throws Exception {
    Gateway limited =
        stack.startGateway(Map.of("TXGW_GATEWAY_ID", "gateway-limited", "TXGW_MAX_LAG", "40"));
    GatewayClient bounded = new GatewayClient("http://127.0.0.1:" + limited.port(), stack.apiKey());
    Controls controls = new Controls(stack.zk());
    controls.pause(Chain.ETH, new Controls.Pause("ObservabilityIT", Instant.now(), "lag test"));
    AtomicInteger n = new AtomicInteger();
    List<GatewayClient.Answer> refused = new ArrayList<>();
    try {
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                String id = "bp-" + n.incrementAndGet();
                GatewayClient.Answer answer =
                    bounded.postBatch(
                        new BatchSubmission(id, "ETH", stack.ethSource(), eth(id, 25)));
                if (answer.status() == 429) {
                  refused.add(answer);
                  return true;
                }
                assertThat(answer.status()).isEqualTo(202);
                return false;
              });
    } finally {
      controls.resume(Chain.ETH);
    }
    GatewayClient.Answer answer = refused.get(0);
    assertThat(Integer.parseInt(answer.retryAfter())).isBetween(1, 60);
    assertThat(answer.contentType()).startsWith("application/problem+json");
    assertThat(answer.body().path("type").asText()).endsWith("backpressure");
    assertThat(answer.body().path("detail").asText()).contains("limit 40", "nothing was written");
    // Once the consumers have caught up, batches are taken again.
    await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () ->
                bounded
                        .postBatch(
                            new BatchSubmission(
                                "bp-after", "ETH", stack.ethSource(), eth("bp-after", 1)))
                        .status()
                    == 202);
  }
}
