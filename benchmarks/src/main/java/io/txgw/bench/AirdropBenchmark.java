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
 * CONFIRMED, and checks every recipient's {@code balanceOf}. Each way then pays the same recipients
 * again, now holders: a fresh holder's balance costs 22,100 gas to create (EIP-2929/2200) in either
 * way, which bounds the ratio for fresh addresses; for holders it costs 5,000.
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

  /**
   * The same airdrop paid one transfer each, then through the multi-send contract: to fresh
   * addresses (the first two runs), then to the same addresses again (the last two).
   */
  static List<Run> compare(int payouts) throws Exception {
    return compare(payouts, true);
  }

  /** The same; without {@code again}, to fresh addresses only (two runs). */
  static List<Run> compare(int payouts, boolean again) throws Exception {
    List<Run> single = run("transfer each", payouts, false, again);
    List<Run> multi = run("multi-send", payouts, true, again);
    return again
        ? List.of(single.get(0), multi.get(0), single.get(1), multi.get(1))
        : List.of(single.get(0), multi.get(0));
  }

  static void print(List<Run> runs) {
    print("fresh recipients", runs.get(0), runs.get(1), "goal at most 0.4");
    if (runs.size() == 4) {
      print("the same recipients again, now holders", runs.get(2), runs.get(3), "");
    }
  }

  private static void print(String what, Run single, Run multi, String goal) {
    System.out.printf(Locale.ROOT, "%n%s:", what);
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
        "%ngas per recipient, multi-send / transfer each: %.3f%s%n",
        multi.gasPerRecipient() / single.gasPerRecipient(),
        goal.isEmpty() ? "" : " (" + goal + ")");
    System.out.printf(
        Locale.ROOT,
        "node requests per payout, multi-send / transfer each: %.3f / %.3f%n",
        multi.requestsPerPayout(),
        single.requestsPerPayout());
  }

  private static List<Run> run(String name, int payouts, boolean multiSend, boolean again)
      throws Exception {
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
      Run fresh = airdrop(stack, node, client, name, "airdrop", lines);
      int wrong = fresh.wrong() + new OnChainCheck(stack).checkToken(lines).size();
      fresh =
          new Run(
              name, payouts, fresh.txs(), fresh.gas(), fresh.requests(), fresh.seconds(), wrong);
      if (!again) {
        return List.of(fresh);
      }
      List<PayoutLine> holderLines =
          lines.stream()
              .map(l -> new PayoutLine("again-" + l.id(), l.to(), l.amount(), l.memo()))
              .toList();
      Run holders = airdrop(stack, node, client, name, "airdrop-again", holderLines);
      OnChainCheck chain = new OnChainCheck(stack);
      int twice = 0;
      for (PayoutLine l : lines) {
        BigInteger expected =
            io.txgw.common.model.Amount.parse(l.amount()).toUnits(6).multiply(BigInteger.TWO);
        if (!chain.tokenBalance(l.to()).equals(expected)) {
          twice++;
        }
      }
      holders =
          new Run(
              name,
              payouts,
              holders.txs(),
              holders.gas(),
              holders.requests(),
              holders.seconds(),
              holders.wrong() + twice);
      return List.of(fresh, holders);
    }
  }

  /** One airdrop batch paid and followed to CONFIRMED; {@code wrong} counts those not confirmed. */
  private static Run airdrop(
      LocalStack stack,
      CountingProxy node,
      GatewayClient client,
      String name,
      String batchId,
      List<PayoutLine> lines)
      throws Exception {
    int payouts = lines.size();
    long t0 = node.now();
    GatewayClient.Answer answer =
        client.postBatch(
            new BatchSubmission(batchId, "ETH", stack.ethSource(), lines, LocalStack.TOKEN_SYMBOL));
    if (answer.status() != 202) {
      throw new IllegalStateException("airdrop refused: " + answer.body());
    }
    JsonNode status = Demo.awaitFinal(client, batchId, payouts, Duration.ofMinutes(20));
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
    int wrong = payouts - status.path("counts").path("CONFIRMED").asInt();
    return new Run(
        name, payouts, txids.size(), gas, node.countBetween(t0, t1), (t1 - t0) / 1e9, wrong);
  }
}
