package io.txgw.gateway.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BackpressureTest {
  private static ConsumerLagWatch.Reading reading(long lag0, long lag1, double perSecond) {
    return new ConsumerLagWatch.Reading(Instant.EPOCH, Map.of(0, lag0, 1, lag1), 2, perSecond);
  }

  @Test
  void offByDefaultNothingIsRefusedWhateverTheLag() {
    assertThat(new Backpressure(0, () -> reading(1_000_000, 0, 0)).check()).isEmpty();
  }

  @Test
  void belowOrAtTheLimitBatchesAreTaken() {
    assertThat(new Backpressure(100, () -> reading(60, 40, 10)).check()).isEmpty();
  }

  @Test
  void beforeTheFirstReadingBatchesAreTaken() {
    assertThat(new Backpressure(100, () -> null).check()).isEmpty();
  }

  @Test
  void aboveTheLimitTheRetryIsTheTimeToDrainTheExcessAtTheCurrentRate() {
    Backpressure.Refusal r =
        new Backpressure(100, () -> reading(200, 100, 50)).check().orElseThrow();
    assertThat(r.lag()).isEqualTo(300);
    assertThat(r.limit()).isEqualTo(100);
    assertThat(r.retryAfter()).isEqualTo(Duration.ofSeconds(4));
  }

  @Test
  void consumersThatDoNotMoveGetTheLongestRetryAndAFastDrainTheShortest() {
    assertThat(new Backpressure(10, () -> reading(50, 0, 0)).check().orElseThrow().retryAfter())
        .isEqualTo(Duration.ofSeconds(60));
    assertThat(
            new Backpressure(10, () -> reading(50, 0, 1_000_000))
                .check()
                .orElseThrow()
                .retryAfter())
        .isEqualTo(Duration.ofSeconds(1));
  }
}
