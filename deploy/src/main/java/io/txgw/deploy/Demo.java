package io.txgw.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.config.Secret;
import io.txgw.common.model.Chain;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.PayoutLine;
import io.txgw.deploy.nodes.BcoinNode;
import io.txgw.loadgen.GatewayClient;
import io.txgw.loadgen.PayoutFactory;
import java.io.PrintStream;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The main job: starts the local stack, posts a payroll batch to each chain through the HTTP API,
 * waits for every payout's result, checks every recipient on chain, prints a summary and stops
 * everything. Exit code 0 only when every payout was paid exactly once.
 */
public final class Demo {
  private static final PrintStream out = System.out;

  private Demo() {}

  public static void main(String[] args) throws Exception {
    // What a person reads: the demo's own lines, and the components' warnings and errors only
    // (TXGW_DEMO_LOG=info shows their whole logs). Set before any logger is made.
    System.setProperty(
        "org.slf4j.simpleLogger.defaultLogLevel",
        System.getenv().getOrDefault("TXGW_DEMO_LOG", "warn"));
    if (System.getenv("TXGW_DEMO_LOG") == null) {
      // A transactional producer retries a write the coordinator is still finishing the last
      // commit for (CONCURRENT_TRANSACTIONS, then a sequence to resend): routine on a cluster,
      // and a warning each time.
      System.setProperty(
          "org.slf4j.simpleLogger.log.org.apache.kafka.clients.producer.internals.Sender", "error");
    }
    int payouts = 1_000;
    boolean serve = false;
    boolean cluster = false;
    for (String arg : args) {
      if (arg.equals("--serve")) {
        serve = true;
      } else if (arg.equals("--cluster")) {
        cluster = true;
      } else if (arg.matches("[0-9]{1,6}")) {
        payouts = Integer.parseInt(arg);
      } else {
        System.err.println(
            "usage: run-demo.sh [payouts per chain, default 1000] [--cluster] [--serve]");
        System.exit(2);
      }
    }
    boolean ok = false;
    LocalStack stack = null;
    try {
      // Ethereum payouts of one account go a hundred to a call of the multi-send contract.
      // --cluster: three Kafka nodes, three ZooKeeper servers, two gateways, three consumers,
      // three bcoin nodes; the Bitcoin batch goes to the second gateway.
      stack =
          LocalStack.start(
              (cluster ? LocalStack.Options.localCluster() : LocalStack.Options.defaults())
                  .withMultiSend());
      if (cluster) {
        out.printf(
            Locale.ROOT,
            "local cluster: kafka %s, zookeeper %s, gateways %s and %s%n",
            stack.kafkaBootstrap(),
            stack.zooKeeperConnect(),
            stack.gatewayUrl(),
            stack.secondGateway().url());
      }
      // Ctrl-C ends the JVM through its shutdown hooks: stop what the stack started there too.
      Runtime.getRuntime().addShutdownHook(new Thread(stack::close, "stop-stack"));
      ok = run(stack, payouts);
      if (serve) {
        serve(stack);
      }
    } catch (Exception | Error e) {
      System.err.println("demo failed: " + e);
      e.printStackTrace(System.err);
    } finally {
      if (stack != null) {
        stack.close();
      }
      // Exit explicitly: library threads (ZooKeeper, Kafka) must not keep a failed run alive.
      System.exit(ok ? 0 : 1);
    }
  }

  /** Writes a key to a file of the stack's that only this user can read. */
  private static java.nio.file.Path privateFile(LocalStack stack, String name, Secret key)
      throws java.io.IOException {
    java.nio.file.Path file = stack.workDir().resolve(name);
    java.nio.file.Files.writeString(file, key.reveal());
    file.toFile().setReadable(false, false);
    file.toFile().setReadable(true, true);
    return file;
  }

