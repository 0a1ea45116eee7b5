package io.txgw.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Chain;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.PayoutLine;
import io.txgw.deploy.LocalStack;
import io.txgw.loadgen.GatewayClient;
import io.txgw.loadgen.PayoutFactory;
import java.io.PrintStream;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * How soon a result written by a consumer shows: in {@code GET /v1/batches/{id}} (polled every
 * {@value #POLL_MS} ms), in the batch's server-sent events, and in the gateway's lag metric. Each
 * against the result's own record timestamp (the consumer's send, before its transaction commits),
 * with a plain read_committed consumer of the results topic as the baseline: the floor any view of
 * Kafka has.
 */
public final class VisibilityBenchmark {
  static final long POLL_MS = 50;
  private static final PrintStream out = System.out;

  private VisibilityBenchmark() {}

  /** Milliseconds from each result's record timestamp until a reader saw it. */
  public record Delays(String reader, List<Long> millis) {
    long percentile(double p) {
      List<Long> sorted = millis.stream().sorted().toList();
      if (sorted.isEmpty()) {
        return -1;
      }
      return sorted.get((int) Math.min(sorted.size() - 1, Math.ceil(p * sorted.size()) - 1));
    }
  }

  /**
   * @param lagMetricMillis from the last result's timestamp until the gateway's /metrics showed no
   *     lag
   */
  public record Result(
      int payouts, List<Delays> delays, long lagMetricMillis, Delays fullGet, Delays countsGet) {}

  public static void main(String[] args) throws Exception {
    int payouts = args.length > 0 ? Integer.parseInt(args[0]) : 2_000;
    print(run(payouts));
  }

  public static Result run(int payouts) throws Exception {
    try (LocalStack stack = LocalStack.start(LocalStack.Options.defaults());
        KafkaConsumer<String, PayoutResult> results = resultsReader(stack.kafkaBootstrap())) {
      GatewayClient client = new GatewayClient(stack.gatewayUrl(), stack.apiKey());
      PayoutFactory factory = new PayoutFactory(new AddressCodec(BitcoinNetwork.BCOIN_REGTEST), 11);
      List<PayoutLine> lines =
          factory.payouts(
              Chain.ETH, "vis", payouts, BigInteger.ONE, new BigInteger("100000000000000000"));
      Map<String, Long> written = new ConcurrentHashMap<>();
      Map<String, Long> baseline = new ConcurrentHashMap<>();
      Map<String, Long> polled = new ConcurrentHashMap<>();
      Map<String, Long> pushed = new ConcurrentHashMap<>();

      if (client.postBatch(new BatchSubmission("vis", "ETH", stack.ethSource(), lines)).status()
          != 202) {
        throw new IllegalStateException("batch not accepted");
      }
      CompletableFuture<Void> events =
          CompletableFuture.runAsync(
              () -> {
                try {
                  client.events(
                      "vis",
                      (event, data) -> {
                        long now = System.currentTimeMillis();
                        if (event.equals("payouts")) {
                          data.path("payouts")
                              .forEach(p -> pushed.putIfAbsent(p.path("id").asText(), now));
                        }
                      });
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
      long nextPoll = 0;
      while (polled.size() < payouts) {
        for (ConsumerRecord<String, PayoutResult> r : results.poll(Duration.ofMillis(10))) {
          long now = System.currentTimeMillis();
          written.putIfAbsent(r.value().payoutId(), r.timestamp());
          baseline.putIfAbsent(r.value().payoutId(), now);
        }
        if (System.currentTimeMillis() >= nextPoll) {
          nextPoll = System.currentTimeMillis() + POLL_MS;
          JsonNode status = client.batch("vis").body();
          long now = System.currentTimeMillis();
          for (JsonNode p : status.path("payouts")) {
            if (!p.path("status").asText().equals("ACCEPTED")) {
              polled.putIfAbsent(p.path("id").asText(), now);
            }
          }
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(polled.size() + " of " + payouts + " shown in 10 min");
        }
      }
      events.get(2, TimeUnit.MINUTES);
      while (written.size() < payouts) {
        for (ConsumerRecord<String, PayoutResult> r : results.poll(Duration.ofMillis(100))) {
          written.putIfAbsent(r.value().payoutId(), r.timestamp());
          baseline.putIfAbsent(r.value().payoutId(), System.currentTimeMillis());
        }
      }
      long lastWritten = written.values().stream().mapToLong(Long::longValue).max().orElseThrow();
      long lagShown = awaitNoLag(stack.gatewayAdminUrl() + "/metrics");
      Delays fullGet = timeGets(client, "/v1/batches/vis", "GET every payout's state");
      Delays countsGet = timeGets(client, "/v1/batches/vis?payouts=false", "GET the counts alone");
      return new Result(
          payouts,
          List.of(
              delays("read_committed consumer (baseline)", written, baseline),
              delays("GET /v1/batches/{id} every " + POLL_MS + " ms", written, polled),
              delays("server-sent events", written, pushed)),
          lagShown - lastWritten,
          fullGet,
          countsGet);
    }
  }

  /** Milliseconds each of 30 reads of the finished batch took, after 10 to warm up. */
  private static Delays timeGets(GatewayClient client, String path, String name) throws Exception {
    List<Long> millis = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      long t0 = System.nanoTime();
      if (client.get(path).status() != 200) {
        throw new IllegalStateException(path + " did not answer 200");
      }
      if (i >= 10) {
        millis.add((System.nanoTime() - t0) / 1_000_000);
      }
    }
    return new Delays(name, millis);
  }

  private static Delays delays(String name, Map<String, Long> written, Map<String, Long> seen) {
    List<Long> millis = new ArrayList<>();
    seen.forEach(
        (id, at) -> {
          Long w = written.get(id);
          if (w != null) {
            millis.add(Math.max(0, at - w));
          }
        });
    return new Delays(name, millis);
  }

  /** Polls the gateway's metrics until every partition's lag gauge reads 0; returns when. */
  private static long awaitNoLag(String metricsUrl) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (System.nanoTime() < deadline) {
      String body =
          http.send(
                  HttpRequest.newBuilder(URI.create(metricsUrl)).build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      double lag = 0;
      boolean any = false;
      for (String line : body.split("\n")) {
        if (line.startsWith("txgw_consumer_lag_records{")) {
          lag += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
          any = true;
        }
      }
      if (any && lag == 0) {
        return System.currentTimeMillis();
      }
      TimeUnit.MILLISECONDS.sleep(POLL_MS);
    }
    throw new IllegalStateException("the lag metric did not reach 0 within 2 minutes");
  }

  private static KafkaConsumer<String, PayoutResult> resultsReader(String bootstrap) {
    KafkaConsumer<String, PayoutResult> consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false),
            new StringDeserializer(),
            new JsonSerde<>(PayoutResult.class));
    List<TopicPartition> partitions =
        consumer.partitionsFor(Topics.RESULTS).stream()
            .map(p -> new TopicPartition(p.topic(), p.partition()))
            .toList();
    consumer.assign(partitions);
    consumer.seekToEnd(partitions);
    partitions.forEach(consumer::position);
    return consumer;
  }

  public static void print(Result r) {
    out.printf(Locale.ROOT, "%nResult visibility, %d ETH payouts in one batch%n", r.payouts());
    out.printf(
        Locale.ROOT,
        "%-40s %8s %8s %8s %8s %8s%n",
        "reader",
        "results",
        "p50 ms",
        "p99 ms",
        "max ms",
        "vs base");
    long base = r.delays().get(0).percentile(0.5);
    for (Delays d : r.delays()) {
      long p50 = d.percentile(0.5);
      out.printf(
          Locale.ROOT,
          "%-40s %8d %8d %8d %8d %8s%n",
          d.reader(),
          d.millis().size(),
          p50,
          d.percentile(0.99),
          d.percentile(1.0),
          base > 0 ? String.format(Locale.ROOT, "%.1fx", (double) p50 / base) : "-");
    }
    out.printf(
        Locale.ROOT,
        "lag metric at 0 on the gateway's /metrics %d ms after the last result was written"
            + " (read every 1 s)%n",
        r.lagMetricMillis());
    for (Delays d : List.of(r.fullGet(), r.countsGet())) {
      out.printf(
          Locale.ROOT,
          "%s of the %d-payout batch: p50 %d ms, max %d ms (%d reads)%n",
          d.reader(),
          r.payouts(),
          d.percentile(0.5),
          d.percentile(1.0),
          d.millis().size());
    }
  }
}
