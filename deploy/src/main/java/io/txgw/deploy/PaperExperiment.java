package io.txgw.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.json.Json;
import io.txgw.common.model.Chain;
import io.txgw.common.validation.PayoutLine;
import io.txgw.coordinator.zk.ZkClients;
import io.txgw.deploy.infra.ChildProcess;
import io.txgw.deploy.infra.CountingProxy;
import io.txgw.deploy.infra.GroupLag;
import io.txgw.loadgen.Charts;
import io.txgw.loadgen.LoadRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The paper's experiment on this machine: the local stack with two consumers sharing anvil's budget
 * (behind a counting proxy), and N producer boxes, each its own JVM running txgw-loadgen, started
 * together by a ZooKeeper barrier. Samples consumer lag and the node's call rate while they run,
 * checks every payout on chain, and writes a JSON and an HTML report.
 */
public final class PaperExperiment {
  private static final String GROUP = "txgw-payouts";

  private PaperExperiment() {}

  /**
   * The experiment's size. {@code keystore}: the consumers sign from a keystore and the node only
   * takes signed bytes; otherwise the node signs each payout, as in the paper.
   */
  public record Size(
      int boxes, int workers, int iterations, int batchSize, double nodeBudget, boolean keystore) {}

  /** What the run showed. */
  public record Result(
      Size size,
      long payouts,
      long accepted,
      long paidOnChain,
      long mismatches,
      long duplicates,
      long missing,
      double secondsToAccept,
      double secondsToAllResults,
      List<JsonNode> boxes,
      List<Long> lagPerHalfSecond,
      List<Integer> nodeCallsPerSecond,
      Path html,
      Path json) {}

  public static void main(String[] args) throws Exception {
    int boxes = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    int workers = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    int iterations = args.length > 2 ? Integer.parseInt(args[2]) : 20;
    Path out = Path.of(args.length > 3 ? args[3] : "deploy/target/experiment");
    boolean keystore = args.length <= 4 || !args[4].equals("node-signs");
    Result r = run(new Size(boxes, workers, iterations, 1, 300, keystore), out);
    print(r);
    System.exit(r.mismatches() == 0 && r.duplicates() == 0 && r.missing() == 0 ? 0 : 1);
  }

  public static Result run(Size size, Path outDir) throws Exception {
    Files.createDirectories(outDir);
    try (LocalStack stack =
            LocalStack.start(
                new LocalStack.Options(0, 1, 200, Duration.ofMillis(500))
                    .withLimits(null, LocalStack.Options.GENEROUS));
        CountingProxy proxy = new CountingProxy(stack.anvil().rpcUrl());
        GroupLag groupLag = new GroupLag(stack.kafkaBootstrap())) {
      stack.registerAnvil(proxy.url(), new LocalStack.NodeLimits(size.nodeBudget(), 16));
      Map<String, String> signing = new java.util.HashMap<>();
      if (size.keystore()) {
        int[] accounts = java.util.stream.IntStream.range(0, size.boxes()).toArray();
        signing.putAll(
            io.txgw.deploy.nodes.DevAccounts.keystore(
                stack.workDir().resolve("keystore"), accounts));
        signing.put("TXGW_ETH_NODE_SIGNS", "false");
      }
      stack.startConsumersAtOnce(List.of("consumer-1", "consumer-2"), signing);
      Path keyFile = stack.workDir().resolve("api-key");
      Files.writeString(keyFile, stack.apiKey().reveal());
      Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));

