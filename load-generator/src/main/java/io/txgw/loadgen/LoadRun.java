package io.txgw.loadgen;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.model.Chain;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.PayoutLine;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.HdrHistogram.Histogram;

/**
 * One producer box's run: {@code workers} threads each send {@code iterations} requests of {@code
 * batchSize} payouts with distinct recipients, timing each request. Batch and payout ids carry the
 * run id and box index, so boxes never collide.
 */
public final class LoadRun {
  /** How the box runs. */
  public record Plan(
      String runId,
      int boxIndex,
      int boxes,
      int workers,
      int iterations,
      int batchSize,
      Chain chain,
      String source,
      BigInteger minUnits,
      BigInteger maxUnits) {
    /** A plan paying small amounts: 1e-6 to 1e-3 ETH, or 1,000 to 100,000 satoshis. */
    public static Plan of(
        String runId,
        int boxIndex,
        int boxes,
        int workers,
        int iterations,
        int batchSize,
        Chain chain,
        String source) {
      boolean eth = chain == Chain.ETH;
      return new Plan(
          runId,
          boxIndex,
          boxes,
          workers,
          iterations,
          batchSize,
          chain,
          source,
          eth ? new BigInteger("1000000000000") : BigInteger.valueOf(1_000),
          eth ? new BigInteger("1000000000000000") : BigInteger.valueOf(100_000));
    }

    public long payouts() {
      return (long) workers * iterations * batchSize;
    }

    String batchId(int worker, int iteration) {
      return runId + "-b" + boxIndex + "-w" + worker + "-i" + iteration;
    }
  }

  /** What was sent, before any result is waited for. */
  public record Sent(
      Plan plan,
      Set<String> batchIds,
      long accepted,
      long requests,
      double seconds,
      List<Long> perSecond,
      Histogram latencyMicros,
      Map<String, Long> errors) {}

  private static final int MAX_SECONDS = 3_600;

  private LoadRun() {}

