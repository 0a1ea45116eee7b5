package io.txgw.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.model.Chain;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.PayoutLine;
import io.txgw.deploy.Demo;
import io.txgw.deploy.LocalStack;
import io.txgw.deploy.OnChainCheck;
import io.txgw.deploy.infra.CountingProxy;
import io.txgw.loadgen.GatewayClient;
import io.txgw.loadgen.PayoutFactory;
import java.math.BigInteger;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A token airdrop to fresh addresses, paid twice on anvil in one run: one {@code transfer} per
 * payout, then through the multi-send contract (100 payouts a call). Prints the gas per recipient
 * (from the receipts) of each and their ratio, the node requests per payout (every request through
 * a counting proxy in front of anvil, the tracker's and health checks' included), the time to
 * CONFIRMED, and checks every recipient's {@code balanceOf}.
 *
 * <p>{@code benchmarks/run.sh airdrop [payouts, default 1000]}
 */
public final class AirdropBenchmark {
  private AirdropBenchmark() {}

  record Run(
      String name, int payouts, int txs, BigInteger gas, int requests, double seconds, int wrong) {
    double gasPerRecipient() {
      return gas.doubleValue() / payouts;
    }

    double requestsPerPayout() {
      return (double) requests / payouts;
    }
  }

  public static void main(String[] args) throws Exception {
    int payouts = args.length > 0 ? Integer.parseInt(args[0]) : 1_000;
    List<Run> runs = compare(payouts);
    print(runs);
    System.exit(runs.stream().allMatch(r -> r.wrong() == 0) ? 0 : 1);
  }

  /** The same airdrop paid one transfer each, then through the multi-send contract. */
  static List<Run> compare(int payouts) throws Exception {
    return List.of(run("transfer each", payouts, false), run("multi-send", payouts, true));
  }

  static void print(List<Run> runs) {
    Run single = runs.get(0);
    Run multi = runs.get(1);
    System.out.printf(
        Locale.ROOT,
        "%n%-14s %8s %6s %16s %13s %18s %10s %7s%n",
        "mode",
        "payouts",
        "txs",
        "gas/recipient",
        "node reqs",
        "node reqs/payout",
        "to final s",
        "wrong");
    for (Run r : List.of(single, multi)) {
      System.out.printf(
          Locale.ROOT,
          "%-14s %8d %6d %16.0f %13d %18.3f %10.1f %7d%n",
          r.name(),
          r.payouts(),
          r.txs(),
          r.gasPerRecipient(),
          r.requests(),
          r.requestsPerPayout(),
          r.seconds(),
          r.wrong());
    }
    System.out.printf(
        Locale.ROOT,
        "%ngas per recipient, multi-send / transfer each: %.3f (goal at most 0.4)%n",
        multi.gasPerRecipient() / single.gasPerRecipient());
    System.out.printf(
        Locale.ROOT,
        "node requests per payout, multi-send / transfer each: %.3f / %.3f%n",
        multi.requestsPerPayout(),
        single.requestsPerPayout());
  }

  private static Run run(String name, int payouts, boolean multiSend) throws Exception {
    LocalStack.Options options = new LocalStack.Options(0, 0, 200, Duration.ofMillis(500));
    try (LocalStack stack = LocalStack.start(multiSend ? options.withMultiSend() : options);
        CountingProxy node = new CountingProxy(stack.anvil().rpcUrl())) {
      // Every call of the consumer goes through the proxy: the registry names it as the node.
      stack.registerAnvil(node.url(), LocalStack.Options.GENEROUS);
      stack.startConsumer("consumer-1");
      GatewayClient client = new GatewayClient(stack.gatewayUrl(), stack.apiKey());
      List<PayoutLine> lines =
          new PayoutFactory(new AddressCodec(BitcoinNetwork.BCOIN_REGTEST), 71)
              .payouts(
                  Chain.ETH,
                  "drop",
                  payouts,
                  BigInteger.valueOf(10_000),
                  BigInteger.valueOf(500_000_000),
                  6);
      long t0 = node.now();
      GatewayClient.Answer answer =
          client.postBatch(
              new BatchSubmission(
                  "airdrop", "ETH", stack.ethSource(), lines, LocalStack.TOKEN_SYMBOL));
      if (answer.status() != 202) {
        throw new IllegalStateException("airdrop refused: " + answer.body());
      }
      JsonNode status = Demo.awaitFinal(client, "airdrop", payouts, Duration.ofMinutes(20));
      long t1 = node.now();
      Set<String> txids = new HashSet<>();
      for (JsonNode p : status.path("payouts")) {
        txids.add(p.path("txid").asText());
      }
      BigInteger gas = BigInteger.ZERO;
      for (String txid : txids) {
        JsonNode receipt = stack.anvil().rpc().call("eth_getTransactionReceipt", txid);
        gas = gas.add(new BigInteger(receipt.path("gasUsed").asText().substring(2), 16));
      }
      int wrong = new OnChainCheck(stack).checkToken(lines).size();
      wrong += payouts - status.path("counts").path("CONFIRMED").asInt();
      return new Run(
          name, payouts, txids.size(), gas, node.countBetween(t0, t1), (t1 - t0) / 1e9, wrong);
    }
  }
}
