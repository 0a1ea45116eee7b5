package io.txgw.deploy.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txgw.common.kafka.Topics;
import io.txgw.common.security.RecordSeal;
import io.txgw.deploy.fuzz.ApiFuzz;
import io.txgw.deploy.infra.EmbeddedKafka;
import io.txgw.deploy.infra.TempDirs;
import io.txgw.deploy.infra.TrustFiles;
import io.txgw.gateway.Gateway;
import io.txgw.gateway.GatewayConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;

/**
 * Fuzzes a real gateway's HTTP API (see {@link ApiFuzz}): every answer is a 2xx for a valid batch
 * or a 4xx problem, never a 5xx; after the run, sendto holds exactly the payouts answered 202 (a
 * refused request wrote nothing) and the gateway still serves. {@code benchmarks/run.sh fuzz} runs
 * the same cases for as long as asked.
 */
class ApiFuzzIT {
  static final String KEY = "fuzz-key-0123456789";
  static Path dir;
  static EmbeddedKafka kafka;
  static Gateway gateway;
  static HttpClient http;
  static final ApiFuzz.Tally tally = new ApiFuzz.Tally();

  @BeforeContainer
  static void start() throws Exception {
    dir = java.nio.file.Files.createTempDirectory("txgw-fuzz-");
    kafka = new EmbeddedKafka(dir.resolve("kafka"));
    Map<String, String> env = new HashMap<>();
    env.put("TXGW_HTTP_PORT", "0");
    env.put("TXGW_ADMIN_PORT", "0");
    env.put("TXGW_KAFKA_BOOTSTRAP", kafka.bootstrapServers());
    env.putAll(io.txgw.common.kafka.TopicSettings.ONE_BROKER.env());
    env.put("TXGW_API_KEYS", "fuzz=" + KEY);
    env.put("TXGW_RATE_LIMIT", "0");
    // Wrong keys are part of the fuzz; their slowdown is tested on its own.
    env.put("TXGW_AUTH_FAILURE_MAX_DELAY_MS", "0");
    env.put("TXGW_MAX_BODY_BYTES", "65536");
    env.put("TXGW_STATE_DIR", dir.resolve("state").toString());
    env.putAll(
        TrustFiles.create(dir.resolve("trust"), Map.of("fuzz", List.of("ETH:" + ApiFuzz.source())))
            .env());
    gateway = new Gateway(GatewayConfig.fromEnv(env)).start();
    http = HttpClient.newHttpClient();
  }

  @AfterContainer
  static void stop() throws Exception {
    try {
      if (http == null) {
        return; // the start failed, and says why
      }
      assertThat(
              http.send(
                      HttpRequest.newBuilder(URI.create(base() + "/healthz")).build(),
                      HttpResponse.BodyHandlers.discarding())
                  .statusCode())
          .isEqualTo(200);
      // Nothing but the accepted payouts was written: every refused request left sendto alone.
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(() -> assertThat(sendtoRecords()).isEqualTo(tally.payoutsAccepted.get()));
    } finally {
      if (gateway != null) {
        gateway.close();
      }
      if (kafka != null) {
        kafka.close();
      }
      TempDirs.deleteQuietly(dir);
    }
  }

  static String base() {
    return "http://127.0.0.1:" + gateway.port();
  }

  /** Records in sendto: committed payouts, each a transaction's record (markers excluded). */
  static long sendtoRecords() throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
      TopicDescription topic =
          admin.describeTopics(List.of(Topics.SENDTO)).allTopicNames().get().get(Topics.SENDTO);
      Map<TopicPartition, OffsetSpec> ends = new HashMap<>();
      topic
          .partitions()
          .forEach(
              p -> ends.put(new TopicPartition(Topics.SENDTO, p.partition()), OffsetSpec.latest()));
      long count = 0;
      try (org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]> c =
          new org.apache.kafka.clients.consumer.KafkaConsumer<>(
              Map.of(
                  "bootstrap.servers", kafka.bootstrapServers(),
                  "isolation.level", "read_committed",
                  "key.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer",
                  "value.deserializer",
                      "org.apache.kafka.common.serialization.ByteArrayDeserializer"))) {
        c.assign(ends.keySet());
        c.seekToBeginning(ends.keySet());
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> last =
            admin.listOffsets(ends).all().get();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
          for (var r : c.poll(Duration.ofMillis(200))) {
            if (r.headers().lastHeader(RecordSeal.HEADER) != null) {
              count++;
            }
          }
          boolean done = true;
          for (var e : last.entrySet()) {
            done &= c.position(e.getKey()) >= e.getValue().offset();
          }
          if (done) {
            break;
          }
        }
      }
      return count;
    }
  }

  @Provide
  Arbitrary<ApiFuzz.Case> requests() {
    return ApiFuzz.cases(KEY);
  }

  @Property(tries = 400)
  void everyAnswerIsA2xxForAValidBatchOrA4xxProblemAndNeverA5xx(
      @ForAll("requests") ApiFuzz.Case request) throws Exception {
    Optional<String> wrong = ApiFuzz.send(http, base(), request, tally);
    assertThat(wrong).isEmpty();
  }
}
