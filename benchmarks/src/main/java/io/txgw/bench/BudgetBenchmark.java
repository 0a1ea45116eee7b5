package io.txgw.bench;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.model.Chain;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.PayoutLine;
import io.txgw.coordinator.budget.Budgets;
import io.txgw.deploy.LocalStack;
import io.txgw.deploy.OnChainCheck;
import io.txgw.deploy.infra.ConsumerGroups;
import io.txgw.deploy.infra.ConsumerProcess;
import io.txgw.deploy.infra.CountingProxy;
import io.txgw.loadgen.Charts;
import io.txgw.loadgen.GatewayClient;
import io.txgw.loadgen.PayoutFactory;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The node's view of the rate against its budget, with 1, 2 and 3 consumer processes sharing one
 * anvil node, and how long a killed consumer's share takes to move. A counting proxy in front of
 * anvil counts every call, health checks included. Prints a table and writes an HTML chart.
 */
public final class BudgetBenchmark {
  private static final long SECOND = 1_000_000_000L;
  private static final String GROUP = "txgw-payouts";

  private BudgetBenchmark() {}

  /** One phase: {@code consumers} processes draining a backlog; node calls per second. */
  public record Phase(String name, int consumers, List<Integer> perSecond, double budget) {
    public double mean() {
      return perSecond.stream().mapToInt(Integer::intValue).average().orElse(0);
    }

    public int max() {
      return perSecond.stream().mapToInt(Integer::intValue).max().orElse(0);
    }
  }

  /**
   * @param shareMovedSeconds from SIGKILL until the leader published shares without the dead one
   * @param rateBackSeconds from SIGKILL until a whole second at the node reached 90% of the budget
   */
  public record Result(
      double budget,
      List<Phase> phases,
      double shareMovedSeconds,
      double rateBackSeconds,
      int mismatches,
      Path chart) {}

  public static void main(String[] args) throws Exception {
    double budget = args.length > 0 ? Double.parseDouble(args[0]) : 200;
    int perAccount = args.length > 1 ? Integer.parseInt(args[1]) : 150;
    int window = args.length > 2 ? Integer.parseInt(args[2]) : 10;
    Result result = run(budget, perAccount, 3, window, Path.of("benchmarks/target/budget.html"));
    print(result);
    System.exit(0);
  }

  public static Result run(
      double budget, int perAccount, int maxConsumers, int windowSeconds, Path chart)
      throws Exception {
    try (LocalStack stack =
            LocalStack.start(
                new LocalStack.Options(0, 0, 200, Duration.ofMillis(500))
                    .withLimits(null, LocalStack.Options.GENEROUS));
        CountingProxy proxy = new CountingProxy(stack.anvil().rpcUrl());
        Budgets budgets = new Budgets(stack.zk()).start()) {
      stack.registerAnvil(proxy.url(), new LocalStack.NodeLimits(budget, 8));
      GatewayClient client = new GatewayClient(stack.gatewayUrl(), stack.apiKey());
      PayoutFactory factory = new PayoutFactory(new AddressCodec(BitcoinNetwork.BCOIN_REGTEST), 5);
      AddressCodec codec = new AddressCodec(BitcoinNetwork.BCOIN_REGTEST);
      List<String> sources = new ArrayList<>();
      for (String a : stack.anvil().accounts().subList(0, 6)) {
        sources.add(codec.decode(Chain.ETH, a).address().value());
      }
      List<ConsumerProcess> consumers = new ArrayList<>();
      List<Phase> phases = new ArrayList<>();
      List<List<PayoutLine>> paid = new ArrayList<>();
      int round = 0;
      try {
        for (int n = 1; n <= maxConsumers; n++) {
          String id = "consumer-" + n;
          consumers.add(new ConsumerProcess(id, stack.consumerEnv(id), stack.workDir()).start());
          awaitShares(budgets, n);
          ConsumerGroups.awaitStable(stack.kafkaBootstrap(), GROUP, n, Duration.ofSeconds(90));
          List<String> batches = post(client, factory, sources, perAccount, "r" + round++, paid);
          long from = proxy.now() + 3 * SECOND;
          long to = from + windowSeconds * SECOND;
          awaitNanos(proxy, to);
          phases.add(
              new Phase(
                  n + " consumer" + (n == 1 ? "" : "s"), n, proxy.perSecond(from, to), budget));
          BatchWait.handled(client, batches, Duration.ofMinutes(5));
        }

        // The kill: a backlog for everyone, then SIGKILL one consumer.
        List<String> batches = post(client, factory, sources, perAccount, "r" + round++, paid);
        long start = proxy.now();
        awaitNanos(proxy, start + 4 * SECOND);
        ConsumerProcess victim = consumers.get(consumers.size() - 1);
        String victimId = "consumer-" + consumers.size();
        long killedAt = proxy.now();
        victim.kill();
        double moved = -1;
        double back = -1;
        long deadline = killedAt + 60 * SECOND;
        while (proxy.now() < deadline && (moved < 0 || back < 0)) {
          if (moved < 0
              && budgets
                  .table(Chain.ETH, "anvil")
                  .map(t -> !t.shares().containsKey(victimId))
                  .orElse(false)) {
            moved = (proxy.now() - killedAt) / 1e9;
          }
          List<Integer> since = proxy.perSecond(killedAt, proxy.now());
          for (int s = 1; s < since.size() && back < 0; s++) {
            if (since.get(s) >= 0.9 * budget) {
              back = s + 1;
            }
          }
          Thread.sleep(100);
        }
        long end = proxy.now();
        phases.add(new Phase("kill at 4 s", consumers.size(), proxy.perSecond(start, end), budget));
        List<com.fasterxml.jackson.databind.JsonNode> states =
            BatchWait.handled(client, batches, Duration.ofMinutes(5));
        states.stream()
            .filter(p -> !BatchWait.isSent(p))
            .forEach(p -> System.out.println("not broadcast: " + p));

        OnChainCheck check = new OnChainCheck(stack);
        int mismatches = 0;
        for (List<PayoutLine> p : paid) {
          List<OnChainCheck.Mismatch> off = check.check(Chain.ETH, p);
          off.forEach(m -> System.out.println("not exact on chain: " + m));
          mismatches += off.size();
        }
        writeChart(chart, budget, phases);
        return new Result(budget, phases, moved, back, mismatches, chart);
      } finally {
        consumers.forEach(ConsumerProcess::close);
      }
    }
  }

