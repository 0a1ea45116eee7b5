package io.txgw.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.model.Chain;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.PayoutLine;
import io.txgw.deploy.LocalStack;
import io.txgw.deploy.OnChainCheck;
import io.txgw.loadgen.GatewayClient;
import io.txgw.loadgen.PayoutFactory;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Payouts per second through one consumer with the journal (exactly once) against the same consumer
 * broadcasting without journaling first (at least once), on anvil mining a block a second. Each
 * mode runs on a fresh stack with the payouts already queued, so the figure is the consumer's own
 * pace. Printed as a ratio from one run.
 */
public final class ExactlyOnceBenchmark {
  private ExactlyOnceBenchmark() {}

  /** One mode's figures. */
  public record Run(String mode, int payouts, double seconds, long broadcast, int mismatches) {
    public double perSecond() {
      return payouts / seconds;
    }
  }

  public static void main(String[] args) throws Exception {
    int perAccount = args.length > 0 ? Integer.parseInt(args[0]) : 500;
    int accounts = args.length > 1 ? Integer.parseInt(args[1]) : 4;
    List<Run> runs = compare(perAccount, accounts);
    print(runs);
    System.exit(0);
  }

  /**
   * Runs the modes in the order A B B A, each on a fresh stack, and sums each mode's two runs, so
   * that neither profits alone from a warmer JVM or a quieter moment of a shared machine.
   */
  public static List<Run> compare(int perAccount, int accounts) throws Exception {
    Run a1 = run(AT_LEAST_ONCE, false, perAccount, accounts);
    Run b1 = run(EXACTLY_ONCE, true, perAccount, accounts);
    Run b2 = run(EXACTLY_ONCE, true, perAccount, accounts);
    Run a2 = run(AT_LEAST_ONCE, false, perAccount, accounts);
    return List.of(sum(a1, a2), sum(b1, b2));
  }

  /**
   * Each mode once, A then B: what the suite's smoke run checks (both modes run and pay every
   * payout once), in half the stacks. Its ratio favours the warmer second mode; {@link #compare} is
   * the measurement.
   */
  public static List<Run> once(int perAccount, int accounts) throws Exception {
    return List.of(
        run(AT_LEAST_ONCE, false, perAccount, accounts),
        run(EXACTLY_ONCE, true, perAccount, accounts));
  }

  private static final String AT_LEAST_ONCE = "at-least-once (no journal)";
  private static final String EXACTLY_ONCE = "exactly-once (journal)";

  private static Run sum(Run x, Run y) {
    return new Run(
        x.mode(),
        x.payouts() + y.payouts(),
        x.seconds() + y.seconds(),
        x.broadcast() + y.broadcast(),
        x.mismatches() + y.mismatches());
  }

  static void print(List<Run> runs) {
    System.out.printf(
        Locale.ROOT,
        "%n%-28s %8s %9s %11s %10s %11s%n",
        "mode",
        "payouts",
        "seconds",
        "payouts/s",
        "broadcast",
        "on-chain ok");
    for (Run r : runs) {
      System.out.printf(
          Locale.ROOT,
          "%-28s %8d %9.2f %11.1f %10d %11s%n",
          r.mode(),
          r.payouts(),
          r.seconds(),
          r.perSecond(),
          r.broadcast(),
          r.mismatches() == 0 ? "yes" : r.mismatches() + " off");
    }
    System.out.printf(
        Locale.ROOT,
        "exactly-once / at-least-once throughput: %.2fx (goal >= 0.80x)%n",
        runs.get(1).perSecond() / runs.get(0).perSecond());
  }

  static Run run(String mode, boolean journaled, int perAccount, int accounts) throws Exception {
    try (LocalStack stack =
        LocalStack.start(new LocalStack.Options(0, 1, 200, Duration.ofMillis(500)))) {
      GatewayClient client = new GatewayClient(stack.gatewayUrl(), stack.apiKey());
      PayoutFactory factory = new PayoutFactory(new AddressCodec(BitcoinNetwork.BCOIN_REGTEST), 3);
      AddressCodec codec = new AddressCodec(BitcoinNetwork.BCOIN_REGTEST);
      List<String> batchIds = new ArrayList<>();
      List<PayoutLine> all = new ArrayList<>();
      List<String> sources = stack.anvil().accounts();
      for (int a = 0; a < accounts; a++) {
        String source = codec.decode(Chain.ETH, sources.get(a)).address().value();
        List<PayoutLine> lines =
            factory.payouts(
                Chain.ETH,
                "eo" + a,
                perAccount,
                BigInteger.ONE,
                new BigInteger("1000000000000000"));
        GatewayClient.Answer answer =
            client.postBatch(new BatchSubmission("bench-" + a, "ETH", source, lines));
        if (answer.status() != 202) {
          throw new IllegalStateException("batch refused: " + answer.body());
        }
        batchIds.add("bench-" + a);
        all.addAll(lines);
      }
      long t0 = System.nanoTime();
      stack.startConsumer(
          "bench", journaled ? Map.of() : Map.of("TXGW_BENCHMARK_UNJOURNALED", "true"));
      List<JsonNode> payouts = BatchWait.handled(client, batchIds, Duration.ofMinutes(20));
      double seconds = (System.nanoTime() - t0) / 1e9;
      // BROADCAST means in the pool; with a block a second, the last ones are mined shortly after.
      int mismatches = Integer.MAX_VALUE;
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (mismatches != 0 && System.nanoTime() < deadline) {
        mismatches = new OnChainCheck(stack).check(Chain.ETH, all).size();
        if (mismatches != 0) {
          Thread.sleep(200);
        }
      }
      return new Run(mode, all.size(), seconds, BatchWait.sent(payouts), mismatches);
    }
  }
}
