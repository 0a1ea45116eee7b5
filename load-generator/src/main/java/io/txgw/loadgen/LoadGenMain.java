package io.txgw.loadgen;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.config.Secret;
import io.txgw.common.json.Json;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.KafkaSecurity;
import io.txgw.common.model.Chain;
import io.txgw.coordinator.zk.ZkClients;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.barriers.DistributedDoubleBarrier;
import org.apache.curator.retry.RetryOneTime;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * txgw-loadgen: plays one producer box of the paper's experiment. All boxes of a run meet at a
 * ZooKeeper double barrier and start together; each sends {@code workers x iterations} requests of
 * {@code batch-size} payouts, then optionally waits until every payout it sent has a result. Exit
 * codes: 0 done (and, when checked, each payout had exactly one result), 1 a check failed, 2 bad
 * arguments, 3 ZooKeeper or the target unreachable.
 */
@Command(
    name = "txgw-loadgen",
    mixinStandardHelpOptions = true,
    description = "One producer box: payouts to the gateway (or Kafka), started by a barrier.")
public final class LoadGenMain implements Callable<Integer> {
  @Option(names = "--box-index", required = true, description = "this box, 0..boxes-1")
  int boxIndex;

  @Option(names = "--boxes", defaultValue = "1", description = "boxes in the run")
  int boxes;

  @Option(names = "--workers", defaultValue = "10", description = "threads sending")
  int workers;

  @Option(names = "--iterations", defaultValue = "20", description = "requests per worker")
  int iterations;

  @Option(names = "--batch-size", defaultValue = "1", description = "payouts per request")
  int batchSize;

  @Option(names = "--chain", defaultValue = "ETH", description = "BTC or ETH")
  Chain chain;

  @Option(names = "--source", required = true, description = "sending account or wallet")
  String source;

  @Option(names = "--target", defaultValue = "gateway", description = "gateway or kafka")
  String target;

  @Option(names = "--gateway", defaultValue = "http://127.0.0.1:8080")
  String gateway;

  @Option(names = "--api-key-file", description = "file holding the API key (else $TXGW_API_KEY)")
  Path apiKeyFile;

  @Option(names = "--kafka", description = "Kafka bootstrap: the kafka target, result checks")
  String kafka;

  @Option(names = "--zookeeper", description = "ZooKeeper connect string; none: start at once")
  String zookeeper;

  @Option(names = "--run-id", defaultValue = "run", description = "shared by the boxes of a run")
  String runId;

  @Option(names = "--barrier-timeout", defaultValue = "120", description = "seconds")
  int barrierTimeout;

  @Option(names = "--wait-results", description = "wait for every payout's result and count")
  boolean waitResults;

  @Option(names = "--results-timeout", defaultValue = "600", description = "seconds")
  int resultsTimeout;

  @Option(names = "--btc-network", defaultValue = "BCOIN_REGTEST")
  BitcoinNetwork btcNetwork;

  @Option(names = "--report", description = "report path prefix: writes .json and .html")
  Path report;

  public static void main(String[] args) {
    System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
  }

  public static int run(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cli = new CommandLine(new LoadGenMain());
    cli.setOut(out);
    cli.setErr(err);
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    cli.setExecutionExceptionHandler(
        (e, line, parsed) -> {
          err.println("error: " + e.getMessage());
          return e instanceof Unreachable ? 3 : e instanceof IllegalArgumentException ? 2 : 1;
        });
    return cli.execute(args);
  }

  /** ZooKeeper or the target could not be reached. */
  static final class Unreachable extends Exception {
    Unreachable(String message) {
      super(message);
    }
  }

  @Override
  public Integer call() throws Exception {
    if (boxIndex < 0 || boxIndex >= boxes || workers < 1 || iterations < 1 || batchSize < 1) {
      throw new IllegalArgumentException(
          "need 0 <= box-index < boxes, and workers, iterations, batch-size >= 1");
    }
    if (!target.equals("gateway") && !target.equals("kafka")) {
      throw new IllegalArgumentException("--target must be gateway or kafka");
    }
    if ((target.equals("kafka") || waitResults) && kafka == null) {
      throw new IllegalArgumentException(
          "--kafka is needed for the kafka target and --wait-results");
    }
    PrintWriter out = new CommandLine(this).getOut();
    AddressCodec codec = new AddressCodec(btcNetwork);
    LoadRun.Plan plan =
        LoadRun.Plan.of(runId, boxIndex, boxes, workers, iterations, batchSize, chain, source);
    try (Target t = target()) {
      checkReachable(t);
      LoadRun.Sent sent;
      try (Barrier barrier = Barrier.join(zookeeper, runId, boxes, barrierTimeout)) {
        sent = LoadRun.send(plan, t, codec);
        barrier.leave();
      }
      LoadRun.ResultsCheck results =
          waitResults
              ? LoadRun.awaitResults(sent, kafkaConnection(), Duration.ofSeconds(resultsTimeout))
              : null;
      LoadReport r = LoadRun.report(sent, target, results);
      out.println(Json.mapper().writeValueAsString(r));
      if (report != null) {
        write(report, r);
      }
      return results == null || (results.duplicates() == 0 && results.missing() == 0) ? 0 : 1;
    }
  }

