package io.txgw.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The node budget and Bitcoin batching benchmarks once each at a tiny size, as {@link
 * BenchmarksSmokeIT} and {@link EthereumBenchmarksSmokeIT} run the others: each runs and measures;
 * its speed is not asserted.
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
}
