package io.txgw.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The node budget, before-and-after and Bitcoin batching benchmarks once each at a tiny size, as
 * {@link BenchmarksSmokeIT} runs the others: each runs and measures; its speed is not asserted.
 */
class NodeBenchmarksSmokeIT {
  @Test
  void theBudgetBenchmarkMeasuresTheNodeRateAndTheMoveOfAKilledConsumersShare() throws Exception {
    BudgetBenchmark.Result r =
        BudgetBenchmark.run(100, 20, 2, 2, java.nio.file.Path.of("target/budget-smoke.html"));
    BudgetBenchmark.print(r);
    assertThat(r.phases()).hasSize(3);
    assertThat(r.phases()).allSatisfy(p -> assertThat(p.perSecond()).isNotEmpty());
    assertThat(r.shareMovedSeconds()).isPositive();
    assertThat(r.mismatches()).isZero();
    assertThat(r.chart()).exists();
  }

  @Test
  void theBitcoinBatchingBenchmarkCountsTransactionsAndVirtualBytes() throws Exception {
    List<BitcoinBatchingBenchmark.Run> runs = BitcoinBatchingBenchmark.compare(12);
    BitcoinBatchingBenchmark.print(runs);
    assertThat(runs.get(0).transactions()).isEqualTo(12);
    assertThat(runs.get(1).transactions()).isEqualTo(1);
    assertThat(runs).allSatisfy(r -> assertThat(r.mismatches()).isZero());
    assertThat(runs.get(1).vbytes()).isLessThan(runs.get(0).vbytes());
  }

  @Test
  void theBeforeAndAfterBenchmarkPaysEveryWayOnOneNodeAndChecksEachOnChain() throws Exception {
    BeforeAfterBenchmark.Result r =
        BeforeAfterBenchmark.run(
            new BeforeAfterBenchmark.Size(20, 5, 200, 0),
            java.nio.file.Path.of("target/before-after-smoke.html"));
    BeforeAfterReport.print(r);
    assertThat(r.modes()).hasSize(5);
    BeforeAfterBenchmark.Mode sequential = r.modes().get(0);
    assertThat(sequential.paidExactly()).isEqualTo(20);
    assertThat(sequential.results()).isNull();
    // Through txgw, the node signing, a keystore, a keystore with every payout queued first: each
    // paid exactly once.
    for (BeforeAfterBenchmark.Mode gateway : r.modes().subList(2, 5)) {
      assertThat(gateway.paidExactly()).as(gateway.name()).isEqualTo(20);
      assertThat(gateway.overpaid()).as(gateway.name()).isZero();
      assertThat(gateway.nodeRequests()).as(gateway.name()).isPositive();
      assertThat(gateway.requestsToTxids()).as(gateway.name()).isPositive();
      assertThat(gateway.results().payouts()).as(gateway.name()).isBetween(0, 20);
    }
    assertThat(r.html()).exists();
  }
}
