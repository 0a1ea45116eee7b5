package io.txgw.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.model.Chain;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.PayoutLine;
import io.txgw.deploy.LocalStack;
import io.txgw.deploy.OnChainCheck;
import io.txgw.deploy.nodes.BcoinNode;
import io.txgw.loadgen.GatewayClient;
import io.txgw.loadgen.PayoutFactory;
import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The same Bitcoin payouts paid one transaction each and up to 100 outputs per transaction: node
 * transactions, total virtual size (what fees are paid on) and time, from one run.
 */
public final class BitcoinBatchingBenchmark {
  private BitcoinBatchingBenchmark() {}

  /** One mode's figures. */
  public record Run(
      String mode, int payouts, long transactions, long vbytes, double seconds, int mismatches) {}

  public static void main(String[] args) throws Exception {
    int payouts = args.length > 0 ? Integer.parseInt(args[0]) : 1_000;
    List<Run> runs = compare(payouts);
    print(runs);
    System.exit(0);
  }

  public static List<Run> compare(int payouts) throws Exception {
    return List.of(
        run("one transaction per payout", 1, payouts), run("batched, 100 outputs", 100, payouts));
  }

  static void print(List<Run> runs) {
    System.out.printf(
        Locale.ROOT,
        "%n%-28s %8s %13s %12s %13s %9s %11s%n",
        "mode",
        "payouts",
        "transactions",
        "total vB",
        "vB/payout",
        "seconds",
        "on-chain ok");
    for (Run r : runs) {
      System.out.printf(
          Locale.ROOT,
          "%-28s %8d %13d %12d %13.1f %9.2f %11s%n",
          r.mode(),
          r.payouts(),
          r.transactions(),
          r.vbytes(),
          (double) r.vbytes() / r.payouts(),
          r.seconds(),
          r.mismatches() == 0 ? "yes" : r.mismatches() + " off");
    }
    System.out.printf(
        Locale.ROOT,
        "batched / single: %.3fx the virtual bytes, %.3fx the transactions%n",
        (double) runs.get(1).vbytes() / runs.get(0).vbytes(),
        (double) runs.get(1).transactions() / runs.get(0).transactions());
  }

  static Run run(String mode, int maxOutputs, int count) throws Exception {
    try (LocalStack stack =
        LocalStack.start(new LocalStack.Options(0, 0, 400, Duration.ofMillis(500)))) {
      GatewayClient client = new GatewayClient(stack.gatewayUrl(), stack.apiKey());
      List<PayoutLine> lines =
          new PayoutFactory(new AddressCodec(BitcoinNetwork.BCOIN_REGTEST), 9)
              .payouts(
                  Chain.BTC,
                  "bb",
                  count,
                  BigInteger.valueOf(10_000),
                  BigInteger.valueOf(1_000_000));
      GatewayClient.Answer answer =
          client.postBatch(new BatchSubmission("btc-bench", "BTC", BcoinNode.WALLET, lines));
      if (answer.status() != 202) {
        throw new IllegalStateException("batch refused: " + answer.body());
      }
      long t0 = System.nanoTime();
      stack.startConsumer("bench", Map.of("TXGW_BTC_MAX_OUTPUTS", Integer.toString(maxOutputs)));
      List<JsonNode> payouts =
          BatchWait.handled(client, List.of("btc-bench"), Duration.ofMinutes(20));
      double seconds = (System.nanoTime() - t0) / 1e9;
      Set<String> txids = new TreeSet<>();
      for (JsonNode p : payouts) {
        if (!BatchWait.isSent(p)) {
          throw new IllegalStateException("payout " + p.path("id").asText() + " ended " + p);
        }
        txids.add(p.path("txid").asText());
      }
      long vbytes = 0;
      for (String txid : txids) {
        vbytes +=
            stack.bcoin().nodeRpc().call("getrawtransaction", txid, true).path("vsize").asLong();
      }
      stack.bcoin().mine(1, stack.bcoin().newWalletAddress());
      int mismatches = new OnChainCheck(stack).check(Chain.BTC, lines).size();
      return new Run(mode, count, txids.size(), vbytes, seconds, mismatches);
    }
  }
}
