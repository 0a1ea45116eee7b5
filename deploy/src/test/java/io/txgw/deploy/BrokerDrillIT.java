package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.json.Json;
import io.txgw.common.kafka.Topics;
import io.txgw.deploy.infra.KafkaCluster;
import io.txgw.deploy.infra.TempDirs;
import io.txgw.gateway.Gateway;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The first fault drill, short form: a gateway on a three-node Kafka cluster (topics replicated
 * three ways, a write taken once two hold it) keeps taking batches while the node leading most
 * {@code sendto} partitions is killed with SIGKILL and started again. Clients retry a batch that
 * was not answered 202 under the same {@code batchId}, as the API says is safe. Every payout
 * answered 202 is on {@code sendto} exactly once, and batches were taken while the node was down.
 */
class BrokerDrillIT {
  static final String SOURCE = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
  static final String KEY = "drill-key-0123456789";
  static final int BATCHES = 240;
  static final int PER_BATCH = 10;

  static Path dir;
  static KafkaCluster cluster;
  static Gateway gateway;

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("txgw-drill-");
    cluster = new KafkaCluster(dir, 3);
    gateway = TestGateways.start(cluster.clientEnv(), dir, "acme", KEY, "ETH:" + SOURCE);
  }

  @AfterAll
  static void stop() {
    if (gateway != null) {
      gateway.close();
    }
    if (cluster != null) {
      cluster.close();
    }
    TempDirs.deleteQuietly(dir);
  }

  static String batch(int b) {
    StringBuilder payouts = new StringBuilder();
    for (int i = 0; i < PER_BATCH; i++) {
      if (i > 0) {
        payouts.append(',');
      }
      String to = String.format("0x%040x", 0x1000L + (long) b * PER_BATCH + i);
      payouts
          .append("{\"id\":\"d-")
          .append(b)
          .append('-')
          .append(i)
          .append("\",\"to\":\"")
          .append(to)
          .append("\",\"amount\":\"0.001\"}");
    }
    return "{\"batchId\":\"drill-"
        + b
        + "\",\"chain\":\"ETH\",\"source\":\""
        + SOURCE
        + "\",\"payouts\":["
        + payouts
        + "]}";
  }

  /** Posts batch {@code b}: the answer's status, -1 when none came. */
  static int post(HttpClient http, int b) throws InterruptedException {
    try {
      return http.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + gateway.port() + "/v1/batches"))
                  .timeout(Duration.ofSeconds(30))
                  .header("X-Api-Key", KEY)
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(batch(b)))
                  .build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (java.io.IOException e) {
      return -1;
    }
  }

  @Test
  void theLeadingBrokerKilledMidRunLosesAndDoublesNoPayoutAndIngestGoesOn() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    AtomicInteger next = new AtomicInteger();
    AtomicInteger accepted = new AtomicInteger();
    AtomicInteger acceptedWhileDown = new AtomicInteger();
    AtomicInteger retries = new AtomicInteger();
    AtomicLong longestMillis = new AtomicLong();
    AtomicLong downSince = new AtomicLong();
    Map<Integer, Integer> answers = new java.util.concurrent.ConcurrentHashMap<>();
    ExecutorService posters = Executors.newFixedThreadPool(4);
    List<Future<?>> running = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      running.add(
          posters.submit(
              () -> {
                for (int b = next.getAndIncrement(); b < BATCHES; b = next.getAndIncrement()) {
                  long started = System.nanoTime();
                  int batch = b;
                  // Until taken: a batch not taken, or not known to be, is posted again under its
                  // batchId, which the API says is safe.
                  await()
                      .atMost(Duration.ofMinutes(2))
                      .pollInterval(Duration.ofMillis(200))
                      .until(
                          () -> {
                            int status = post(http, batch);
                            answers.merge(status, 1, Integer::sum);
                            if (status != 202) {
                              retries.incrementAndGet();
                            }
                            return status == 202;
                          });
                  longestMillis.accumulateAndGet(
                      (System.nanoTime() - started) / 1_000_000, Math::max);
                  accepted.incrementAndGet();
                  if (downSince.get() != 0) {
                    acceptedWhileDown.incrementAndGet();
                  }
                }
                return null;
              }));
    }
    await().atMost(Duration.ofMinutes(2)).until(() -> accepted.get() >= BATCHES / 3);
    int victim = cluster.leaderOfMost(Topics.SENDTO);
    downSince.set(System.nanoTime());
    cluster.kill(victim);
    await()
        .atMost(Duration.ofMinutes(2))
        .until(() -> accepted.get() >= 2 * BATCHES / 3 || accepted.get() == BATCHES);
    int whileDown = acceptedWhileDown.get();
    cluster.start(victim);
    downSince.set(0);
    for (Future<?> f : running) {
      f.get(); // a poster that gave up fails the test here
    }
    posters.shutdown();
    long restarted = System.nanoTime();
    await().atMost(Duration.ofMinutes(2)).until(() -> cluster.fullyInSync(Topics.SENDTO));
    double inSync = (System.nanoTime() - restarted) / 1e9;

    Map<String, Integer> seen = readSendto();
    Set<String> expected = new HashSet<>();
    for (int b = 0; b < BATCHES; b++) {
      for (int i = 0; i < PER_BATCH; i++) {
        expected.add("d-" + b + "-" + i);
      }
    }
    System.out.printf(
        java.util.Locale.ROOT,
        "broker drill: %d payouts in %d batches; node %d (leading most of sendto) killed, %d batches"
            + " taken while it was down; answers %s, %d retries; longest wait for a batch %.1f s;"
            + " all replicas in sync %.1f s after its restart%n",
        BATCHES * PER_BATCH,
        BATCHES,
        victim + 1,
        whileDown,
        answers,
        retries.get(),
        longestMillis.get() / 1000.0,
        inSync);
    assertThat(whileDown).as("batches taken while the node was down").isPositive();
    assertThat(seen.keySet()).isEqualTo(expected);
    assertThat(seen.values()).as("each payout on sendto once").allMatch(n -> n == 1);
  }

  /** Every payout id on {@code sendto} as read_committed consumers see it, with its count. */
  static Map<String, Integer> readSendto() throws Exception {
    Map<String, Integer> seen = new HashMap<>();
    try (Admin admin = cluster.admin();
        KafkaConsumer<byte[], byte[]> consumer =
            new KafkaConsumer<>(
                Map.of(
                    "bootstrap.servers", cluster.bootstrapServers(),
                    "isolation.level", "read_committed",
                    "key.deserializer",
                        "org.apache.kafka.common.serialization.ByteArrayDeserializer",
                    "value.deserializer",
                        "org.apache.kafka.common.serialization.ByteArrayDeserializer"))) {
      Map<TopicPartition, OffsetSpec> ends = new HashMap<>();
      admin
          .describeTopics(List.of(Topics.SENDTO))
          .allTopicNames()
          .get()
          .get(Topics.SENDTO)
          .partitions()
          .forEach(
              p -> ends.put(new TopicPartition(Topics.SENDTO, p.partition()), OffsetSpec.latest()));
      var last =
          admin
              .listOffsets(
                  ends,
                  new org.apache.kafka.clients.admin.ListOffsetsOptions(
                      org.apache.kafka.common.IsolationLevel.READ_COMMITTED))
              .all()
              .get();
      consumer.assign(ends.keySet());
      consumer.seekToBeginning(ends.keySet());
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (System.nanoTime() < deadline) {
        for (var r : consumer.poll(Duration.ofMillis(200))) {
          JsonNode payout = Json.mapper().readTree(r.value());
          seen.merge(payout.path("id").asText(), 1, Integer::sum);
        }
        boolean done = true;
        for (var e : last.entrySet()) {
          done &= consumer.position(e.getKey()) >= e.getValue().offset();
        }
        if (done) {
          break;
        }
      }
    }
    return seen;
  }
}
