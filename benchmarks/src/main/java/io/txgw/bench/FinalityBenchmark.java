package io.txgw.bench;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.model.Chain;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.model.PayoutStatus;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.PayoutLine;
import io.txgw.deploy.LocalStack;
import io.txgw.deploy.OnChainCheck;
import io.txgw.deploy.nodes.BcoinNode;
import io.txgw.loadgen.GatewayClient;
import io.txgw.loadgen.PayoutFactory;
import io.txgw.loadgen.ResultsReader;
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
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Payouts followed from the post to CONFIRMED, per chain, on the local stack (anvil mining each
 * transaction as it comes and a block every 2 s; bcoin a block every 0.5 s; depth 2): the time from
 * accept to the first BROADCAST and to CONFIRMED (p50, p99), the node calls per confirmed payout,
 * and what the confirmation tracker costs the node per block. Node calls are the consumer's own
 * count of the calls it made ({@code txgw_node_calls_total}), by method.
 */
public final class FinalityBenchmark {
  private FinalityBenchmark() {}

  /** One chain's figures. */
  public record Run(
      Chain chain,
      int payouts,
      int confirmed,
      double seconds,
      double broadcastP50,
      double broadcastP99,
      double confirmedP50,
      double confirmedP99,
      double callsPerPayout,
      double trackerCallsPerBlock,
      long blocks,
      int mismatches) {}

  /** Methods only the tracker calls: head and block reads. */
  private static final Set<String> TRACKER =
      Set.of("eth_getBlockByNumber", "eth_getBlockByHash", "getbestblockhash", "getblock");

  public static void main(String[] args) throws Exception {
    int payouts = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    print(run(payouts));
    System.exit(0);
  }

  public static List<Run> run(int payouts) throws Exception {
    try (LocalStack stack = LocalStack.start(LocalStack.Options.defaults())) {
      GatewayClient client = new GatewayClient(stack.gatewayUrl(), stack.apiKey());
      PayoutFactory factory = new PayoutFactory(new AddressCodec(BitcoinNetwork.BCOIN_REGTEST), 8);
      List<Run> runs = new ArrayList<>();
      runs.add(
          chain(
              stack,
              client,
              Chain.ETH,
              stack.ethSource(),
              factory.payouts(
                  Chain.ETH,
                  "fin-eth",
                  payouts,
                  BigInteger.ONE,
                  new BigInteger("1000000000000000"))));
      runs.add(
          chain(
              stack,
              client,
              Chain.BTC,
              BcoinNode.WALLET,
              factory.payouts(
                  Chain.BTC,
                  "fin-btc",
                  payouts,
                  BigInteger.valueOf(10_000),
                  BigInteger.valueOf(100_000))));
      return runs;
    }
  }

