package io.txgw.coordinator.budget;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ShareCalculatorTest {
  private static double sum(Map<String, Share> shares) {
    return shares.values().stream().mapToDouble(Share::requestsPerSecond).sum();
  }

  @Test
  void withoutBacklogEveryConsumerGetsAnEqualShare() {
    Map<String, Share> shares = ShareCalculator.divide(90, 9, Map.of("a", 0L, "b", 0L, "c", 0L));
    assertThat(shares.values()).containsOnly(new Share(30, 3));
  }

  @Test
  void backlogWeighsTheSharesAndTheTotalNeverExceedsTheLimit() {
    Map<String, Share> shares = ShareCalculator.divide(200, 8, Map.of("busy", 900L, "idle", 0L));
    assertThat(shares.get("busy").requestsPerSecond()).isGreaterThan(190);
    assertThat(shares.get("idle").requestsPerSecond()).isPositive();
    assertThat(sum(shares)).isLessThanOrEqualTo(200);
    assertThat(shares.get("busy").inFlight() + shares.get("idle").inFlight()).isEqualTo(8);
    assertThat(shares.get("idle").inFlight()).isEqualTo(1);
  }

  @Test
  void fewerInFlightSlotsThanConsumersGoToTheBusiestAndNeverExceedTheCap() {
    Map<String, Share> shares =
        ShareCalculator.divide(10, 2, Map.of("a", 10L, "b", 500L, "c", 300L));
    assertThat(shares.get("b").inFlight()).isEqualTo(1);
    assertThat(shares.get("c").inFlight()).isEqualTo(1);
    assertThat(shares.get("a").inFlight()).isZero();
  }

  @Test
  void rateAConsumerLeavesUnusedMovesToTheOnesWaitingForTheirs() {
    Map<String, MemberReport.NodeUse> use =
        Map.of(
            "slow", new MemberReport.NodeUse(100, 100, 4, true, 1, 10, 10, false),
            "hungry", new MemberReport.NodeUse(100, 100, 4, true, 1, 10, 99, true));
    Map<String, Share> shares =
        ShareCalculator.divide(200, 8, Map.of("slow", 100L, "hungry", 100L), use);
    assertThat(shares.get("slow").requestsPerSecond()).isEqualTo(15);
    assertThat(shares.get("hungry").requestsPerSecond()).isEqualTo(185);
    assertThat(sum(shares)).isLessThanOrEqualTo(200);
  }

  @Test
  void noOneWaitingLeavesTheBacklogSharesAsTheyAre() {
    Map<String, MemberReport.NodeUse> use =
        Map.of(
            "a", new MemberReport.NodeUse(50, 50, 4, true, 1, 10, 5, false),
            "b", new MemberReport.NodeUse(50, 50, 4, true, 1, 10, 5, false));
    assertThat(ShareCalculator.divide(100, 8, Map.of("a", 0L, "b", 0L), use))
        .isEqualTo(ShareCalculator.divide(100, 8, Map.of("a", 0L, "b", 0L)));
  }
}