  /** Keeps the stack up for manual use until Ctrl-C; the API key goes to a file, not the log. */
  private static void serve(LocalStack stack) throws Exception {
    java.nio.file.Path keyFile = privateFile(stack, "api-key", stack.apiKey());
    java.nio.file.Path payerFile =
        privateFile(stack, "treasury-payer-key", stack.treasuryPayerKey());
    java.nio.file.Path approverFile =
        privateFile(stack, "treasury-approver-key", stack.treasuryApproverKey());
    out.printf(Locale.ROOT, "%nstack is serving; Ctrl-C stops it%n");
    out.printf(
        Locale.ROOT,
        "  dashboard: %s/ui/ (sign in with the key in %s)%n",
        stack.gatewayUrl(),
        keyFile);
    out.printf(Locale.ROOT, "  export TXGW_URL=%s%n", stack.gatewayUrl());
    out.printf(Locale.ROOT, "  export TXGW_ADMIN_URL=%s%n", stack.gatewayAdminUrl());
    out.printf(Locale.ROOT, "  export TXGW_KEY=$(cat %s)%n", keyFile);
    out.printf(Locale.ROOT, "  export TXGW_PAYER_KEY=$(cat %s)%n", payerFile);
    out.printf(Locale.ROOT, "  export TXGW_APPROVER_KEY=$(cat %s)%n", approverFile);
    out.printf(Locale.ROOT, "  export TXGW_ZOOKEEPER=%s%n", stack.zooKeeperConnect());
    out.printf(Locale.ROOT, "  export TXGW_KAFKA_BOOTSTRAP=%s%n", stack.kafkaBootstrap());
    out.printf(
        Locale.ROOT,
        "  export TXGW_CONSUMER_METRICS_URL=%s%n",
        stack.consumer("consumer-1").metricsUrl());
    out.printf(
        Locale.ROOT,
        "  export TXGW_ZK_AUTH_FILE=%s   # the stack's ZooKeeper identity%n",
        stack.zkAuthFile());
    out.printf(Locale.ROOT, "  deploy/txgw -z %s budgets%n", stack.zooKeeperConnect());
    // Only while it serves: the endpoints end with the stack.
    out.printf(
        Locale.ROOT,
        "  metrics: %s/metrics (gateway), %s (consumer-1); Prometheus scrape config: %s%n",
        stack.gatewayAdminUrl(),
        stack.consumer("consumer-1").metricsUrl(),
        stack.scrapeConfig());
    out.printf(
        Locale.ROOT,
        "  ETH source account: %s, BTC source wallet: %s%n",
        stack.ethSource(),
        BcoinNode.WALLET);
    new java.util.concurrent.CountDownLatch(1).await();
  }

  /** Posts one batch per chain, waits, verifies; returns true when everything matched. */
  public static boolean run(LocalStack stack, int count) throws Exception {
    GatewayClient client = new GatewayClient(stack.gatewayUrl(), stack.apiKey());
    PayoutFactory factory =
        new PayoutFactory(new AddressCodec(BitcoinNetwork.BCOIN_REGTEST), System.nanoTime());
    String run = Long.toString(System.currentTimeMillis(), 36);
    // Amounts use the full precision of each chain, to show nothing is rounded.
    List<PayoutLine> eth =
        factory.payouts(
            Chain.ETH,
            "eth-" + run,
            count,
            new BigInteger("1000000000000000"),
            new BigInteger("2000000000000000000"));
    List<PayoutLine> btc =
        factory.payouts(
            Chain.BTC,
            "btc-" + run,
            count,
            BigInteger.valueOf(10_000),
            BigInteger.valueOf(1_000_000));
    // A token airdrop: the stack's test dollar (6 decimals), from the same account.
    List<PayoutLine> tokens =
        factory.payouts(
            Chain.ETH,
            "tusd-" + run,
            count,
            BigInteger.valueOf(10_000),
            BigInteger.valueOf(500_000_000),
            6);
    List<Row> rows = new ArrayList<>();
    rows.add(runBatch(stack, client, Chain.ETH, stack.ethSource(), "payroll-eth-" + run, eth));
    rows.add(
        runBatch(
            stack,
            client,
            Chain.ETH,
            stack.ethSource(),
            "airdrop-tusd-" + run,
            tokens,
            LocalStack.TOKEN_SYMBOL));
    GatewayClient btcClient =
        stack.options().cluster()
            ? new GatewayClient(stack.secondGateway().url(), stack.apiKey())
            : client;
    rows.add(runBatch(stack, btcClient, Chain.BTC, BcoinNode.WALLET, "payroll-btc-" + run, btc));
    rows.add(approvedBatch(stack, factory, "treasury-" + run));
    out.println();
    out.printf(
        Locale.ROOT,
        "%-9s %8s %9s %7s %7s %9s %10s %11s  %s%n",
        "batch",
        "payouts",
        "confirmed",
        "failed",
        "unknown",
        "accept ms",
        "all sent s",
        "confirmed s",
        "on-chain check");
    boolean ok = true;
    for (Row r : rows) {
      out.printf(
          Locale.ROOT,
          "%-9s %8d %9d %7d %7d %9d %10.1f %11.1f  %s%n",
          r.label,
          r.total,
          r.confirmed,
          r.failed,
          r.unknown,
          r.acceptMillis,
          r.sentSeconds,
          r.confirmedSeconds,
          r.mismatches == 0
              ? "every recipient holds exactly its amount"
              : r.mismatches + " MISMATCHES");
      ok &= r.mismatches == 0 && r.confirmed == r.total;
    }
    out.println(ok ? "\nall payouts paid exactly once" : "\nSOME PAYOUTS DID NOT MATCH");
    // What an operator sees: the registered nodes and each consumer's share of their budgets.
    out.printf(
        Locale.ROOT,
        "%n$ deploy/txgw budgets -z %s --zk-auth-file %s%n",
        stack.zooKeeperConnect(),
        stack.zkAuthFile());
    List<String> budgets = new ArrayList<>(List.of("budgets"));
    budgets.addAll(stack.zkCliArgs());
    io.txgw.cli.Txgw.run(
        new java.io.PrintWriter(out, true),
        new java.io.PrintWriter(System.err, true),
        budgets.toArray(String[]::new));
    out.printf(Locale.ROOT, "%n$ deploy/txgw lag -b %s --interval 1%n", stack.kafkaBootstrap());
    io.txgw.cli.Txgw.run(
        new java.io.PrintWriter(out, true),
        new java.io.PrintWriter(System.err, true),
        "lag",
        "-b",
        stack.kafkaBootstrap(),
        "--interval",
        "1");
    return ok;
  }

