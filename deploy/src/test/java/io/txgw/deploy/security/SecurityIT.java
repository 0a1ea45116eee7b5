package io.txgw.deploy.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.json.Json;
import io.txgw.common.kafka.Topics;
import io.txgw.common.security.RecordSeal;
import io.txgw.deploy.infra.EmbeddedKafka;
import io.txgw.gateway.Gateway;
import io.txgw.gateway.GatewayConfig;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway's trust boundary against a real broker: TLS from PEM files, the admin port, security
 * headers, scoped and reloaded keys, spending rights, recipient lists and batch maxima, rate
 * limits, event stream caps, the audit log, and the seal on every record it writes.
 */
class SecurityIT {
  static final String SOURCE = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
  static final String NOT_OURS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
  static final String DENIED = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359";
  static final String ALICE = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
  static final String PAYER_KEY = "payer-key-0123456789";
  static final String READER_KEY = "reader-key-0123456789";
  static final String HASTY_KEY = "hasty-key-0123456789";
  static final String DAILY_KEY = "daily-key-0123456789";

  @TempDir static Path dir;
  static EmbeddedKafka kafka;
  static Gateway gateway;
  static Gateway second;
  static SelfSignedTls tls;
  static HttpClient http;
  static Path keysFile;
  static String recordKeys;

  @BeforeAll
  static void start() throws Exception {
    kafka = new EmbeddedKafka(dir.resolve("kafka"));
    tls = SelfSignedTls.create(dir.resolve("tls"));
    http = HttpClient.newBuilder().sslContext(tls.clientContext).build();
    keysFile = dir.resolve("api-keys");
    Files.writeString(
        keysFile,
        "# client[:scopes]=key\nacme="
            + PAYER_KEY
            + "\nacme:read="
            + READER_KEY
            + "\nhasty="
            + HASTY_KEY
            + "\ndaily="
            + DAILY_KEY
            + "\n");
    Path clients = dir.resolve("clients.json");
    Files.writeString(
        clients,
        """
        {"clients": {
          "acme": {"spend": ["ETH:%s"], "maxBatchTotal": {"ETH": "5"}, "deny": ["%s"]},
          "hasty": {"spend": []},
          "daily": {"spend": ["ETH:%s"], "maxDailyTotal": {"ETH": "5"}}
        }}
        """
            .formatted(SOURCE.toLowerCase(), DENIED.toLowerCase(), SOURCE));
    recordKeys = RecordSeal.generate("k1");
    Map<String, String> env = new HashMap<>();
    env.put("TXGW_HTTP_PORT", "0");
    env.put("TXGW_ADMIN_PORT", "0");
    env.put("TXGW_KAFKA_BOOTSTRAP", kafka.bootstrapServers());
    env.putAll(io.txgw.common.kafka.TopicSettings.ONE_BROKER.env());
    env.put("TXGW_API_KEYS_FILE", keysFile.toString());
    env.put("TXGW_CLIENTS_FILE", clients.toString());
    env.put("TXGW_RECORD_KEYS", recordKeys);
    env.put("TXGW_TLS_CERT", tls.certPem.toString());
    env.put("TXGW_TLS_KEY", tls.keyPem.toString());
    env.put("TXGW_RATE_LIMIT", "5");
    env.put("TXGW_MAX_STREAMS_PER_CLIENT", "2");
    env.put("TXGW_STATE_DIR", dir.resolve("state").toString());
    env.put("TXGW_AUDIT_LOG", dir.resolve("audit.log").toString());
    gateway = new Gateway(GatewayConfig.fromEnv(env)).start();
    env.put("TXGW_GATEWAY_ID", "gateway-2");
    env.put("TXGW_STATE_DIR", dir.resolve("state-2").toString());
    env.put("TXGW_AUDIT_LOG", dir.resolve("audit-2.log").toString());
    second = new Gateway(GatewayConfig.fromEnv(env)).start();
  }

