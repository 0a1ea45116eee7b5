package io.txgw.bench;

import io.txgw.bench.BeforeAfterBenchmark.Mode;
import io.txgw.bench.BeforeAfterBenchmark.Result;
import io.txgw.bench.BeforeAfterBenchmark.Window;
import io.txgw.loadgen.Charts;
import java.io.IOException;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** What {@link BeforeAfterBenchmark} prints, and its chart. */
final class BeforeAfterReport {
  private BeforeAfterReport() {}

  static void print(Result r) {
    System.out.printf(
        Locale.ROOT,
        "%nnode capacity %d requests/s (anvil behind a proxy that refuses the excess with 429)%n",
        r.size().nodeCapacity());
    Mode warm = r.warmUp();
    if (warm != null) {
      // Not counted, but checked on chain as every mode is.
      System.out.printf(
          Locale.ROOT,
          "(d) and (e) after %d payouts were paid as in (d) first, not counted (the consumers' code"
              + " compiled, as in a process that has run a while; -Dtxgw.bench.warmup=0: cold):"
              + " %d paid exactly, %d unpaid, %d paid twice, %d failures%n",
          warm.payouts(),
          warm.paidExactly(),
          warm.unpaid(),
          warm.overpaid(),
          warm.clientFailures());
    }
    System.out.printf(
        Locale.ROOT,
        "%-34s %7s %6s %6s %6s %8s %9s %9s %9s %8s %9s%n",
        "mode",
        "payouts",
        "paid",
        "unpaid",
        "double",
        "failures",
        "accept s",
        "txids s",
        "node reqs",
        "refused",
        "peak/1 s");
    for (Mode m : r.modes()) {
      System.out.printf(
          Locale.ROOT,
          "%-34s %7d %6d %6d %6d %8d %9.2f %9.2f %9d %8d %9d%n",
          m.name(),
          m.payouts(),
          m.paidExactly(),
          m.unpaid(),
          m.overpaid(),
          m.clientFailures(),
          m.secondsToAccept(),
          m.secondsToTxids(),
          m.nodeRequests(),
          m.refusedByNode(),
          m.peakRequestsPerSecond());
      m.errors().forEach((error, n) -> System.out.printf(Locale.ROOT, "    %5d x %s%n", n, error));
      System.out.println("    node requests each second: " + m.requestsPerSecond());
      System.out.printf(
          Locale.ROOT,
          "    %.2f node requests per payout in all (confirmations included)%n",
          (double) m.nodeRequests() / m.payouts());
      if (m.requestsToTxids() >= 0 && m.secondsToTxids() > 0) {
        // The least time the node's capacity allows for the requests made until the last payout
        // was in a block, against the time it took: how full the node was kept meanwhile.
        System.out.printf(
            Locale.ROOT,
            "    until every payout was in a block: %.2f node requests per payout, the node kept at"
                + " %.2f of its capacity; %.2f s against %.2f s for one request per payout at"
                + " capacity (ratio %.2f)%n",
            (double) m.requestsToTxids() / m.payouts(),
            m.requestsToTxids() / (m.secondsToTxids() * r.size().nodeCapacity()),
            m.secondsToTxids(),
            (double) m.payouts() / r.size().nodeCapacity(),
            m.secondsToTxids() / ((double) m.payouts() / r.size().nodeCapacity()));
      }
      Window w = m.results();
      if (w != null && w.seconds() > 0) {
        // Between the first payout in a block and the last, every result waited for the node:
        // how full the consumers kept it while payouts waited.
        System.out.printf(
            Locale.ROOT,
            "    from the first payout in a block to the last (%.2f s): %.0f payouts/s, the node"
                + " kept at %.2f of its capacity%n",
            w.seconds(),
            w.payouts() / w.seconds(),
            w.nodeRequests() / (w.seconds() * r.size().nodeCapacity()));
      }
    }
    if (!r.bitcoin().isEmpty()) {
      BitcoinBatchingBenchmark.print(r.bitcoin());
    }
    System.out.println("chart: " + r.html().toAbsolutePath());
  }

  static void writeChart(Result r) throws IOException {
    Map<String, Object> rows = new LinkedHashMap<>();
    for (Mode m : r.modes()) {
      rows.put(
          m.name(),
          String.format(
              Locale.ROOT,
              "paid exactly %d of %d (unpaid %d, paid twice %d); client failures %d; accepted in"
                  + " %.2f s; every txid after %.2f s; node requests %d, refused %d, busiest"
                  + " second %d",
              m.paidExactly(),
              m.payouts(),
              m.unpaid(),
              m.overpaid(),
              m.clientFailures(),
              m.secondsToAccept(),
              m.secondsToTxids(),
              m.nodeRequests(),
              m.refusedByNode(),
              m.peakRequestsPerSecond()));
    }
    for (BitcoinBatchingBenchmark.Run b : r.bitcoin()) {
      rows.put(
          "(f) bitcoin, " + b.mode(),
          String.format(
              Locale.ROOT,
              "%d payouts in %d transactions (wallet and node calls made per transaction), %d vB"
                  + " in all, %.1f"
                  + " vB/payout, %.2f s",
              b.payouts(),
              b.transactions(),
              b.vbytes(),
              (double) b.vbytes() / b.payouts(),
              b.seconds()));
    }
    Map<String, List<? extends Number>> series = new LinkedHashMap<>();
    r.modes().forEach(m -> series.put(m.name(), m.requestsPerSecond()));
    Files.createDirectories(r.html().toAbsolutePath().getParent());
    Files.writeString(
        r.html(),
        Charts.page(
            "txgw: before and after",
            Charts.table(
                    "Node capacity "
                        + r.size().nodeCapacity()
                        + " requests/s, "
                        + r.size().payouts()
                        + " payouts per mode",
                    rows)
                + Charts.lines(
                    "Requests offered to the node per second (refused ones included)",
                    "requests/s",
                    series,
                    r.size().nodeCapacity())));
  }
}