  private static void awaitShares(Budgets budgets, int members) throws InterruptedException {
    long deadline = System.nanoTime() + 60 * SECOND;
    while (!budgets
        .table(Chain.ETH, "anvil")
        .map(t -> t.shares().size() == members)
        .orElse(false)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("no budget table with " + members + " consumers");
      }
      Thread.sleep(100);
    }
  }

  private static void awaitNanos(CountingProxy proxy, long until) throws InterruptedException {
    while (proxy.now() < until) {
      Thread.sleep(Math.max(1, (until - proxy.now()) / 1_000_000));
    }
  }

  private static List<String> post(
      GatewayClient client,
      PayoutFactory factory,
      List<String> sources,
      int perAccount,
      String prefix,
      List<List<PayoutLine>> paid)
      throws Exception {
    List<String> ids = new ArrayList<>();
    for (int a = 0; a < sources.size(); a++) {
      String id = "budget-" + prefix + "-" + a;
      List<PayoutLine> payouts =
          factory.payouts(
              Chain.ETH,
              prefix + "a" + a,
              perAccount,
              BigInteger.ONE,
              new BigInteger("1000000000000000"));
      int status =
          client.postBatch(new BatchSubmission(id, "ETH", sources.get(a), payouts)).status();
      if (status != 202) {
        throw new IllegalStateException("batch " + id + " answered " + status);
      }
      ids.add(id);
      paid.add(payouts);
    }
    return ids;
  }

  public static void print(Result r) {
    System.out.printf(
        Locale.ROOT,
        "%nnode budget: %.0f requests/s (anvil behind a counting proxy)%n",
        r.budget());
    System.out.printf(
        Locale.ROOT,
        "%-14s %9s %11s %9s %8s   %s%n",
        "phase",
        "consumers",
        "mean req/s",
        "max 1 s",
        "mean/bud",
        "per second");
    for (Phase p : r.phases()) {
      System.out.printf(
          Locale.ROOT,
          "%-14s %9d %11.1f %9d %8.3f   %s%n",
          p.name(),
          p.consumers(),
          p.mean(),
          p.max(),
          p.mean() / r.budget(),
          p.perSecond());
    }
    System.out.printf(
        Locale.ROOT,
        "killed consumer's share moved after %.1f s; node back at >= 90%% of budget after %.0f s%n",
        r.shareMovedSeconds(),
        r.rateBackSeconds());
    System.out.printf(
        Locale.ROOT,
        "payouts not exact on chain: %d%nchart: %s%n",
        r.mismatches(),
        r.chart().toAbsolutePath());
  }

  /** One line per phase, seconds across, node calls per second up, the budget dashed. */
  static void writeChart(Path file, double budget, List<Phase> phases) throws IOException {
    Map<String, List<? extends Number>> series = new LinkedHashMap<>();
    phases.forEach(p -> series.put(p.name(), p.perSecond()));
    String html =
        Charts.page(
            "txgw node budget",
            Charts.lines("Node-observed call rate against the budget", "calls/s", series, budget)
                + "<p>Each line is one phase; the kill phase loses a consumer at 4 s.</p>");
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.writeString(file, html);
  }
}
