package io.txgw.consumer.nodes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txgw.common.budget.Share;
import io.txgw.consumer.rpc.CallGate;
import io.txgw.consumer.rpc.RpcException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class NodeLimiterTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final AtomicBoolean paused = new AtomicBoolean();

  private NodeLimiter limiter(Share share, Duration maxWait) {
    return new NodeLimiter("ETH/anvil", share, paused::get, maxWait, now::get);
  }

  @Test
  void itReportsTheTableOfItsShareAndTheCallsItStartedInTheLastSecond() throws Exception {
    NodeLimiter limiter = limiter(new Share(1_000, 4), Duration.ofSeconds(5));
    limiter.setShare(new Share(1_000, 4), 42);
    assertThat(limiter.tableAt()).isEqualTo(42);
    // Not a whole second of calls counted yet: nothing to report.
    assertThat(limiter.windowCalls()).isEqualTo(-1);
    now.addAndGet(1_000_000_000L);
    for (int i = 0; i < 3; i++) {
      limiter.enter("eth_blockNumber").done(null, 1_000_000);
    }
    assertThat(limiter.windowCalls()).isEqualTo(3);
    now.addAndGet(1_000_000_000L);
    assertThat(limiter.windowCalls()).isZero();
    // The same share from a newer table: the newer table is the one reported.
    limiter.setShare(new Share(1_000, 4), 43);
    assertThat(limiter.tableAt()).isEqualTo(43);
    // Calls not counted one by one: nothing to report.
    limiter.setShare(new Share(1_000_000, 4), 44);
    assertThat(limiter.windowCalls()).isEqualTo(-1);
  }

  @Test
  void callsNeverStartFasterThanTheShare() throws Exception {
    NodeLimiter limiter =
        new NodeLimiter("ETH/anvil", new Share(40, 4), paused::get, Duration.ofSeconds(5));
    long t0 = System.nanoTime();
    for (int i = 0; i < 30; i++) {
      limiter.enter("eth_blockNumber").done(null, 1_000_000);
    }
    // 30 calls at 40/s from an empty bucket take at least 29/40 s.
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThan(Duration.ofMillis(700));
    assertThat(limiter.calls()).isEqualTo(30);
  }

  @Test
  void aPausedChainHoldsEveryCallBackAtOnce() {
    paused.set(true);
    NodeLimiter limiter = limiter(new Share(100, 4), Duration.ofSeconds(5));
    assertThatThrownBy(() -> limiter.enter("eth_sendRawTransaction"))
        .isInstanceOfSatisfying(
            RpcException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(RpcException.Kind.HELD_BACK);
              assertThat(e.kind().outcomeUnknown()).isFalse();
            })
        .hasMessageContaining("paused");
    assertThat(limiter.calls()).isZero();
  }

  @Test
  void withoutAShareACallIsHeldBackAfterTheWait() {
    NodeLimiter limiter =
        new NodeLimiter("ETH/anvil", Share.NONE, paused::get, Duration.ofMillis(50));
    assertThatThrownBy(() -> limiter.enter("eth_blockNumber"))
        .isInstanceOf(RpcException.class)
        .hasMessageContaining("holds no share");
  }

  @Test
  void theInFlightShareCapsUnansweredCalls() throws Exception {
    NodeLimiter limiter =
        new NodeLimiter("ETH/anvil", new Share(1_000, 1), paused::get, Duration.ofMillis(50));
    CallGate.Permit first = limiter.enter("a");
    assertThatThrownBy(() -> limiter.enter("b")).hasMessageContaining("in-flight");
    first.done(null, 1_000);
    limiter.enter("c").done(null, 1_000);
  }

  @Test
  void overloadHalvesTheRateOncePerSecondAndQuietSecondsClimbBack() {
    NodeLimiter limiter = limiter(new Share(100, 4), Duration.ofSeconds(1));
    now.addAndGet(2_000_000_000L);
    limiter.observe(RpcException.Kind.RATE_LIMITED, 1_000_000);
    assertThat(limiter.effectiveRate()).isEqualTo(50);
    // More signals within the same second do not cut again: one burst is one event.
    limiter.observe(RpcException.Kind.TIMEOUT, 1_000_000);
    assertThat(limiter.effectiveRate()).isEqualTo(50);
    now.addAndGet(1_000_000_000L);
    limiter.observe(RpcException.Kind.TIMEOUT, 1_000_000);
    assertThat(limiter.effectiveRate()).isEqualTo(25);
    for (int s = 0; s < 20; s++) {
      now.addAndGet(1_000_000_000L);
      limiter.observe(null, 1_000_000);
    }
    assertThat(limiter.effectiveRate()).isEqualTo(100);
  }

  @Test
  void anAnswerFarSlowerThanUsualCountsAsOverload() {
    NodeLimiter limiter = limiter(new Share(100, 4), Duration.ofSeconds(1));
    for (int i = 0; i < 50; i++) {
      limiter.observe(null, 20_000_000);
    }
    now.addAndGet(2_000_000_000L);
    limiter.observe(null, 900_000_000);
    assertThat(limiter.effectiveRate()).isEqualTo(50);
  }

  @Test
  void usageReportsTheRecentRateAndWhetherCallsWaited() throws Exception {
    NodeLimiter limiter = limiter(new Share(1_000_000, 4), Duration.ofSeconds(1));
    limiter.usage();
    for (int i = 0; i < 10; i++) {
      limiter.enter("x").done(null, 1_000);
    }
    now.addAndGet(1_000_000_000L);
    NodeLimiter.Usage usage = limiter.usage();
    assertThat(usage.requestsPerSecond()).isEqualTo(10);
  }
}
