package io.txgw.bench;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.json.Json;
import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import io.txgw.common.model.Payout;
import io.txgw.common.validation.BatchRules;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.BatchValidator;
import io.txgw.common.validation.PayoutLine;
import io.txgw.common.validation.ValidatedBatch;
import io.txgw.deploy.infra.EmbeddedKafka;
import io.txgw.deploy.infra.GatewayProcess;
import io.txgw.deploy.infra.TempDirs;
import io.txgw.deploy.infra.TrustFiles;
import io.txgw.gateway.kafka.BatchWriter;
import io.txgw.loadgen.PayoutFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * How fast the gateway takes payouts in, against what the same broker takes from a bare producer:
 * the batch API (batches of 1,000, acks=all, one Kafka transaction per group of batches), single
 * payouts (one payout per request), and a raw producer loop writing the same records, before and
 * after the gateway phases. The gateway runs in a JVM of its own so that its resident memory can be
 * read; no consumer runs, so this is ingest alone.
 */
public final class IngestBenchmark {
  static final String CLIENT = "bench";
  static final String API_KEY = "bench-key-0123456789abcdef";
  static final int BATCH_SIZE = 1_000;

  /** Where the gateway's log is kept after the run, for a look at what it did. */
  private static final Path LOG_DIR = Path.of(System.getProperty("java.io.tmpdir"), "txgw-ingest");

  private IngestBenchmark() {}

  /** How big each phase is and how many requests are in flight. */
  public record Sizes(
      int batches, int batchConcurrency, int singles, int singleConcurrency, double warmupShare) {
    public static Sizes defaults() {
      return new Sizes(300, 8, 100_000, 256, 1.0);
    }
  }

  /** A phase's figures. */
  public record Phase(
      String name,
      long payouts,
      int requests,
      double seconds,
      double p50Millis,
      double p99Millis,
      int errors,
      double gatewayCpuSeconds,
      double loadCpuSeconds,
      double brokerCpuSeconds) {
    Phase withCpu(double gateway, double load, double broker) {
      return new Phase(
          name, payouts, requests, seconds, p50Millis, p99Millis, errors, gateway, load, broker);
    }

    double payoutsPerSecond() {
      return payouts / seconds;
    }

    double requestsPerSecond() {
      return requests / seconds;
    }
  }

  /** Everything one run measured. */
  public record Result(
      Phase rawBefore,
      Phase batches,
      Phase singles,
      Phase rawAfter,
      long peakRssBytes,
      List<String> gatewayJvm) {
    double rawPayoutsPerSecond() {
      return (rawBefore.payouts() + rawAfter.payouts())
          / (rawBefore.seconds() + rawAfter.seconds());
    }
  }

  public static void main(String[] args) throws Exception {
    Sizes d = Sizes.defaults();
    Sizes sizes =
        new Sizes(
            args.length > 0 ? Integer.parseInt(args[0]) : d.batches(),
            d.batchConcurrency(),
            args.length > 1 ? Integer.parseInt(args[1]) : d.singles(),
            args.length > 2 ? Integer.parseInt(args[2]) : d.singleConcurrency(),
            d.warmupShare());
    print(run(sizes, gatewayJvm()));
    System.exit(0);
  }

  /** The gateway's JVM options: {@code -Dtxgw.bench.gatewayJvm="..."} or the documented ones. */
  static List<String> gatewayJvm() {
    String options = System.getProperty("txgw.bench.gatewayJvm", "-Xms256m -Xmx256m -XX:+UseG1GC");
    return List.of(options.trim().split("\\s+"));
  }