  /** {@code --kafka} with the security settings of the environment, as the services read them. */
  private KafkaConnection kafkaConnection() {
    return new KafkaConnection(kafka, KafkaSecurity.fromEnv(System.getenv()));
  }

  private Target target() throws Exception {
    if (target.equals("kafka")) {
      // Writing sendto directly, the load generator stands in for a gateway: it seals as one.
      io.txgw.common.config.ConfigReader reader =
          new io.txgw.common.config.ConfigReader(System.getenv());
      io.txgw.common.security.RecordSeal seal = io.txgw.common.security.TrustSettings.seal(reader);
      reader.throwIfProblems();
      return new KafkaTarget(kafkaConnection(), new AddressCodec(btcNetwork), "loadgen", seal);
    }
    String key =
        apiKeyFile != null ? Files.readString(apiKeyFile).strip() : System.getenv("TXGW_API_KEY");
    if (key == null || key.isEmpty()) {
      throw new IllegalArgumentException("no API key: give --api-key-file or set TXGW_API_KEY");
    }
    return new GatewayTarget(new GatewayClient(gateway, new Secret(key)));
  }

  private void checkReachable(Target t) throws Unreachable {
    if (t instanceof GatewayTarget) {
      try {
        new GatewayClient(gateway, new Secret("-")).get("/healthz");
      } catch (Exception e) {
        throw new Unreachable("cannot reach the gateway at " + gateway + ": " + e);
      }
    }
  }

  static void write(Path prefix, LoadReport r) throws Exception {
    Path dir = prefix.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Files.writeString(
        Path.of(prefix + ".json"),
        Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(r));
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("box", r.boxIndex() + " of " + r.boxes());
    summary.put("target", r.target() + ", " + r.chain() + ", batch size " + r.batchSize());
    summary.put("accepted payouts", r.accepted() + " of " + r.payouts());
    summary.put("payouts/s", String.format(java.util.Locale.ROOT, "%.1f", r.payoutsPerSecond()));
    summary.put("errors", r.errors());
    summary.put("results", r.results());
    summary.put("duplicates / missing", r.duplicates() + " / " + r.missing());
    Files.writeString(
        Path.of(prefix + ".html"),
        Charts.page(
            "txgw load: box " + r.boxIndex(),
            Charts.table("Summary", summary)
                + Charts.table("Latency (ms)", r.latencyMillis())
                + Charts.lines(
                    "Accepted payouts per second",
                    "payouts/s",
                    Map.<String, List<? extends Number>>of(
                        "box " + r.boxIndex(), r.sentPerSecond()),
                    Double.NaN)));
  }

  /** The run's ZooKeeper double barrier; without ZooKeeper a box starts at once. */
  static final class Barrier implements AutoCloseable {
    private final CuratorFramework client;
    private final DistributedDoubleBarrier barrier;
    private final int timeout;
    private boolean entered;

    private Barrier(CuratorFramework client, DistributedDoubleBarrier barrier, int timeout) {
      this.client = client;
      this.barrier = barrier;
      this.timeout = timeout;
    }

    static Barrier join(String zookeeper, String runId, int boxes, int timeoutSeconds)
        throws Exception {
      if (zookeeper == null) {
        return new Barrier(null, null, 0);
      }
      // The identity comes from TXGW_ZK_AUTH or TXGW_ZK_AUTH_FILE, as for every txgw process.
      CuratorFramework client =
          ZkClients.fromEnv(zookeeper, System.getenv())
              .builder()
              .connectionTimeoutMs(5_000)
              .retryPolicy(new RetryOneTime(200))
              .build();
      client.start();
      if (!client.blockUntilConnected(5, TimeUnit.SECONDS)) {
        client.close();
        throw new Unreachable("cannot reach ZooKeeper at " + zookeeper + " within 5 s");
      }
      DistributedDoubleBarrier b =
          new DistributedDoubleBarrier(client, "/txgw/loadgen/" + runId, boxes);
      Barrier barrier = new Barrier(client, b, timeoutSeconds);
      if (!b.enter(timeoutSeconds, TimeUnit.SECONDS)) {
        barrier.close();
        throw new Unreachable(
            "only some of the "
                + boxes
                + " boxes reached the barrier within "
                + timeoutSeconds
                + " s");
      }
      barrier.entered = true;
      return barrier;
    }

    void leave() throws Exception {
      if (barrier != null && entered) {
        entered = false;
        barrier.leave(timeout, TimeUnit.SECONDS);
      }
    }

    @Override
    public void close() {
      if (client != null) {
        client.close();
      }
    }
  }
}
