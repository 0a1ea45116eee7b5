package io.txgw.coordinator.budget;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.budget.MemberReport;
import io.txgw.common.budget.Share;
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

  @Test
  void anIncreaseWaitsForWhatTheLastSecondsLargerSharesLeaveOfTheLimit() {
    // a had 150 of 200 and drops to 50; b had 50 and is to get 150. a may have spent 150 in the
    // second before it learnt: b's increase must wait, or the node sees 300 in one second.
    Map<String, Share> target = Map.of("a", new Share(50, 4), "b", new Share(150, 4));
    Map<String, Share> now = ShareCalculator.phased(target, Map.of("a", 150.0, "b", 50.0), 200);
    assertThat(now.get("a").requestsPerSecond()).isEqualTo(50);
    assertThat(now.get("b").requestsPerSecond()).isEqualTo(50);

    // Once the larger share has aged out, the increase is whole.
    Map<String, Share> later = ShareCalculator.phased(target, Map.of("a", 50.0, "b", 50.0), 200);
    assertThat(later.get("b").requestsPerSecond()).isEqualTo(150);
  }

  @Test
  void aDepartedConsumersRecentShareStillCountsAndANewOneWaitsForIt() {
    Map<String, Share> target = Map.of("a", new Share(100, 4), "c", new Share(100, 4));
    Map<String, Share> now = ShareCalculator.phased(target, Map.of("a", 100.0, "b", 100.0), 200);
    assertThat(now.get("a").requestsPerSecond()).isEqualTo(100);
    assertThat(now.get("c").requestsPerSecond()).isZero();
    Map<String, Share> later = ShareCalculator.phased(target, Map.of("a", 100.0, "c", 0.0), 200);
    assertThat(later.get("c").requestsPerSecond()).isEqualTo(100);
  }

  @Test
  void withSlackLeftIncreasesShareItInProportionAndNeverPassTheLimit() {
    Map<String, Share> target =
        Map.of("a", new Share(100, 4), "b", new Share(60, 4), "c", new Share(40, 4));
    Map<String, Share> now =
        ShareCalculator.phased(target, Map.of("a", 80.0, "b", 40.0, "c", 40.0), 200);
    // 40 left: a asked 20 more, b 20 more: each gets all of it.
    assertThat(now.get("a").requestsPerSecond()).isEqualTo(100);
    assertThat(now.get("b").requestsPerSecond()).isEqualTo(60);
    Map<String, Share> tight =
        ShareCalculator.phased(target, Map.of("a", 80.0, "b", 40.0, "c", 60.0), 200);
    // 20 left for 40 asked: half each; with c's last 60, no second can pass 200.
    assertThat(tight.get("a").requestsPerSecond()).isEqualTo(90);
    assertThat(tight.get("b").requestsPerSecond()).isEqualTo(50);
    assertThat(Math.max(90, 80) + Math.max(50, 40) + Math.max(40, 60)).isLessThanOrEqualTo(200);
  }
}