  public static Result run(Sizes sizes, List<String> gatewayJvm) throws Exception {
    Path work = Files.createTempDirectory("txgw-ingest-");
    Workload workload = Workload.make(sizes);
    try (EmbeddedKafka kafka = new EmbeddedKafka(work.resolve("kafka"));
        GatewayProcess gateway =
            GatewayProcess.start(
                kafka.bootstrapServers(),
                CLIENT + "=" + API_KEY,
                TrustFiles.create(
                        work.resolve("trust"), Map.of(CLIENT, List.of("ETH:" + workload.source())))
                    .env(),
                gatewayJvm,
                LOG_DIR);
        MemoryWatch memory = new MemoryWatch(gateway)) {
      createRawTopic(kafka.bootstrapServers());
      CpuMeter cpu = new CpuMeter(gateway);
      Phase rawBefore;
      Phase batches;
      Phase singles;
      try (HttpLoad load = new HttpLoad(gateway.port(), API_KEY, sizes.singleConcurrency())) {
        // Warm-up first: on two cores the JIT compilers of both JVMs take most of a core for
        // tens of seconds, and a phase measured meanwhile measures the compilers.
        raw(kafka.bootstrapServers(), workload.records(), "warm-up");
        post(load, workload.warmupBatches(), sizes.batchConcurrency(), "warm-up", BATCH_SIZE);
        post(load, workload.warmupSingles(), sizes.singleConcurrency(), "warm-up", 1);
        rawBefore =
            cpu.measure(
                () -> raw(kafka.bootstrapServers(), workload.records(), "raw producer (before)"));
        batches =
            cpu.measure(
                () ->
                    post(
                        load,
                        workload.batches(),
                        sizes.batchConcurrency(),
                        "batch API, 1,000 per request",
                        BATCH_SIZE));
        singles =
            cpu.measure(
                () ->
                    post(load, workload.singles(), sizes.singleConcurrency(), "single payouts", 1));
      }
      Phase rawAfter =
          cpu.measure(
              () -> raw(kafka.bootstrapServers(), workload.records(), "raw producer (after)"));
      long peak = Math.max(memory.peak(), gateway.peakResidentBytes());
      return new Result(rawBefore, batches, singles, rawAfter, peak, gatewayJvm);
    } finally {
      TempDirs.deleteQuietly(work);
    }
  }

  static Phase post(
      HttpLoad load, List<byte[]> bodies, int concurrency, String name, int perRequest)
      throws InterruptedException {
    HttpLoad.Result r = load.post("/v1/batches", bodies, concurrency);
    int errors = r.requests() - r.answered(202);
    return new Phase(
        name,
        (long) r.answered(202) * perRequest,
        r.requests(),
        r.seconds(),
        r.percentileMillis(50),
        r.percentileMillis(99),
        errors,
        0,
        0,
        0);
  }