  private record Row(
      String label,
      int total,
      int confirmed,
      int failed,
      int unknown,
      long acceptMillis,
      double sentSeconds,
      double confirmedSeconds,
      int mismatches) {
    /**
     * A batch's row: when every payout was sent (in a block or the mempool), then its final counts
     * once every payout is final, and every recipient checked on chain.
     */
    static Row of(
        String label,
        Chain chain,
        List<PayoutLine> lines,
        GatewayClient client,
        String batchId,
        long t0,
        long acceptMillis,
        LocalStack stack,
        boolean token)
        throws Exception {
      awaitHandled(client, batchId, lines.size(), Duration.ofMinutes(15));
      double sent = (System.nanoTime() - t0) / 1e9;
      JsonNode status = awaitFinal(client, batchId, lines.size(), Duration.ofMinutes(5));
      double confirmed = (System.nanoTime() - t0) / 1e9;
      JsonNode counts = status.path("counts");
      return new Row(
          label,
          lines.size(),
          counts.path("CONFIRMED").asInt(),
          counts.path("FAILED").asInt(),
          counts.path("UNKNOWN").asInt(),
          acceptMillis,
          sent,
          confirmed,
          token
              ? new OnChainCheck(stack).checkToken(lines).size()
              : new OnChainCheck(stack).check(chain, lines).size());
    }
  }

  private static Row runBatch(
      LocalStack stack,
      GatewayClient client,
      Chain chain,
      String source,
      String batchId,
      List<PayoutLine> lines)
      throws Exception {
    return runBatch(stack, client, chain, source, batchId, lines, null);
  }

  /**
   * Posts a batch, waits for its results and checks its recipients on chain.
   *
   * @param token the stack's test token's symbol (each recipient's {@code balanceOf} checked), or
   *     null for the chain's coin
   */
  private static Row runBatch(
      LocalStack stack,
      GatewayClient client,
      Chain chain,
      String source,
      String batchId,
      List<PayoutLine> lines,
      String token)
      throws Exception {
    long t0 = System.nanoTime();
    GatewayClient.Answer answer =
        client.postBatch(new BatchSubmission(batchId, chain.name(), source, lines, token));
    long acceptMillis = (System.nanoTime() - t0) / 1_000_000;
    if (answer.status() != 202) {
      throw new IllegalStateException(
          "batch " + batchId + " refused: HTTP " + answer.status() + " " + answer.body());
    }
    out.printf(
        Locale.ROOT,
        "%s: %d %s payouts accepted in %d ms, waiting for results...%n",
        batchId,
        lines.size(),
        token == null ? chain.name() : token,
        acceptMillis);
    return Row.of(
        token == null ? chain.name() : token,
        chain,
        lines,
        client,
        batchId,
        t0,
        acceptMillis,
        stack,
        token != null);
  }