      List<Long> lag = new CopyOnWriteArrayList<>();
      ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
      sampler.scheduleAtFixedRate(
          () -> {
            try {
              lag.add(groupLag.of(GROUP));
            } catch (Exception e) {
              lag.add(-1L);
            }
          },
          0,
          500,
          TimeUnit.MILLISECONDS);
      long t0 = proxy.now();
      String runId = "paper-" + Long.toString(System.currentTimeMillis(), 36);
      AddressCodec codec = new AddressCodec(BitcoinNetwork.BCOIN_REGTEST);
      List<ChildProcess> boxes = new ArrayList<>();
      List<LoadRun.Plan> plans = new ArrayList<>();
      List<String> sources = stack.anvil().accounts();
      long started = System.nanoTime();
      try {
        for (int b = 0; b < size.boxes(); b++) {
          // One sending account per box, as in the paper: each box is its own payer.
          String source =
              codec.decode(Chain.ETH, sources.get(b % sources.size())).address().value();
          plans.add(
              LoadRun.Plan.of(
                  runId,
                  b,
                  size.boxes(),
                  size.workers(),
                  size.iterations(),
                  size.batchSize(),
                  Chain.ETH,
                  source));
          boxes.add(box(stack, keyFile, outDir, runId, b, size, source));
        }
        for (ChildProcess box : boxes) {
          if (!box.awaitExit(Duration.ofMinutes(15))) {
            throw new IllegalStateException(box + " did not finish within 15 minutes");
          }
        }
      } finally {
        boxes.forEach(ChildProcess::close);
        sampler.shutdownNow();
      }
      double allResults = (System.nanoTime() - started) / 1e9;
      List<Integer> nodeRate = proxy.perSecond(t0, proxy.now());