  private static Run chain(
      LocalStack stack, GatewayClient client, Chain chain, String source, List<PayoutLine> lines)
      throws Exception {
    String batchId = "finality-" + chain.name().toLowerCase(Locale.ROOT);
    String metrics = stack.consumer("consumer-1").metricsUrl();
    Map<String, Double> callsBefore = calls(metrics, chain);
    long heightBefore = height(stack, chain);
    long t0 = System.nanoTime();
    GatewayClient.Answer answer =
        client.postBatch(new BatchSubmission(batchId, chain.name(), source, lines));
    if (answer.status() != 202) {
      throw new IllegalStateException("batch refused: " + answer.body());
    }
    ResultsReader.Seen seen =
        ResultsReader.read(
            KafkaConnection.plaintext(stack.kafkaBootstrap()),
            Set.of(batchId),
            lines.size(),
            Duration.ofMinutes(15));
    double seconds = (System.nanoTime() - t0) / 1e9;
    Map<String, Double> callsAfter = calls(metrics, chain);
    long blocks = height(stack, chain) - heightBefore;
    List<Double> toBroadcast = new ArrayList<>();
    List<Double> toConfirmed = new ArrayList<>();
    int confirmed = 0;
    for (Map.Entry<String, PayoutResult> e : seen.latest().entrySet()) {
      PayoutResult last = e.getValue();
      PayoutResult first = seen.firstBroadcast().get(e.getKey());
      if (last.status() == PayoutStatus.CONFIRMED && first != null) {
        confirmed++;
        toBroadcast.add(millisBetween(first.acceptedAt(), first.updatedAt()));
        toConfirmed.add(millisBetween(last.acceptedAt(), last.updatedAt()));
      }
    }
    double all = 0;
    double tracker = 0;
    for (Map.Entry<String, Double> e : callsAfter.entrySet()) {
      double n = e.getValue() - callsBefore.getOrDefault(e.getKey(), 0.0);
      all += n;
      if (TRACKER.contains(e.getKey())) {
        tracker += n;
      }
    }
    return new Run(
        chain,
        lines.size(),
        confirmed,
        seconds,
        percentile(toBroadcast, 0.5),
        percentile(toBroadcast, 0.99),
        percentile(toConfirmed, 0.5),
        percentile(toConfirmed, 0.99),
        confirmed == 0 ? 0 : all / confirmed,
        blocks == 0 ? 0 : tracker / blocks,
        blocks,
        new OnChainCheck(stack).check(chain, lines).size());
  }

  private static double millisBetween(java.time.Instant a, java.time.Instant b) {
    return Duration.between(a, b).toNanos() / 1e6;
  }

  private static double percentile(List<Double> values, double q) {
    if (values.isEmpty()) {
      return 0;
    }
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(Double::compare);
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1));
  }

  private static long height(LocalStack stack, Chain chain) throws Exception {
    if (chain == Chain.BTC) {
      return stack.bcoin().blockCount();
    }
    String hex = stack.anvil().rpc().call("eth_blockNumber").asText();
    return Long.parseLong(hex.substring(2), 16);
  }

  private static final Pattern CALLS =
      Pattern.compile("^txgw_node_calls_total\\{([^}]*)\\} ([0-9.eE+-]+)$", Pattern.MULTILINE);

  /** The consumer's node calls so far for {@code chain}, by method, from its /metrics. */
  private static Map<String, Double> calls(String metricsUrl, Chain chain) throws Exception {
    String body =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(metricsUrl)).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    Map<String, Double> out = new java.util.TreeMap<>();
    Matcher m = CALLS.matcher(body);
    while (m.find()) {
      String labels = m.group(1);
      if (!labels.contains("chain=\"" + chain.name() + "\"")) {
        continue;
      }
      Matcher method = Pattern.compile("method=\"([^\"]*)\"").matcher(labels);
      if (method.find()) {
        out.merge(method.group(1), Double.parseDouble(m.group(2)), Double::sum);
      }
    }
    return out;
  }

  static void print(List<Run> runs) {
    System.out.printf(
        Locale.ROOT,
        "%n%-5s %8s %9s %8s %14s %14s %15s %15s %13s %14s %7s %11s%n",
        "chain",
        "payouts",
        "confirmed",
        "seconds",
        "broadcast p50",
        "broadcast p99",
        "confirmed p50",
        "confirmed p99",
        "calls/payout",
        "tracker/block",
        "blocks",
        "on-chain ok");
    for (Run r : runs) {
      System.out.printf(
          Locale.ROOT,
          "%-5s %8d %9d %8.1f %12.0f ms %12.0f ms %13.0f ms %13.0f ms %13.2f %14.2f %7d %11s%n",
          r.chain(),
          r.payouts(),
          r.confirmed(),
          r.seconds(),
          r.broadcastP50(),
          r.broadcastP99(),
          r.confirmedP50(),
          r.confirmedP99(),
          r.callsPerPayout(),
          r.trackerCallsPerBlock(),
          r.blocks(),
          r.mismatches() == 0 ? "yes" : r.mismatches() + " off");
    }
  }
}