  /**
   * Four eyes: the treasury client's payroll office posts a batch above the client's approval
   * threshold; it is held, nothing written, until the treasurer (another person) approves it; then
   * it is paid like any other.
   */
  private static Row approvedBatch(LocalStack stack, PayoutFactory factory, String batchId)
      throws Exception {
    GatewayClient office = new GatewayClient(stack.gatewayUrl(), stack.treasuryPayerKey());
    GatewayClient treasurer = new GatewayClient(stack.gatewayUrl(), stack.treasuryApproverKey());
    List<PayoutLine> lines =
        factory.payouts(
            Chain.ETH,
            batchId,
            3,
            new BigInteger("500000000000000000"),
            new BigInteger("900000000000000000"));
    // Another account than the payrolls': its nonces are its own.
    String source = stack.ethAccount(1);
    long t0 = System.nanoTime();
    GatewayClient.Answer held =
        office.postBatch(new BatchSubmission(batchId, Chain.ETH.name(), source, lines));
    if (held.status() != 202 || !"PENDING_APPROVAL".equals(held.body().path("status").asText())) {
      throw new IllegalStateException(
          "batch " + batchId + " was not held: HTTP " + held.status() + " " + held.body());
    }
    out.printf(
        Locale.ROOT,
        "%n%s: %s ETH in 3 payouts, above the treasury client's %s ETH threshold: held for"
            + " approval, posted by %s%n",
        batchId,
        held.body().path("totals").path("ETH").asText(),
        LocalStack.TREASURY_APPROVE_ABOVE,
        held.body().path("postedBy").asText());
    GatewayClient.Answer approved =
        treasurer.post(
            "/v1/batches/"
                + batchId
                + "/approve?contentSha256="
                + held.body().path("contentSha256").asText(),
            null,
            new byte[0]);
    long acceptMillis = (System.nanoTime() - t0) / 1_000_000;
    if (approved.status() != 202) {
      throw new IllegalStateException(
          "batch " + batchId + " not approved: HTTP " + approved.status() + " " + approved.body());
    }
    out.printf(
        Locale.ROOT,
        "%s: approved by %s, written; waiting for results...%n",
        batchId,
        approved.body().path("decidedBy").asText());
    return Row.of("ETH 4-eye", Chain.ETH, lines, office, batchId, t0, acceptMillis, stack, false);
  }

  /** Polls the batch until no payout is still ACCEPTED: every one sent, or refused. */
  public static JsonNode awaitHandled(
      GatewayClient client, String batchId, int total, Duration timeout) throws Exception {
    return await(client, batchId, total, timeout, Set.of("ACCEPTED"), "handled");
  }

  /**
   * Polls the batch until every payout is final: CONFIRMED (its block the configured depth deep),
   * FAILED or UNKNOWN; none ACCEPTED, BROADCAST or REORGED.
   */
  public static JsonNode awaitFinal(
      GatewayClient client, String batchId, int total, Duration timeout) throws Exception {
    return await(client, batchId, total, timeout, NOT_FINAL, "final");
  }

  /** The states a payout leaves again: every one but CONFIRMED, FAILED and UNKNOWN. */
  public static final Set<String> NOT_FINAL =
      java.util.Arrays.stream(io.txgw.common.model.PayoutStatus.values())
          .filter(s -> !s.isFinal())
          .map(Enum::name)
          .collect(java.util.stream.Collectors.toUnmodifiableSet());

  private static JsonNode await(
      GatewayClient client,
      String batchId,
      int total,
      Duration timeout,
      Set<String> notYet,
      String word)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    int lastReported = -1;
    while (true) {
      GatewayClient.Answer answer = client.batch(batchId);
      // No counts yet: the view has not read the batch (an approved one is written just now).
      JsonNode counts = answer.body() == null ? null : answer.body().get("counts");
      int pending = total;
      if (counts != null) {
        pending = 0;
        for (String status : notYet) {
          pending += counts.path(status).asInt(0);
        }
      }
      if (answer.status() == 200 && pending == 0) {
        return answer.body();
      }
      int done = total - pending;
      if (done / 100 != lastReported / 100) {
        out.printf(Locale.ROOT, "  %s: %d/%d %s%n", batchId, done, total, word);
        lastReported = done;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            batchId + ": " + pending + " payouts not " + word + " after " + timeout);
      }
      Thread.sleep(250);
    }
  }
}