      List<JsonNode> reports = new ArrayList<>();
      long accepted = 0;
      long duplicates = 0;
      long missing = 0;
      double toAccept = 0;
      for (int b = 0; b < size.boxes(); b++) {
        JsonNode r = Json.mapper().readTree(outDir.resolve("box-" + b + ".json").toFile());
        reports.add(r);
        accepted += r.path("accepted").asLong();
        duplicates += r.path("duplicates").asLong();
        missing += r.path("missing").asLong();
        toAccept = Math.max(toAccept, r.path("seconds").asDouble());
      }
      OnChainCheck chain = new OnChainCheck(stack);
      long mismatches = 0;
      long paid = 0;
      for (LoadRun.Plan plan : plans) {
        for (List<PayoutLine> batch : LoadRun.planned(plan, codec).values()) {
          int bad = chain.check(Chain.ETH, batch).size();
          mismatches += bad;
          paid += batch.size() - bad;
        }
      }
      long payouts = plans.stream().mapToLong(LoadRun.Plan::payouts).sum();
      Path html = outDir.resolve("report.html");
      Path json = outDir.resolve("report.json");
      Result result =
          new Result(
              size,
              payouts,
              accepted,
              paid,
              mismatches,
              duplicates,
              missing,
              toAccept,
              allResults,
              reports,
              List.copyOf(lag),
              nodeRate,
              html,
              json);
      writeReports(result);
      return result;
    }
  }

  private static ChildProcess box(
      LocalStack stack, Path keyFile, Path outDir, String runId, int b, Size size, String source) {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command =
        List.of(
            java,
            "-cp",
            System.getProperty("java.class.path"),
            "io.txgw.loadgen.LoadGenMain",
            "--box-index",
            String.valueOf(b),
            "--boxes",
            String.valueOf(size.boxes()),
            "--workers",
            String.valueOf(size.workers()),
            "--iterations",
            String.valueOf(size.iterations()),
            "--batch-size",
            String.valueOf(size.batchSize()),
            "--chain",
            "ETH",
            "--source",
            source,
            "--gateway",
            stack.gatewayUrl(),
            "--api-key-file",
            keyFile.toString(),
            "--kafka",
            stack.kafkaBootstrap(),
            "--zookeeper",
            stack.zooKeeperConnect(),
            "--run-id",
            runId,
            "--wait-results",
            "--report",
            outDir.resolve("box-" + b).toAbsolutePath().toString());
    return ChildProcess.start(
        "box-" + b,
        command,
        stack.workDir(),
        Map.of(ZkClients.AUTH.name() + "_FILE", stack.zkAuthFile().toString()),
        outDir.resolve("box-" + b + ".log"));
  }

  private static void writeReports(Result r) throws Exception {
    Files.writeString(
        r.json(), Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(r));
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put(
        "boxes x workers x iterations",
        r.size().boxes() + " x " + r.size().workers() + " x " + r.size().iterations());
    summary.put("payouts sent / accepted", r.payouts() + " / " + r.accepted());
    summary.put("paid exactly on chain", r.paidOnChain() + " (mismatches " + r.mismatches() + ")");
    summary.put("results: duplicates / missing", r.duplicates() + " / " + r.missing());
    summary.put(
        "seconds until all accepted (slowest box)",
        String.format(Locale.ROOT, "%.2f", r.secondsToAccept()));
    summary.put(
        "seconds until every result (all boxes)",
        String.format(Locale.ROOT, "%.2f", r.secondsToAllResults()));
    summary.put("node budget (req/s)", r.size().nodeBudget());
    Map<String, List<? extends Number>> throughput = new LinkedHashMap<>();
    Map<String, Object> latency = new LinkedHashMap<>();
    for (JsonNode box : r.boxes()) {
      List<Long> series = new ArrayList<>();
      box.path("sentPerSecond").forEach(n -> series.add(n.asLong()));
      throughput.put("box " + box.path("boxIndex").asInt(), series);
      latency.put("box " + box.path("boxIndex").asInt(), box.path("latencyMillis").toString());
    }
    Files.writeString(
        r.html(),
        Charts.page(
            "txgw: the paper's experiment",
            Charts.table("Summary", summary)
                + Charts.table("Request latency per box (ms)", latency)
                + Charts.lines(
                    "Accepted payouts per second, per box", "payouts/s", throughput, Double.NaN)
                + Charts.lines(
                    "Consumer lag (sampled every 0.5 s)",
                    "records",
                    Map.of("lag", r.lagPerHalfSecond()),
                    Double.NaN)
                + Charts.lines(
                    "Node calls per second against the budget",
                    "calls/s",
                    Map.of("anvil", r.nodeCallsPerSecond()),
                    r.size().nodeBudget())));
  }

  public static void print(Result r) {
    System.out.printf(
        Locale.ROOT,
        "%n%d boxes x %d workers x %d iterations: %d payouts, %d accepted in %.2f s,"
            + " every result after %.2f s%n",
        r.size().boxes(),
        r.size().workers(),
        r.size().iterations(),
        r.payouts(),
        r.accepted(),
        r.secondsToAccept(),
        r.secondsToAllResults());
    for (JsonNode box : r.boxes()) {
      System.out.printf(
          Locale.ROOT,
          "  box %d: %.1f payouts/s, latency ms %s%n",
          box.path("boxIndex").asInt(),
          box.path("payoutsPerSecond").asDouble(),
          box.path("latencyMillis"));
    }
    int peak = r.nodeCallsPerSecond().stream().mapToInt(Integer::intValue).max().orElse(0);
    long calls = r.nodeCallsPerSecond().stream().mapToLong(Integer::longValue).sum();
    double perPayout = (double) calls / Math.max(1, r.payouts());
    // While payouts wait (the group's lag above zero, sampled every half second), how full the
    // node was kept; and the whole run against the least time the budget allows for its calls.
    int lastWaiting = 0;
    for (int i = 0; i < r.lagPerHalfSecond().size(); i++) {
      if (r.lagPerHalfSecond().get(i) > 0) {
        lastWaiting = i;
      }
    }
    int waitingSeconds = Math.min(r.nodeCallsPerSecond().size(), Math.max(1, lastWaiting / 2));
    long waitingCalls =
        r.nodeCallsPerSecond().subList(0, waitingSeconds).stream()
            .mapToLong(Integer::longValue)
            .sum();
    double least = r.payouts() * perPayout / r.size().nodeBudget();
    System.out.printf(
        Locale.ROOT,
        "signed by %s: %d node calls, %.2f per payout; while payouts waited (%d s) the node was"
            + " kept at %.2f of its budget; every result after %.2f s = %.2f x (payouts x calls"
            + " per payout / budget = %.2f s)%n",
        r.size().keystore() ? "a keystore (the node takes signed bytes)" : "the node",
        calls,
        perPayout,
        waitingSeconds,
        waitingCalls / (waitingSeconds * r.size().nodeBudget()),
        r.secondsToAllResults(),
        r.secondsToAllResults() / least,
        least);
    long maxLag = r.lagPerHalfSecond().stream().mapToLong(Long::longValue).max().orElse(0);
    System.out.printf(
        Locale.ROOT,
        "node peak %d calls/s (budget %.0f); consumer lag peaked at %d%n"
            + "on chain: %d paid exactly, %d mismatches; results: %d duplicates, %d missing%n"
            + "report: %s%n",
        peak,
        r.size().nodeBudget(),
        maxLag,
        r.paidOnChain(),
        r.mismatches(),
        r.duplicates(),
        r.missing(),
        r.html().toAbsolutePath());
  }
}