  /** The records the gateway writes for the measured batches, pre-serialized, as fast as it can. */
  private static Phase raw(
      String bootstrap, List<ProducerRecord<String, byte[]>> records, String name)
      throws InterruptedException {
    // The gateway's own producer settings, so the two differ only by what the gateway does.
    Map<String, Object> props = BatchWriter.writeSettings(KafkaConnection.plaintext(bootstrap));
    AtomicLong errors = new AtomicLong();
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
      // One record first, so that metadata and the producer id are fetched outside the timing.
      producer.send(records.get(0)).get();
      long start = System.nanoTime();
      // The records several times over: one pass takes well under a second here, too short to
      // tell from the noise of a shared machine.
      for (int round = 0; round < RAW_ROUNDS; round++) {
        for (ProducerRecord<String, byte[]> record : records) {
          producer.send(
              record,
              (meta, error) -> {
                if (error != null) {
                  errors.incrementAndGet();
                }
              });
        }
      }
      producer.flush();
      double seconds = (System.nanoTime() - start) / 1e9;
      return new Phase(
          name,
          (long) records.size() * RAW_ROUNDS,
          0,
          seconds,
          Double.NaN,
          Double.NaN,
          (int) errors.get(),
          0,
          0,
          0);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("raw producer cannot write: " + e.getCause(), e);
    }
  }

  private static final String RAW_TOPIC = "bench-raw";
  private static final int RAW_ROUNDS = 3;

  private static void createRawTopic(String bootstrap) throws Exception {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      int partitions =
          admin
              .describeTopics(List.of(Topics.SENDTO))
              .allTopicNames()
              .get(30, TimeUnit.SECONDS)
              .get(Topics.SENDTO)
              .partitions()
              .size();
      admin
          .createTopics(List.of(new NewTopic(RAW_TOPIC, partitions, (short) 1)))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
  }

  /** Request bodies and raw records, all made before anything is timed. */
  record Workload(
      List<byte[]> warmupBatches,
      List<byte[]> batches,
      List<byte[]> warmupSingles,
      List<byte[]> singles,
      List<ProducerRecord<String, byte[]>> records,
      String source) {

    static Workload make(Sizes sizes) {
      AddressCodec codec = new AddressCodec(BitcoinNetwork.MAIN);
      PayoutFactory factory = new PayoutFactory(codec, 42);
      // A pool of recipients keeps the workload's own memory small; ids stay distinct.
      List<String> recipients = new ArrayList<>();
      for (int i = 0; i < 10_000; i++) {
        recipients.add(factory.recipient(Chain.ETH));
      }
      String source = factory.recipient(Chain.ETH);
      int warmBatches = Math.max(1, (int) (sizes.batches() * sizes.warmupShare()));
      int warmSingles = Math.max(1, (int) (sizes.singles() * sizes.warmupShare()));
      List<BatchSubmission> measured = new ArrayList<>();
      for (int b = 0; b < sizes.batches(); b++) {
        measured.add(batch("b" + b, source, recipients, BATCH_SIZE));
      }
      List<ProducerRecord<String, byte[]>> records = rawRecords(measured);
      return new Workload(
          bodies("wb", warmBatches, source, recipients, BATCH_SIZE),
          measured.stream().map(Workload::json).toList(),
          bodies("ws", warmSingles, source, recipients, 1),
          bodies("s", sizes.singles(), source, recipients, 1),
          records,
          source);
    }

    private static List<byte[]> bodies(
        String prefix, int count, String source, List<String> recipients, int size) {
      List<byte[]> bodies = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        bodies.add(json(batch(prefix + i, source, recipients, size)));
      }
      return bodies;
    }

    private static BatchSubmission batch(
        String batchId, String source, List<String> recipients, int size) {
      List<PayoutLine> lines = new ArrayList<>(size);
      for (int i = 0; i < size; i++) {
        int n = Math.floorMod((batchId + i).hashCode(), recipients.size());
        BigInteger wei = BigInteger.valueOf(1_000_000_000_000L + n * 7919L + i);
        lines.add(
            new PayoutLine(
                batchId + "-" + i,
                recipients.get(n),
                Amount.ofUnits(wei, Chain.ETH.nativeAsset().decimals()).toString(),
                "payroll"));
      }
      return new BatchSubmission(batchId, "ETH", source, lines);
    }

    private static byte[] json(BatchSubmission batch) {
      try {
        return Json.mapper().writeValueAsBytes(batch);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** The {@code sendto} records the gateway writes for these batches, byte for byte. */
    private static List<ProducerRecord<String, byte[]>> rawRecords(List<BatchSubmission> batches) {
      BatchValidator validator =
          new BatchValidator(
              new BatchRules(
                  BATCH_SIZE,
                  Map.of(Chain.ETH, Amount.parse("1000"), Chain.BTC, Amount.parse("100")),
                  new AddressCodec(BitcoinNetwork.MAIN)));
      var serializer = new JsonSerde<>(Payout.class).serializer();
      List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
      for (BatchSubmission batch : batches) {
        ValidatedBatch v = validator.validate(batch, CLIENT, Instant.now());
        if (!v.valid()) {
          throw new IllegalStateException("benchmark batch is invalid: " + v.violations());
        }
        for (Payout p : v.payouts()) {
          records.add(
              new ProducerRecord<>(RAW_TOPIC, p.accountKey(), serializer.serialize(RAW_TOPIC, p)));
        }
      }
      return records;
    }
  }

  /** A phase to measure. */
  private interface PhaseRun {
    Phase run() throws InterruptedException;
  }

  /**
   * CPU used during a phase by the gateway and by this JVM (the broker and the load), so that the
   * figures say where the two cores went.
   */
  private record CpuMeter(GatewayProcess gateway) {
    Phase measure(PhaseRun phase) throws InterruptedException {
      var os =
          (com.sun.management.OperatingSystemMXBean)
              java.lang.management.ManagementFactory.getOperatingSystemMXBean();
      double gatewayBefore = gateway.cpuSeconds();
      long ownBefore = os.getProcessCpuTime();
      long loadBefore = loadThreadsCpuNanos();
      Phase p = phase.run();
      double load = (loadThreadsCpuNanos() - loadBefore) / 1e9;
      double own = (os.getProcessCpuTime() - ownBefore) / 1e9;
      return p.withCpu(gateway.cpuSeconds() - gatewayBefore, load, own - load);
    }

    /** The HTTP load's threads (Vert.x) and the raw producer's; the rest of this JVM is Kafka's. */
    private static long loadThreadsCpuNanos() {
      var threads = java.lang.management.ManagementFactory.getThreadMXBean();
      long sum = 0;
      for (var info : threads.getThreadInfo(threads.getAllThreadIds())) {
        if (info != null
            && (info.getThreadName().startsWith("vert.x-")
                || info.getThreadName().startsWith("kafka-producer-network-thread")
                || info.getThreadName().equals("main"))) {
          sum += Math.max(0, threads.getThreadCpuTime(info.getThreadId()));
        }
      }
      return sum;
    }
  }

  /** Samples the gateway's resident memory while the load runs. */
  private static final class MemoryWatch implements AutoCloseable {
    private final ScheduledExecutorService timer =
        Executors.newSingleThreadScheduledExecutor(io.txgw.common.concurrent.Daemons.named("rss"));
    private final AtomicLong peak = new AtomicLong();

    MemoryWatch(GatewayProcess gateway) {
      timer.scheduleAtFixedRate(
          () -> {
            try {
              peak.accumulateAndGet(gateway.residentBytes(), Math::max);
            } catch (RuntimeException e) {
              // The gateway is stopping; the last reading stands.
            }
          },
          0,
          100,
          TimeUnit.MILLISECONDS);
    }

    long peak() {
      return peak.get();
    }

    @Override
    public void close() {
      timer.shutdownNow();
    }
  }

  static void print(Result r) {
    System.out.printf(
        Locale.ROOT,
        "%n%-30s %9s %9s %8s %11s %10s %9s %9s %7s %8s %8s %8s%n",
        "phase",
        "payouts",
        "requests",
        "seconds",
        "payouts/s",
        "requests/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "gateway",
        "load",
        "broker");
    for (Phase p : List.of(r.rawBefore(), r.batches(), r.singles(), r.rawAfter())) {
      System.out.printf(
          Locale.ROOT,
          "%-30s %9d %9d %8.2f %11.0f %10s %9s %9s %7d %8.2f %8.2f %8.2f%n",
          p.name(),
          p.payouts(),
          p.requests(),
          p.seconds(),
          p.payoutsPerSecond(),
          p.requests() == 0 ? "-" : String.format(Locale.ROOT, "%.0f", p.requestsPerSecond()),
          Double.isNaN(p.p50Millis()) ? "-" : String.format(Locale.ROOT, "%.1f", p.p50Millis()),
          Double.isNaN(p.p99Millis()) ? "-" : String.format(Locale.ROOT, "%.1f", p.p99Millis()),
          p.errors(),
          p.gatewayCpuSeconds(),
          p.loadCpuSeconds(),
          p.brokerCpuSeconds());
    }
    System.out.printf(
        Locale.ROOT,
        "batch API / raw producer: %.2fx (goal >= 0.40x); batch API %.0f payouts/s (goal >= 100,000)%n",
        r.batches().payoutsPerSecond() / r.rawPayoutsPerSecond(),
        r.batches().payoutsPerSecond());
    System.out.printf(
        Locale.ROOT,
        "single payouts: %.0f requests/s, p99 %.1f ms (goal >= 15,000 requests/s, p99 < 50 ms)%n",
        r.singles().requestsPerSecond(),
        r.singles().p99Millis());
    System.out.printf(
        Locale.ROOT,
        "gateway resident memory at peak: %d MB with %s (goal <= 512 MB)%n",
        r.peakRssBytes() / (1024 * 1024),
        String.join(" ", r.gatewayJvm()));
  }
}
