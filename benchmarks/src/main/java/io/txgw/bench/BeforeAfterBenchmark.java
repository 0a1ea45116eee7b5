package io.txgw.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.json.Json;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.model.PayoutStatus;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.PayoutLine;
import io.txgw.coordinator.control.Controls;
import io.txgw.deploy.LocalStack;
import io.txgw.deploy.OnChainCheck;
import io.txgw.deploy.infra.ConsumerGroups;
import io.txgw.deploy.infra.CountingProxy;
import io.txgw.loadgen.GatewayClient;
import io.txgw.loadgen.PayoutFactory;
import io.txgw.loadgen.ResultsReader;
import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * The paper's before and after, in one run against one node: anvil behind a proxy that stands for
 * the node's capacity (requests beyond it in any second are refused with 429, as a rate-limited
 * provider does). The same number of Ethereum payouts, each to a fresh address, are paid (a) by one
 * client calling {@code eth_sendTransaction} one at a time, (b) by many client threads calling it
 * at once, (c) through txgw, posted by as many client threads as single payouts, the node signing,
 * and (d) the same signed by the consumers from a keystore; then (e) the Bitcoin batching
 * comparison. anvil mines a block a second. Every payout is checked on chain.
 */
public final class BeforeAfterBenchmark {
  private static final String GROUP = "txgw-payouts";

  private BeforeAfterBenchmark() {}

  /** How big the run is. */
  public record Size(int payouts, int threads, int nodeCapacity, int btcPayouts) {}

  /** What one way of paying showed. */
  public record Mode(
      String name,
      int payouts,
      int paidExactly,
      int unpaid,
      int overpaid,
      int clientFailures,
      double secondsToAccept,
      double secondsToTxids,
      int nodeRequests,
      int requestsToTxids,
      int refusedByNode,
      int peakRequestsPerSecond,
      List<Integer> requestsPerSecond,
      Map<String, Integer> errors,
      Window results) {}

  /**
   * From a gateway mode's first result to its last (the stamps its consumers wrote on them): the
   * payouts that became BROADCAST after the first and the node requests meanwhile; null for the
   * direct modes.
   */
  public record Window(double seconds, int payouts, int nodeRequests) {}

  /** The whole run. */
  public record Result(
      Size size,
      Mode warmUp,
      List<Mode> modes,
      List<BitcoinBatchingBenchmark.Run> bitcoin,
      Path html) {}

  public static void main(String[] args) throws Exception {
    Size size =
        new Size(
            args.length > 0 ? Integer.parseInt(args[0]) : 1_000,
            args.length > 1 ? Integer.parseInt(args[1]) : 50,
            args.length > 2 ? Integer.parseInt(args[2]) : 200,
            args.length > 3 ? Integer.parseInt(args[3]) : 1_000);
    Result r = run(size, Path.of("benchmarks/target/before-after.html"));
    BeforeAfterReport.print(r);
    System.exit(0);
  }

