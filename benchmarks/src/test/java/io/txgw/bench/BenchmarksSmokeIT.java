package io.txgw.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The gateway, Kafka and finality benchmarks once each at a tiny size: each runs and measures; its
 * speed is not asserted. The other benchmarks are in {@link NodeBenchmarksSmokeIT} and {@link
 * EthereumBenchmarksSmokeIT}, classes of their own so that forks run them alongside; the three take
 * about as long.
 */
class BenchmarksSmokeIT {
  @Test
  void theTakeoverBenchmarkReadsTheJournalFromItsCheckpointAndRemembersAboutTwoWindows()
      throws Exception {
    int window = 1_000;
    var r = io.txgw.consumer.JournalTakeoverBenchmark.run(6_000, window);
    io.txgw.consumer.JournalTakeoverBenchmark.print(r);
    assertThat(r.reads()).hasSize(4);
    var before = r.reads().get(2);
    var now = r.reads().get(3);
    assertThat(before.remembered()).isEqualTo(6_000);
    assertThat(now.fromOffset()).isPositive();
    // Two generations, each rolled at the first commit past a window, so each spans at most a
    // window and a round (a poll of at most 500 records): with a window smaller than a round, as
    // this test had at 400, the bound of three windows did not hold.
    assertThat(now.remembered()).isBetween(1, 2 * (window + 500));
    assertThat(now.pending()).isZero();
  }

  @Test
  void theExactlyOnceBenchmarkMeasuresBothModesAndPaysEveryPayoutOnce() throws Exception {
    List<ExactlyOnceBenchmark.Run> runs = ExactlyOnceBenchmark.once(5, 2);
    ExactlyOnceBenchmark.print(runs);
    assertThat(runs)
        .hasSize(2)
        .allSatisfy(
            r -> {
              assertThat(r.broadcast()).isEqualTo(10);
              assertThat(r.mismatches()).isZero();
              assertThat(r.seconds()).isPositive();
            });
  }

  @Test
  void theIngestBenchmarkMeasuresBatchesSinglesAndTheRawProducerAndReadsTheGatewaysMemory()
      throws Exception {
    IngestBenchmark.Result r =
        IngestBenchmark.run(
            new IngestBenchmark.Sizes(3, 2, 40, 8, 0.5), IngestBenchmark.gatewayJvm());
    IngestBenchmark.print(r);
    assertThat(r.batches().payouts()).isEqualTo(3_000);
    assertThat(r.singles().payouts()).isEqualTo(40);
    assertThat(r.batches().errors() + r.singles().errors()).isZero();
    assertThat(r.rawBefore().payouts()).isEqualTo(9_000);
    assertThat(r.peakRssBytes()).isPositive();
    assertThat(r.singles().p99Millis()).isPositive();
  }

  @Test
  void theVisibilityBenchmarkTimesEveryResultInEachReader() throws Exception {
    VisibilityBenchmark.Result r = VisibilityBenchmark.run(30);
    VisibilityBenchmark.print(r);
    assertThat(r.delays()).hasSize(3).allSatisfy(d -> assertThat(d.millis()).hasSize(30));
    assertThat(r.lagMetricMillis()).isNotNegative();
    assertThat(r.fullGet().millis()).hasSize(30);
    assertThat(r.countsGet().millis()).hasSize(30);
  }

  @Test
  void theFinalityBenchmarkFollowsEveryPayoutToConfirmedAndCountsTheNodeCalls() throws Exception {
    List<FinalityBenchmark.Run> runs = FinalityBenchmark.run(10);
    FinalityBenchmark.print(runs);
    assertThat(runs)
        .hasSize(2)
        .allSatisfy(
            r -> {
              assertThat(r.confirmed()).isEqualTo(10);
              assertThat(r.mismatches()).isZero();
              assertThat(r.confirmedP50()).isGreaterThanOrEqualTo(r.broadcastP50());
              assertThat(r.callsPerPayout()).isPositive();
            });
  }

  @Test
  void theMicrobenchmarksOfTheHotPathsEachRunAndScore() throws Exception {
    var options =
        new org.openjdk.jmh.runner.options.OptionsBuilder()
            .include(io.txgw.bench.jmh.HotPaths.class.getName())
            .forks(0)
            .warmupIterations(0)
            .measurementIterations(1)
            .measurementTime(org.openjdk.jmh.runner.options.TimeValue.milliseconds(100))
            .build();
    var results = new org.openjdk.jmh.runner.Runner(options).run();
    assertThat(results).hasSize(7);
    assertThat(results).allSatisfy(r -> assertThat(r.getPrimaryResult().getScore()).isPositive());
  }
}