  @AfterAll
  static void stop() {
    if (second != null) {
      second.close();
    }
    if (gateway != null) {
      gateway.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  static String api() {
    return "https://127.0.0.1:" + gateway.port();
  }

  static HttpResponse<String> get(String path, String key) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api() + path)).GET();
    if (key != null) {
      b.header("X-Api-Key", key);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> post(String key, String body) throws Exception {
    return post(api(), key, body);
  }

  static HttpResponse<String> post(String base, String key, String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(base + "/v1/batches"))
            .header("X-Api-Key", key)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static String batch(String batchId, String source, String... toAndAmount) {
    StringBuilder payouts = new StringBuilder();
    for (int i = 0; i < toAndAmount.length; i += 2) {
      if (i > 0) {
        payouts.append(',');
      }
      payouts
          .append("{\"id\":\"")
          .append(batchId)
          .append('-')
          .append(i / 2)
          .append("\",\"to\":\"")
          .append(toAndAmount[i])
          .append("\",\"amount\":\"")
          .append(toAndAmount[i + 1])
          .append("\"}");
    }
    return "{\"batchId\":\"%s\",\"chain\":\"ETH\",\"source\":\"%s\",\"payouts\":[%s]}"
        .formatted(batchId, source, payouts);
  }

  static JsonNode json(HttpResponse<String> r) throws Exception {
    return Json.mapper().readTree(r.body());
  }

  @Test
  void everyAnswerComesOverTlsWithSecurityHeadersAndPlainHttpIsNotServed() throws Exception {
    HttpResponse<String> r = get("/ui/", null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("X-Content-Type-Options")).contains("nosniff");
    assertThat(r.headers().firstValue("X-Frame-Options")).contains("DENY");
    assertThat(r.headers().firstValue("Content-Security-Policy").orElseThrow())
        .contains("frame-ancestors 'none'", "default-src 'none'");
    assertThat(r.headers().firstValue("Strict-Transport-Security")).isPresent();
    assertThatThrownBy(
            () ->
                HttpClient.newHttpClient()
                    .send(
                        HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + gateway.port() + "/healthz"))
                            .timeout(Duration.ofSeconds(10))
                            .build(),
                        HttpResponse.BodyHandlers.ofString()))
        .isInstanceOf(java.io.IOException.class);
  }

  @Test
  void metricsAreOnTheAdminPortAndNotOnTheApiPort() throws Exception {
    assertThat(get("/metrics", PAYER_KEY).statusCode()).isEqualTo(404);
    HttpResponse<String> admin =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + gateway.adminPort() + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(admin.statusCode()).isEqualTo(200);
    assertThat(admin.body()).contains("txgw_");
  }

  @Test
  void aKeyWithoutThePayScopeReadsButCannotPost() throws Exception {
    HttpResponse<String> r = post(READER_KEY, batch("read-only-1", SOURCE, ALICE, "1"));
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(json(r).path("type").asText()).endsWith("forbidden");
    assertThat(get("/v1/batches/read-only-1", READER_KEY).statusCode()).isEqualTo(404);
  }

  @Test
  void aSourceTheClientMayNotSpendFromIsRefusedNamedAndNothingIsWritten() throws Exception {
    HttpResponse<String> r = post(PAYER_KEY, batch("not-ours-1", NOT_OURS, ALICE, "1"));
    assertThat(r.statusCode()).isEqualTo(422);
    assertThat(json(r).path("violations").get(0).path("field").asText()).isEqualTo("source");
    assertThat(json(r).path("violations").get(0).path("reason").asText())
        .contains("may not spend from ETH:" + NOT_OURS);
    assertThat(get("/v1/batches/not-ours-1", PAYER_KEY).statusCode()).isEqualTo(404);
  }

  @Test
  void aDeniedRecipientAndTheZeroAddressAreEachRefusedByIndex() throws Exception {
    HttpResponse<String> r =
        post(
            PAYER_KEY,
            batch(
                "denied-1",
                SOURCE,
                DENIED,
                "1",
                "0x0000000000000000000000000000000000000000",
                "1",
                ALICE,
                "1"));
    assertThat(r.statusCode()).isEqualTo(422);
    List<String> named = new ArrayList<>();
    json(r)
        .path("violations")
        .forEach(v -> named.add(v.path("index").asInt() + ":" + v.path("field").asText()));
    assertThat(named).containsExactlyInAnyOrder("0:to", "1:to");
  }

  @Test
  void aBatchAboveTheClientsPerBatchTotalIsRefused() throws Exception {
    HttpResponse<String> r =
        post(PAYER_KEY, batch("too-much-1", SOURCE, ALICE, "3", NOT_OURS, "2.000000000000000001"));
    assertThat(r.statusCode()).isEqualTo(422);
    assertThat(json(r).path("violations").get(0).path("reason").asText())
        .contains("5.000000000000000001 ETH in total", "per-batch maximum of 5");
  }

  @Test
  void anAcceptedBatchIsSealedAndAuditedAndARefusedOneIsAuditedToo() throws Exception {
    assertThat(post(PAYER_KEY, batch("sealed-1", SOURCE, ALICE, "1.5", NOT_OURS, "2")).statusCode())
        .isEqualTo(202);
    assertThat(post(PAYER_KEY, batch("refused-1", NOT_OURS, ALICE, "1")).statusCode())
        .isEqualTo(422);
    RecordSeal seal = RecordSeal.parse(new io.txgw.common.config.Secret(recordKeys));
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "security-it");
    List<ConsumerRecord<String, byte[]>> sealed = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> c =
        new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
      c.subscribe(List.of(Topics.SENDTO));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                c.poll(Duration.ofMillis(200))
                    .forEach(
                        r -> {
                          if (new String(r.value()).contains("\"sealed-1\"")) {
                            sealed.add(r);
                          }
                        });
                return sealed.size() == 2;
              });
    }
    for (ConsumerRecord<String, byte[]> r : sealed) {
      assertThat(seal.verify(r.key(), r.value(), r.headers().lastHeader(RecordSeal.HEADER).value()))
          .isEqualTo(RecordSeal.Verdict.VALID);
    }
    List<JsonNode> audit = new ArrayList<>();
    for (String line : Files.readAllLines(dir.resolve("audit.log"))) {
      audit.add(Json.mapper().readTree(line));
    }
    assertThat(audit)
        .anySatisfy(
            e -> {
              assertThat(e.path("event").asText()).isEqualTo("ACCEPTED");
              assertThat(e.path("batchId").asText()).isEqualTo("sealed-1");
              assertThat(e.path("client").asText()).isEqualTo("acme");
              assertThat(e.path("totals").path("ETH").asText()).isEqualTo("3.5");
              assertThat(e.path("contentSha256").asText()).hasSize(64);
            })
        .anySatisfy(
            e -> {
              assertThat(e.path("event").asText()).isEqualTo("REFUSED");
              assertThat(e.path("batchId").asText()).isEqualTo("refused-1");
              assertThat(e.path("status").asInt()).isEqualTo(422);
              assertThat(e.path("bodySha256").asText()).hasSize(64);
            });
    assertThat(Files.readString(dir.resolve("audit.log"))).doesNotContain(PAYER_KEY);
  }

  @Test
  void aClientOverItsRequestRateIsAnswered429WithRetryAfterAndOthersAreServed() throws Exception {
    List<HttpResponse<String>> answers = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      answers.add(get("/v1/batches/none", HASTY_KEY));
    }
    assertThat(answers).anySatisfy(r -> assertThat(r.statusCode()).isEqualTo(404));
    assertThat(answers)
        .anySatisfy(
            r -> {
              assertThat(r.statusCode()).isEqualTo(429);
              assertThat(r.headers().firstValue("Retry-After")).isPresent();
              assertThat(r.headers().firstValue("Content-Type").orElseThrow())
                  .startsWith("application/problem+json");
            });
    assertThat(get("/v1/batches/none", READER_KEY).statusCode()).isEqualTo(404);
  }

  @Test
  void aClientMayHoldOnlyItsShareOfEventStreams() throws Exception {
    assertThat(post(PAYER_KEY, batch("streamed-1", SOURCE, ALICE, "0.1")).statusCode())
        .isEqualTo(202);
    List<InputStream> open = new ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        HttpResponse<InputStream> r =
            http.send(
                HttpRequest.newBuilder(URI.create(api() + "/v1/batches/streamed-1/events"))
                    .header("X-Api-Key", READER_KEY)
                    .build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        open.add(r.body());
      }
      HttpResponse<String> third = get("/v1/batches/streamed-1/events", PAYER_KEY);
      assertThat(third.statusCode()).isEqualTo(429);
      assertThat(json(third).path("type").asText()).endsWith("too-many-streams");
    } finally {
      for (InputStream in : open) {
        in.close();
      }
    }
    // Closed streams give their places back.
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> {
              HttpResponse<InputStream> r =
                  http.send(
                      HttpRequest.newBuilder(URI.create(api() + "/v1/batches/streamed-1/events"))
                          .header("X-Api-Key", PAYER_KEY)
                          .build(),
                      HttpResponse.BodyHandlers.ofInputStream());
              r.body().close();
              return r.statusCode() == 200;
            });
  }

  @Test
  void keysAreReadAgainFromTheirFileWithoutARestart() throws Exception {
    String fresh = "fresh-key-0123456789";
    String keys = Files.readString(keysFile);
    Files.writeString(keysFile, keys.replace("acme:read=" + READER_KEY, "acme:read=" + fresh));
    try {
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> get("/v1/batches/none", fresh).statusCode() == 404);
      assertThat(get("/v1/batches/none", READER_KEY).statusCode()).isEqualTo(401);
    } finally {
      Files.writeString(keysFile, keys);
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> get("/v1/batches/none", READER_KEY).statusCode() == 404);
    }
  }

  @Test
  void aClientsDailyMaximumHoldsAcrossGatewayInstances() throws Exception {
    String secondApi = "https://127.0.0.1:" + second.port();
    assertThat(post(DAILY_KEY, batch("daily-1", SOURCE, ALICE, "3")).statusCode()).isEqualTo(202);
    // The other instance learns what this one wrote from Kafka, not from this process. Polled
    // well below the client's request rate, which the posts after it need.
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              HttpResponse<String> limits =
                  http.send(
                      HttpRequest.newBuilder(URI.create(secondApi + "/v1/limits"))
                          .header("X-Api-Key", DAILY_KEY)
                          .build(),
                      HttpResponse.BodyHandlers.ofString());
              return json(limits)
                  .path("maxDailyTotal")
                  .path("ETH")
                  .path("spent")
                  .asText()
                  .equals("3");
            });
    HttpResponse<String> over = post(secondApi, DAILY_KEY, batch("daily-2", SOURCE, ALICE, "2.5"));
    assertThat(over.statusCode()).isEqualTo(422);
    assertThat(json(over).path("violations").get(0).path("reason").asText())
        .contains("to 5.5 ETH", "daily maximum of 5");
    assertThat(post(secondApi, DAILY_KEY, batch("daily-3", SOURCE, ALICE, "2")).statusCode())
        .isEqualTo(202);
  }
}