  public static Result run(Size size, Path html) throws Exception {
    List<Mode> modes = new ArrayList<>();
    Mode warmUp = null;
    try (LocalStack stack =
            LocalStack.start(
                new LocalStack.Options(0, 1, 200, Duration.ofMillis(500))
                    .withLimits(null, LocalStack.Options.GENEROUS));
        CountingProxy node = new CountingProxy(stack.anvil().rpcUrl(), size.nodeCapacity())) {
      List<String> accounts = stack.anvil().accounts();
      AddressCodec codec = new AddressCodec(BitcoinNetwork.BCOIN_REGTEST);
      // One client for both gateway modes: each holds its connections open, and the gateway
      // allows one client address only so many.
      GatewayClient client = new GatewayClient(stack.gatewayUrl(), stack.apiKey());
      // Which modes run: all by default, a subset (say "d") when studying one of them.
      String only = System.getProperty("txgw.bench.modes", "abcde");
      if (only.contains("a")) {
        modes.add(
            direct(
                stack,
                node,
                "(a) direct, one call at a time",
                accounts.get(8),
                payouts(codec, "a", size.payouts(), 1),
                1));
      }
      if (only.contains("b")) {
        modes.add(
            direct(
                stack,
                node,
                "(b) direct, " + size.threads() + " threads at once",
                accounts.get(9),
                payouts(codec, "b", size.payouts(), 2),
                size.threads()));
      }
      if (only.contains("c")) {
        modes.add(
            throughGateway(
                stack,
                node,
                "(c) through txgw, the node signs",
                accounts.subList(0, 5),
                payouts(codec, "c", size.payouts(), 3),
                size,
                new Consumers(stack, Map.of()),
                client,
                false,
                false));
      }
      // The same, signed by the consumers from a keystore: the node only takes the bytes.
      Map<String, String> keystore =
          io.txgw.deploy.nodes.DevAccounts.keystore(
              stack.workDir().resolve("bench-keystore"), 5, 6, 7);
      keystore.put("TXGW_ETH_NODE_SIGNS", "false");
      // One pair of consumers for the keystore modes, kept running from one to the next as a
      // deployment keeps them.
      Consumers signing = new Consumers(stack, keystore);
      // The consumers' code is compiled while it runs: on two cores the JIT compilers took 40% of
      // the JVM's CPU while (e)'s first 1,000 payouts were sent. A consumer that has run a while
      // has it compiled; so (d) and (e) measure after this many payouts were paid the same way.
      int warmUpPayouts =
          only.contains("d") || only.contains("e")
              ? Integer.getInteger("txgw.bench.warmup", size.payouts())
              : 0;
      if (warmUpPayouts > 0) {
        warmUp =
            throughGateway(
                stack,
                node,
                "(w) warm-up",
                accounts.subList(5, 8),
                payouts(codec, "w", warmUpPayouts, 6),
                size,
                signing,
                client,
                false,
                true);
      }
      if (only.contains("d")) {
        modes.add(
            throughGateway(
                stack,
                node,
                "(d) through txgw, a keystore signs",
                accounts.subList(5, 8),
                payouts(codec, "d", size.payouts(), 4),
                size,
                signing,
                client,
                false,
                only.contains("e")));
      }
      // The same once more, every payout posted while the consumers are paused, counted from the
      // resume: what they keep the node at while payouts wait, apart from how fast this machine
      // takes the posts meanwhile.
      if (only.contains("e")) {
        modes.add(
            throughGateway(
                stack,
                node,
                "(e) as (d), all queued first",
                accounts.subList(5, 8),
                payouts(codec, "e", size.payouts(), 5),
                size,
                signing,
                client,
                true,
                false));
      }
    }
    List<BitcoinBatchingBenchmark.Run> bitcoin =
        size.btcPayouts() > 0 ? BitcoinBatchingBenchmark.compare(size.btcPayouts()) : List.of();
    Result result = new Result(size, warmUp, modes, bitcoin, html);
    BeforeAfterReport.writeChart(result);
    return result;
  }

  private static List<PayoutLine> payouts(AddressCodec codec, String prefix, int n, long seed) {
    return new PayoutFactory(codec, seed)
        .payouts(
            Chain.ETH,
            prefix,
            n,
            BigInteger.valueOf(1_000_000_000_000L),
            BigInteger.valueOf(1_000_000_000_000_000L));
  }

  /**
   * A client that calls the node itself, as integrations did before the gateway: one {@code
   * eth_sendTransaction} per payout from the node's own account. It retries only a refusal for rate
   * (HTTP 429: the node never saw the call), after the Retry-After the node asks for; any other
   * error or a timeout fails the payout, since a retry could pay it twice.
   */
  private static Mode direct(
      LocalStack stack,
      CountingProxy node,
      String name,
      String from,
      List<PayoutLine> payouts,
      int threads)
      throws Exception {
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    AtomicInteger failures = new AtomicInteger();
    Map<String, Integer> errors = new java.util.concurrent.ConcurrentHashMap<>();
    int refusedBefore = node.refused();
    long t0 = node.now();
    inParallel(
        threads,
        payouts.size(),
        i -> {
          String error;
          while ((error = send(http, node.url(), from, payouts.get(i), i)) == RATE_LIMITED) {
            Thread.sleep(1_000);
          }
          if (error != null) {
            failures.incrementAndGet();
            errors.merge(error, 1, Integer::sum);
          }
        });
    long sentAt = node.now();
    minedAll(stack, from);
    long t1 = node.now();
    double seconds = (sentAt - t0) / 1e9;
    return onChain(
        stack,
        node,
        name,
        payouts,
        failures.get(),
        seconds,
        seconds,
        -1,
        t0,
        t1,
        node.refused() - refusedBefore,
        errors,
        null);
  }

  /**
   * Waits until the account has nothing pending: blocks come every second, and the balances are
   * checked only once every transaction sent is in one. Asked of anvil directly, so not counted.
   */
  private static void minedAll(LocalStack stack, String from) throws Exception {
    Instant until = Instant.now().plus(Duration.ofMinutes(2));
    while (Instant.now().isBefore(until)) {
      long latest =
          new BigInteger(
                  stack
                      .anvil()
                      .rpc()
                      .call("eth_getTransactionCount", from, "latest")
                      .asText()
                      .substring(2),
                  16)
              .longValue();
      long pending =
          new BigInteger(
                  stack
                      .anvil()
                      .rpc()
                      .call("eth_getTransactionCount", from, "pending")
                      .asText()
                      .substring(2),
                  16)
              .longValue();
      if (latest == pending) {
        return;
      }
      Thread.sleep(200);
    }
  }

