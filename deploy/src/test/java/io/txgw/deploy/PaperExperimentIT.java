package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The experiment at a tiny size: boxes meet at the barrier, every payout is paid once. */
class PaperExperimentIT {
  @Test
  void twoBoxesStartTogetherAndEveryPayoutTheySendIsPaidExactlyOnce() throws Exception {
    PaperExperiment.Result r =
        PaperExperiment.run(
            new PaperExperiment.Size(2, 2, 3, 2, 300, true), Path.of("target/experiment-it"));
    PaperExperiment.print(r);
    assertThat(r.payouts()).isEqualTo(24);
    assertThat(r.accepted()).isEqualTo(24);
    assertThat(r.paidOnChain()).isEqualTo(24);
    assertThat(r.mismatches()).isZero();
    assertThat(r.duplicates()).isZero();
    assertThat(r.missing()).isZero();
    assertThat(r.boxes()).hasSize(2);
    assertThat(r.html()).exists();
    assertThat(r.nodeCallsPerSecond()).isNotEmpty();
  }
}
