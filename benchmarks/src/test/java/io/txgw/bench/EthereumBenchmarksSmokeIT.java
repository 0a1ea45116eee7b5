package io.txgw.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Ethereum benchmarks that pay through anvil one way against another (multi-send against one
 * transaction each, the node signing against our own keys) once each at a tiny size: each runs and
 * measures; its speed is not asserted. A third of the smoke runs, as {@link BenchmarksSmokeIT} and
 * {@link NodeBenchmarksSmokeIT} are the others: the three take about as long, one fork each.
 */
class EthereumBenchmarksSmokeIT {
  @Test
  void theAirdropBenchmarkPaysEveryRecipientOnceEachWayAndTheContractInOneTransaction()
      throws Exception {
    // Fresh recipients only: paying them again runs the same code.
    List<AirdropBenchmark.Run> runs = AirdropBenchmark.compare(12, false);
    AirdropBenchmark.print(runs);
    assertThat(runs).allSatisfy(r -> assertThat(r.wrong()).isZero());
    assertThat(runs.get(0).txs()).isEqualTo(12);
    assertThat(runs.get(1).txs()).isEqualTo(1);
    assertThat(runs.get(1).gasPerRecipient()).isLessThan(runs.get(0).gasPerRecipient());
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