  /** One payout's work for a client thread. */
  private interface Work {
    void pay(int index) throws Exception;
  }

  /** {@code threads} client threads taking payout indexes 0..n-1 in turn until all are done. */
  private static void inParallel(int threads, int n, Work work) throws Exception {
    AtomicInteger next = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> clients = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        clients.add(
            pool.submit(
                () -> {
                  int i;
                  while ((i = next.getAndIncrement()) < n) {
                    work.pay(i);
                  }
                  return null;
                }));
      }
      for (Future<?> client : clients) {
        client.get(15, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static final String RATE_LIMITED = "rate limited";

  /**
   * One payout by {@code eth_sendTransaction}: null when the node answered with a txid, else what
   * went wrong ({@link #RATE_LIMITED} when it refused for rate).
   */
  private static String send(HttpClient http, String url, String from, PayoutLine p, int id) {
    ObjectNode call = Json.mapper().createObjectNode();
    call.put("jsonrpc", "2.0");
    call.put("id", id);
    call.put("method", "eth_sendTransaction");
    ObjectNode tx = call.putArray("params").addObject();
    tx.put("from", from);
    tx.put("to", p.to());
    tx.put("value", "0x" + Amount.parse(p.amount()).toUnits(18).toString(16));
    try {
      HttpResponse<String> response =
          http.send(
              HttpRequest.newBuilder(URI.create(url))
                  .timeout(Duration.ofSeconds(30))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(call.toString()))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() == 429) {
        return RATE_LIMITED;
      }
      JsonNode answer = Json.mapper().readTree(response.body());
      if (response.statusCode() == 200 && answer.path("result").isTextual()) {
        return null;
      }
      return "HTTP " + response.statusCode() + ": " + answer.path("error").path("message").asText();
    } catch (IOException e) {
      return "no answer: " + e.getClass().getSimpleName();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  /**
   * Two consumers in this JVM, started on first use at the same moment (as two boxes would be), and
   * stopped when a mode is done with them.
   */
  private static final class Consumers {
    private final LocalStack stack;
    private final Map<String, String> signing;
    private boolean running;

    Consumers(LocalStack stack, Map<String, String> signing) {
      this.stack = stack;
      this.signing = signing;
    }

    /** Waits until every consumer sees the chain as {@code paused} says, for at most 10 s. */
    void awaitSeen(Chain chain, boolean paused) {
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      for (String id : List.of("consumer-1", "consumer-2")) {
        while (stack.consumer(id).paused(chain) != paused) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException(id + " did not see the pause change in 10 s");
          }
          java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
        }
      }
    }

    void ensureRunning() throws Exception {
      if (!running) {
        stack.startConsumersAtOnce(List.of("consumer-1", "consumer-2"), signing);
        ConsumerGroups.awaitStable(stack.kafkaBootstrap(), GROUP, 2, Duration.ofSeconds(60));
        running = true;
      }
    }

    void stop() {
      if (running) {
        stack.stopConsumer("consumer-1");
        stack.stopConsumer("consumer-2");
        running = false;
      }
    }
  }

  /**
   * The same payouts posted to the gateway one per request by as many client threads, paid by two
   * consumers sharing the node's capacity as their budget: running while the posts come, or paused
   * until every payout is accepted ({@code queuedFirst}; the time to every txid then counts from
   * the resume). {@code keep} leaves the consumers running for the next mode.
   */
  private static Mode throughGateway(
      LocalStack stack,
      CountingProxy node,
      String name,
      List<String> sources,
      List<PayoutLine> payouts,
      Size size,
      Consumers consumers,
      GatewayClient client,
      boolean queuedFirst,
      boolean keep)
      throws Exception {
    stack.registerAnvil(node.url(), new LocalStack.NodeLimits(size.nodeCapacity(), 16));
    Controls controls = new Controls(stack.zk());
    if (queuedFirst) {
      // A consumer started while paused starts paused.
      controls.pause(
          Chain.ETH,
          new Controls.Pause("before-after", Instant.now(), "every payout queued first"));
    }
    consumers.ensureRunning();
    if (queuedFirst) {
      // Running consumers learn of it through their caches: none may take a payout before.
      consumers.awaitSeen(Chain.ETH, true);
    }
    // One moment on both clocks: the results' stamps are wall-clock, the proxy's arrivals not.
    Instant wallBase = Instant.now();
    long nodeBase = node.now();
    AtomicInteger failures = new AtomicInteger();
    Map<String, Integer> errors = new java.util.concurrent.ConcurrentHashMap<>();
    int refusedBefore = node.refused();
    Instant start = Instant.now();
    long t0 = node.now();
    inParallel(
        size.threads(),
        payouts.size(),
        i -> {
          PayoutLine p = payouts.get(i);
          GatewayClient.Answer answer =
              client.postBatch(
                  new BatchSubmission(
                      "single-" + p.id(), "ETH", sources.get(i % sources.size()), List.of(p)));
          if (answer.status() != 202) {
            failures.incrementAndGet();
            errors.merge("gateway HTTP " + answer.status(), 1, Integer::sum);
          }
        });
    double toAccept = (node.now() - t0) / 1e9;
    if (queuedFirst) {
      start = Instant.now();
      t0 = node.now();
      controls.resume(Chain.ETH);
    }
    Set<String> batchIds =
        payouts.stream().map(p -> "single-" + p.id()).collect(Collectors.toSet());
    ResultsReader.Seen seen =
        ResultsReader.read(
            KafkaConnection.plaintext(stack.kafkaBootstrap()),
            batchIds,
            batchIds.size(),
            Duration.ofMinutes(10));
    // Paid when the chain first held it; the rest of the run waits for its depth as well.
    Collection<PayoutResult> results = new ArrayList<>();
    seen.latest().forEach((key, r) -> results.add(seen.firstBroadcast().getOrDefault(key, r)));
    long t1 = node.now();
    Instant lastTxid = start;
    Instant firstTxid = null;
    int failed = 0;
    for (PayoutResult r : results) {
      if (r.status() == PayoutStatus.BROADCAST && r.txid() != null) {
        lastTxid = r.updatedAt().isAfter(lastTxid) ? r.updatedAt() : lastTxid;
        firstTxid =
            firstTxid == null || r.updatedAt().isBefore(firstTxid) ? r.updatedAt() : firstTxid;
      } else {
        failed++;
        errors.merge(r.status() + ": " + r.error(), 1, Integer::sum);
      }
    }
    if (results.size() < batchIds.size()) {
      failed += batchIds.size() - results.size();
      errors.put("no result within 10 minutes", batchIds.size() - results.size());
    }
    double toTxids = Duration.between(start, lastTxid).toNanos() / 1e9;
    int requestsToTxids = node.countBetween(t0, t0 + Duration.between(start, lastTxid).toNanos());
    Window window = null;
    if (firstTxid != null) {
      Instant first = firstTxid;
      window =
          new Window(
              Duration.between(first, lastTxid).toNanos() / 1e9,
              (int)
                  results.stream()
                      .filter(r -> r.status() == PayoutStatus.BROADCAST)
                      .filter(r -> r.updatedAt().isAfter(first))
                      .count(),
              node.countBetween(
                  nodeBase + Duration.between(wallBase, first).toNanos(),
                  nodeBase + Duration.between(wallBase, lastTxid).toNanos()));
    }
    if (!keep) {
      consumers.stop();
    }
    return onChain(
        stack,
        node,
        name,
        payouts,
        failures.get() + failed,
        toAccept,
        toTxids,
        requestsToTxids,
        t0,
        t1,
        node.refused() - refusedBefore,
        errors,
        window);
  }

  private static Mode onChain(
      LocalStack stack,
      CountingProxy node,
      String name,
      List<PayoutLine> payouts,
      int clientFailures,
      double toAccept,
      double toTxids,
      int requestsToTxids,
      long t0,
      long t1,
      int refused,
      Map<String, Integer> errors,
      Window window)
      throws Exception {
    List<OnChainCheck.Mismatch> mismatches = new OnChainCheck(stack).check(Chain.ETH, payouts);
    int unpaid = 0;
    int overpaid = 0;
    for (OnChainCheck.Mismatch m : mismatches) {
      int cmp = Amount.parse(m.found()).compareTo(Amount.parse(m.expected()));
      if (Amount.parse(m.found()).isPositive() && cmp > 0) {
        overpaid++;
      } else {
        unpaid++;
      }
    }
    // Whole seconds, plus the last part-second, so a short mode still shows its rate.
    List<Integer> perSecond = new ArrayList<>(node.perSecond(t0, t1));
    long covered = t0 + perSecond.size() * 1_000_000_000L;
    if (covered < t1) {
      perSecond.add(node.countBetween(covered, t1));
    }
    return new Mode(
        name,
        payouts.size(),
        payouts.size() - mismatches.size(),
        unpaid,
        overpaid,
        clientFailures,
        toAccept,
        toTxids,
        node.countBetween(t0, t1),
        requestsToTxids,
        refused,
        node.maxInWindow(Duration.ofSeconds(1), t0, t1),
        perSecond,
        Map.copyOf(errors),
        window);
  }
}