  public static Sent send(Plan plan, Target target, AddressCodec codec) throws Exception {
    AtomicLongArray perSecond = new AtomicLongArray(MAX_SECONDS);
    Map<String, Long> errors = new ConcurrentHashMap<>();
    Set<String> batchIds = ConcurrentHashMap.newKeySet();
    AtomicLong accepted = new AtomicLong();
    AtomicLong requests = new AtomicLong();
    List<Histogram> histograms = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(plan.workers());
    long start = System.nanoTime();
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int w = 0; w < plan.workers(); w++) {
        int worker = w;
        Histogram histogram = new Histogram(TimeUnit.MINUTES.toMicros(10), 3);
        histograms.add(histogram);
        PayoutFactory factory = factoryFor(plan, codec, w);
        done.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < plan.iterations(); i++) {
                    String batchId = plan.batchId(worker, i);
                    List<PayoutLine> payouts =
                        factory.payouts(
                            plan.chain(),
                            batchId,
                            plan.batchSize(),
                            plan.minUnits(),
                            plan.maxUnits());
                    long t0 = System.nanoTime();
                    String error;
                    try {
                      error =
                          target.send(
                              new BatchSubmission(
                                  batchId, plan.chain().name(), plan.source(), payouts));
                    } catch (Exception e) {
                      error = e.getClass().getSimpleName();
                    }
                    long t1 = System.nanoTime();
                    histogram.recordValue(Math.max(1, (t1 - t0) / 1_000));
                    requests.incrementAndGet();
                    if (error == null) {
                      accepted.addAndGet(payouts.size());
                      batchIds.add(batchId);
                      int second = (int) Math.min(MAX_SECONDS - 1, (t1 - start) / 1_000_000_000L);
                      perSecond.addAndGet(second, payouts.size());
                    } else {
                      errors.merge(error, 1L, Long::sum);
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    Histogram all = new Histogram(TimeUnit.MINUTES.toMicros(10), 3);
    histograms.forEach(all::add);
    List<Long> series = new ArrayList<>();
    for (int s = 0; s <= Math.min(MAX_SECONDS - 1, (int) seconds); s++) {
      series.add(perSecond.get(s));
    }
    return new Sent(
        plan,
        Set.copyOf(batchIds),
        accepted.get(),
        requests.get(),
        seconds,
        series,
        all,
        new TreeMap<>(errors));
  }

  /** Seeded by run, box and worker: recipients differ across boxes and runs. */
  private static PayoutFactory factoryFor(Plan plan, AddressCodec codec, int worker) {
    return new PayoutFactory(
        codec, (plan.runId().hashCode() * 31L + plan.boxIndex()) * 1_009 + worker);
  }

  /**
   * Every batch the plan sends, with its payouts, generated again exactly as {@link #send} does: an
   * on-chain check needs the recipients and amounts without the box reporting them.
   */
  public static Map<String, List<PayoutLine>> planned(Plan plan, AddressCodec codec) {
    Map<String, List<PayoutLine>> batches = new LinkedHashMap<>();
    for (int w = 0; w < plan.workers(); w++) {
      PayoutFactory factory = factoryFor(plan, codec, w);
      for (int i = 0; i < plan.iterations(); i++) {
        String batchId = plan.batchId(w, i);
        batches.put(
            batchId,
            factory.payouts(
                plan.chain(), batchId, plan.batchSize(), plan.minUnits(), plan.maxUnits()));
      }
    }
    return batches;
  }

  /** Latency percentiles in milliseconds. */
  static Map<String, Double> percentiles(Histogram micros) {
    Map<String, Double> p = new LinkedHashMap<>();
    p.put("p50", micros.getValueAtPercentile(50) / 1000.0);
    p.put("p90", micros.getValueAtPercentile(90) / 1000.0);
    p.put("p99", micros.getValueAtPercentile(99) / 1000.0);
    p.put("p99.9", micros.getValueAtPercentile(99.9) / 1000.0);
    p.put("max", micros.getMaxValue() / 1000.0);
    return p;
  }

  /** The box's report, with what was learnt of the results (null when not waited for). */
  public static LoadReport report(Sent sent, String target, ResultsCheck results) {
    Plan plan = sent.plan();
    Map<String, Long> statuses = new TreeMap<>();
    long duplicates = 0;
    long missing = 0;
    double untilFinal = -1;
    if (results != null) {
      statuses.putAll(results.statuses());
      duplicates = results.duplicates();
      missing = results.missing();
      untilFinal = results.seconds();
    }
    return new LoadReport(
        plan.boxIndex(),
        plan.boxes(),
        plan.workers(),
        plan.iterations(),
        plan.batchSize(),
        target,
        plan.chain().name(),
        plan.payouts(),
        sent.requests(),
        sent.accepted(),
        sent.seconds(),
        sent.accepted() / sent.seconds(),
        sent.perSecond(),
        percentiles(sent.latencyMicros()),
        sent.errors(),
        statuses,
        duplicates,
        missing,
        untilFinal);
  }

  /** Final statuses by count, and payouts seen twice or never, after waiting for results. */
  public record ResultsCheck(
      Map<String, Long> statuses, long duplicates, long missing, double seconds) {}

  /** Waits until every accepted payout has a result on the results topic; counts them. */
  public static ResultsCheck awaitResults(Sent sent, KafkaConnection kafka, Duration timeout)
      throws Exception {
    long t0 = System.nanoTime();
    ResultsReader.Seen seen =
        ResultsReader.read(kafka, sent.batchIds(), (int) sent.accepted(), timeout);
    Map<String, Long> statuses = new TreeMap<>();
    seen.statuses().values().forEach(s -> statuses.merge(s, 1L, Long::sum));
    long duplicates = seen.counts().values().stream().filter(c -> c > 1).count();
    long missing = sent.accepted() - seen.counts().size();
    return new ResultsCheck(statuses, duplicates, missing, (System.nanoTime() - t0) / 1e9);
  }
}
