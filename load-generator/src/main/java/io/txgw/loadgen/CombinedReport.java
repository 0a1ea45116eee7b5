package io.txgw.loadgen;

import io.txgw.common.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The reports of a run's producer boxes as one: totals, the slowest box, each box's latency and its
 * accepted payouts per second. {@code deploy/loadgen-boxes.sh} writes it from the reports it
 * gathers: {@code CombinedReport PREFIX box-0.json box-1.json ...} writes PREFIX.json and
 * PREFIX.html.
 *
 * @param secondsToAccept the slowest box's time from the barrier to its last answer
 * @param payoutsPerSecond accepted payouts of all boxes over that time
 * @param secondsUntilAllFinal the slowest box's wait for every result; 0 when none waited
 */
public record CombinedReport(
    int boxes,
    long payouts,
    long accepted,
    double secondsToAccept,
    double payoutsPerSecond,
    Map<String, Long> errors,
    Map<String, Long> results,
    long duplicates,
    long missing,
    double secondsUntilAllFinal,
    List<LoadReport> perBox) {

  /** Adds up {@code reports}, one per box, in box order. */
  public static CombinedReport of(List<LoadReport> reports) {
    if (reports.isEmpty()) {
      throw new IllegalArgumentException("no box reports to combine");
    }
    List<LoadReport> boxes = new ArrayList<>(reports);
    boxes.sort(Comparator.comparingInt(LoadReport::boxIndex));
    long payouts = 0;
    long accepted = 0;
    long duplicates = 0;
    long missing = 0;
    double slowest = 0;
    double allFinal = 0;
    Map<String, Long> errors = new TreeMap<>();
    Map<String, Long> results = new TreeMap<>();
    for (LoadReport r : boxes) {
      payouts += r.payouts();
      accepted += r.accepted();
      duplicates += r.duplicates();
      missing += r.missing();
      slowest = Math.max(slowest, r.seconds());
      allFinal = Math.max(allFinal, r.secondsUntilAllFinal());
      r.errors().forEach((k, v) -> errors.merge(k, v, Long::sum));
      r.results().forEach((k, v) -> results.merge(k, v, Long::sum));
    }
    return new CombinedReport(
        boxes.size(),
        payouts,
        accepted,
        slowest,
        slowest > 0 ? accepted / slowest : 0,
        errors,
        results,
        duplicates,
        missing,
        allFinal,
        List.copyOf(boxes));
  }

  /** Writes {@code prefix}.json and {@code prefix}.html. */
  public void write(Path prefix) throws Exception {
    Path dir = prefix.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Files.writeString(
        Path.of(prefix + ".json"),
        Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(this));
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("boxes", boxes);
    summary.put("payouts accepted", accepted + " of " + payouts);
    summary.put(
        "seconds until all accepted (slowest box)",
        String.format(Locale.ROOT, "%.2f", secondsToAccept));
    summary.put("payouts/s, all boxes", String.format(Locale.ROOT, "%.1f", payoutsPerSecond));
    summary.put("errors", errors);
    summary.put("results", results);
    summary.put("results: duplicates / missing", duplicates + " / " + missing);
    Map<String, Object> latency = new LinkedHashMap<>();
    Map<String, List<? extends Number>> throughput = new LinkedHashMap<>();
    for (LoadReport r : perBox) {
      latency.put("box " + r.boxIndex(), r.latencyMillis());
      throughput.put("box " + r.boxIndex(), r.sentPerSecond());
    }
    Files.writeString(
        Path.of(prefix + ".html"),
        Charts.page(
            "txgw load: " + boxes + " boxes",
            Charts.table("Summary", summary)
                + Charts.table("Request latency per box (ms)", latency)
                + Charts.lines(
                    "Accepted payouts per second, per box", "payouts/s", throughput, Double.NaN)));
  }

  /** {@code PREFIX box.json...}: prints the totals, writes PREFIX.json and PREFIX.html. */
  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: CombinedReport PREFIX BOX.json...");
      System.exit(2);
    }
    List<LoadReport> reports = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      reports.add(Json.mapper().readValue(Path.of(args[i]).toFile(), LoadReport.class));
    }
    CombinedReport combined = of(reports);
    combined.write(Path.of(args[0]));
    System.out.printf(
        Locale.ROOT,
        "%d boxes: %d of %d payouts accepted in %.2f s (%.1f payouts/s); duplicates %d, missing"
            + " %d; report %s.html%n",
        combined.boxes(),
        combined.accepted(),
        combined.payouts(),
        combined.secondsToAccept(),
        combined.payoutsPerSecond(),
        combined.duplicates(),
        combined.missing(),
        args[0]);
  }
}
