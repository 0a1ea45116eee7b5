package io.txgw.bench;

import io.txgw.deploy.fuzz.ApiFuzz;
import io.txgw.deploy.infra.EmbeddedKafka;
import io.txgw.deploy.infra.GatewayProcess;
import io.txgw.deploy.infra.TempDirs;
import io.txgw.deploy.infra.TrustFiles;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitrary;

/**
 * The HTTP API fuzzer of {@code ApiFuzzIT} for as long as asked, against a gateway in its own JVM:
 * cases per second, as a ratio to the same connections asking {@code /healthz} in the same run (the
 * cheapest answer the gateway gives); every broken answer; the gateway's resident memory before and
 * after. Usage: {@code benchmarks/run.sh fuzz [seconds, default 60] [threads, 8]}.
 */
public final class ApiFuzzBenchmark {
  static final String KEY = "fuzz-key-0123456789";

  /** Distinct cases drawn; cycled when the run asks for more. */
  static final int POOL = 100_000;

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 60;
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    Path work = Files.createTempDirectory("txgw-fuzz-bench-");
    try (EmbeddedKafka kafka = new EmbeddedKafka(work.resolve("kafka"));
        GatewayProcess gateway =
            GatewayProcess.start(
                kafka.bootstrapServers(),
                "fuzz=" + KEY,
                withoutAuthDelay(
                    TrustFiles.create(
                            work.resolve("trust"),
                            Map.of("fuzz", List.of("ETH:" + ApiFuzz.source())))
                        .env()),
                IngestBenchmark.gatewayJvm(),
                work.resolve("logs"))) {
      // Daemon threads: the client's pool must not keep the JVM alive once the run is over.
      HttpClient http =
          HttpClient.newBuilder()
              .executor(
                  Executors.newFixedThreadPool(
                      threads,
                      r -> {
                        Thread t = new Thread(r, "fuzz-http");
                        t.setDaemon(true);
                        return t;
                      }))
              .build();
      String base = gateway.url();
      long rssBefore = gateway.residentBytes();
      double healthz =
          rate(
                  threads,
                  Math.max(5, seconds / 4),
                  () -> {
                    HttpResponse<Void> r =
                        http.send(
                            HttpRequest.newBuilder(URI.create(base + "/healthz")).build(),
                            HttpResponse.BodyHandlers.discarding());
                    return r.statusCode() == 200
                        ? Optional.empty()
                        : Optional.of("healthz " + r.statusCode());
                  })
              .perSecond;
      ApiFuzz.Tally tally = new ApiFuzz.Tally();
      Arbitrary<ApiFuzz.Case> cases = ApiFuzz.cases(KEY);
      // jqwik samples on the thread that made the stream: a pool is drawn here and cycled.
      List<ApiFuzz.Case> pool = cases.sampleStream().limit(POOL).toList();
      AtomicLong turn = new AtomicLong();
      Run fuzz =
          rate(
              threads,
              seconds,
              () ->
                  ApiFuzz.send(http, base, pool.get((int) (turn.getAndIncrement() % POOL)), tally));
      long rssAfter = gateway.residentBytes();
      System.out.printf(
          Locale.ROOT,
          "fuzz: %d cases in %d s with %d threads: %.0f cases/s (healthz baseline %.0f req/s,"
              + " ratio %.3f); %d broken answers; %d payouts accepted%n",
          fuzz.count,
          seconds,
          threads,
          fuzz.perSecond,
          healthz,
          fuzz.perSecond / healthz,
          fuzz.broken.size(),
          tally.payoutsAccepted.get());
      System.out.printf(
          Locale.ROOT,
          "gateway resident memory: %d MB before, %d MB after, %d MB at most (heap -Xmx 256 MB)%n",
          rssBefore >> 20,
          rssAfter >> 20,
          gateway.peakResidentBytes() >> 20);
      fuzz.broken.stream().limit(20).forEach(b -> System.out.println("BROKEN " + b));
      if (!fuzz.broken.isEmpty()) {
        System.exit(1);
      }
    } finally {
      TempDirs.deleteQuietly(work);
    }
  }

  private static Map<String, String> withoutAuthDelay(Map<String, String> env) {
    Map<String, String> out = new java.util.HashMap<>(env);
    // Wrong keys are part of the fuzz: waiting on each would measure the delay, not the gateway.
    out.put("TXGW_AUTH_FAILURE_MAX_DELAY_MS", "0");
    out.put("TXGW_MAX_BODY_BYTES", "65536");
    return out;
  }

  interface Step {
    Optional<String> run() throws Exception;
  }

  record Run(long count, double perSecond, List<String> broken) {}

  private static Run rate(int threads, int seconds, Step step) throws InterruptedException {
    AtomicLong count = new AtomicLong();
    ConcurrentLinkedQueue<String> broken = new ConcurrentLinkedQueue<>();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    long start = System.nanoTime();
    long end = start + TimeUnit.SECONDS.toNanos(seconds);
    for (int t = 0; t < threads; t++) {
      pool.submit(
          () -> {
            while (System.nanoTime() < end) {
              try {
                step.run().ifPresent(broken::add);
              } catch (Exception e) {
                broken.add(e.toString());
              }
              count.incrementAndGet();
            }
          });
    }
    pool.shutdown();
    pool.awaitTermination(seconds + 60L, TimeUnit.SECONDS);
    double elapsed = (System.nanoTime() - start) / 1e9;
    return new Run(count.get(), count.get() / elapsed, List.copyOf(broken));
  }
}
