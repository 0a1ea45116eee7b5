package io.txgw.bench;

import io.txgw.common.json.Json;
import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Chain;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.model.PayoutStatus;
import io.txgw.deploy.infra.EmbeddedKafka;
import io.txgw.deploy.infra.GatewayProcess;
import io.txgw.deploy.infra.TempDirs;
import io.txgw.deploy.infra.TrustFiles;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * What open event streams cost the gateway: thousands of clients follow one large batch while its
 * results arrive, and a client posts small batches meanwhile. Prints the post latency with the
 * streams open against the same posts with none (same run), and the gateway's resident memory per
 * open stream. Usage: {@code benchmarks/run.sh streams [streams, default 2000] [payouts, 10000]}.
 */
public final class EventStreamBenchmark {
  static final String KEY = "streams-key-0123456789";
  static final String SOURCE = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
  static final String TO = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
  static final int POSTS = 200;

  public static void main(String[] args) throws Exception {
    int streams = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    int payouts = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
    Path work = Files.createTempDirectory("txgw-streams-bench-");
    Map<String, String> env =
        new HashMap<>(
            TrustFiles.create(work.resolve("trust"), Map.of("bench", List.of("ETH:" + SOURCE)))
                .env());
    env.put("TXGW_MAX_STREAMS", Integer.toString(streams + 10));
    env.put("TXGW_MAX_STREAMS_PER_CLIENT", Integer.toString(streams + 10));
    env.put("TXGW_MAX_CONNECTIONS", Integer.toString(streams + 100));
    env.put("TXGW_MAX_CONNECTIONS_PER_ADDRESS", Integer.toString(streams + 100));
    try (EmbeddedKafka kafka = new EmbeddedKafka(work.resolve("kafka"));
        GatewayProcess gateway =
            GatewayProcess.start(
                kafka.bootstrapServers(),
                "bench=" + KEY,
                env,
                IngestBenchmark.gatewayJvm(),
                work.resolve("logs"))) {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      String base = gateway.url();
      check(post(http, base, batch("base", payouts)), 202);
      check(post(http, base, batch("big", payouts)), 202);
      // Warm-up, then the baseline: posts while a batch's results arrive, with no stream open.
      latencies(http, base, "warm", POSTS);
      Thread baseResults =
          new Thread(() -> writeResults(kafka.bootstrapServers(), "base", payouts));
      baseResults.start();
      long[] quiet = latencies(http, base, "quiet", POSTS);
      baseResults.join();
      long rssQuiet = gateway.residentBytes();
      List<CompletableFuture<HttpResponse<Void>>> open = new ArrayList<>();
      AtomicLong refused = new AtomicLong();
      for (int i = 0; i < streams; i++) {
        open.add(
            http.sendAsync(
                    HttpRequest.newBuilder(URI.create(base + "/v1/batches/big/events"))
                        .header("X-Api-Key", KEY)
                        .build(),
                    HttpResponse.BodyHandlers.discarding())
                .whenComplete(
                    (r, e) -> {
                      if (e != null || r.statusCode() != 200) {
                        refused.incrementAndGet();
                      }
                    }));
      }
      // Results for the big batch arrive while the streams are open, as consumers would write them.
      Thread results = new Thread(() -> writeResults(kafka.bootstrapServers(), "big", payouts));
      results.start();
      long[] busy = latencies(http, base, "busy", POSTS);
      long rssBusy = gateway.residentBytes();
      results.join();
      System.out.printf(
          Locale.ROOT,
          "streams: %d opened on a %d-payout batch (%d refused or ended) while its %d results"
              + " arrived%n",
          streams,
          payouts,
          refused.get(),
          payouts);
      System.out.printf(
          Locale.ROOT,
          "post of 1 payout while a batch's results arrive: p50 %.1f ms / p99 %.1f ms with no"
              + " stream, p50 %.1f ms / p99 %.1f ms with the streams open on it: p99 ratio %.2f%n",
          pct(quiet, 50),
          pct(quiet, 99),
          pct(busy, 50),
          pct(busy, 99),
          pct(busy, 99) / pct(quiet, 99));
      System.out.printf(
          Locale.ROOT,
          "gateway resident memory: %d MB with no stream, %d MB with %d open (%.1f KB per stream),"
              + " %d MB at most; heap -Xmx 256 MB%n",
          rssQuiet >> 20,
          rssBusy >> 20,
          streams,
          (rssBusy - rssQuiet) / 1024.0 / streams,
          gateway.peakResidentBytes() >> 20);
      open.forEach(f -> f.cancel(true));
    } finally {
      TempDirs.deleteQuietly(work);
    }
  }

  private static void writeResults(String bootstrap, String batchId, int payouts) {
    try (KafkaProducer<String, PayoutResult> producer =
        new KafkaProducer<>(
            Map.of("bootstrap.servers", bootstrap, "linger.ms", 5),
            new StringSerializer(),
            new JsonSerde<>(PayoutResult.class).serializer())) {
      for (int i = 0; i < payouts; i++) {
        PayoutResult r =
            new PayoutResult(
                batchId + "-" + i,
                batchId,
                "bench",
                Chain.ETH,
                PayoutStatus.BROADCAST,
                "0x" + Integer.toHexString(i),
                "bench-node",
                null,
                Instant.now(),
                Instant.now());
        producer.send(new ProducerRecord<>(Topics.RESULTS, r.resultKey(), r));
        if (i % 500 == 499) {
          producer.flush();
          try {
            Thread.sleep(100); // about 5,000 results a second, as busy consumers write them
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
      }
    }
  }

  private static long[] latencies(HttpClient http, String base, String prefix, int n)
      throws Exception {
    long[] nanos = new long[n];
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      check(post(http, base, batch(prefix + "-" + i, 1)), 202);
      nanos[i] = System.nanoTime() - t0;
    }
    Arrays.sort(nanos);
    return nanos;
  }

  private static double pct(long[] sorted, int p) {
    return sorted[Math.min(sorted.length - 1, sorted.length * p / 100)] / 1e6;
  }

  private static HttpResponse<String> post(HttpClient http, String base, String body)
      throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(base + "/v1/batches"))
            .timeout(Duration.ofSeconds(60))
            .header("X-Api-Key", KEY)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static void check(HttpResponse<String> r, int status) {
    if (r.statusCode() != status) {
      throw new IllegalStateException("answered " + r.statusCode() + ": " + r.body());
    }
  }

  private static String batch(String batchId, int payouts) throws Exception {
    List<Map<String, String>> lines = new ArrayList<>(payouts);
    for (int i = 0; i < payouts; i++) {
      lines.add(Map.of("id", batchId + "-" + i, "to", TO, "amount", "0.001"));
    }
    return new String(
        Json.mapper()
            .writeValueAsBytes(
                Map.of("batchId", batchId, "chain", "ETH", "source", SOURCE, "payouts", lines)),
        StandardCharsets.UTF_8);
  }
}
