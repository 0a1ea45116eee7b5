package io.txgw.gateway.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.gateway.GatewayConfig;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class HttpGuardsTest {
  private final AtomicLong nanos = new AtomicLong();
  private final HttpGuards guards =
      new HttpGuards(new GatewayConfig.HttpLimits(30, 10, 2, 5, 2, 10, 5_000, 100, 40), nanos::get);

  @Test
  void eachFailedAuthenticationFromAnAddressWaitsLongerUpToACap() {
    assertThat(guards.failedAuthentication("10.0.0.1")).isEqualTo(Duration.ofMillis(100));
    assertThat(guards.failedAuthentication("10.0.0.1")).isEqualTo(Duration.ofMillis(200));
    assertThat(guards.failedAuthentication("10.0.0.1")).isEqualTo(Duration.ofMillis(400));
    for (int i = 0; i < 20; i++) {
      guards.failedAuthentication("10.0.0.1");
    }
    assertThat(guards.failedAuthentication("10.0.0.1")).isEqualTo(Duration.ofSeconds(5));
    // Another address is not slowed by the first one's failures.
    assertThat(guards.failedAuthentication("10.0.0.2")).isEqualTo(Duration.ofMillis(100));
    // Ten minutes on, the count starts again.
    nanos.addAndGet(HttpGuards.FAILURE_WINDOW.toNanos() + 1);
    assertThat(guards.failedAuthentication("10.0.0.1")).isEqualTo(Duration.ofMillis(100));
  }

  @Test
  void theAddressesRememberedAreBoundedWhateverTheNumberOfAttackers() {
    for (int i = 0; i < HttpGuards.MAX_ADDRESSES_REMEMBERED + 5_000; i++) {
      guards.failedAuthentication("10." + (i >> 16) + "." + ((i >> 8) & 255) + "." + (i & 255));
    }
    assertThat(guards.addressesRemembered()).isEqualTo(HttpGuards.MAX_ADDRESSES_REMEMBERED);
  }

  @Test
  void aClientGetsABurstOfTwiceItsRateThenWaitsForTheNextToken() {
    for (int i = 0; i < 10; i++) {
      assertThat(guards.takeRequest("acme")).isEmpty();
    }
    assertThat(guards.takeRequest("acme")).contains(Duration.ofMillis(200));
    assertThat(guards.takeRequest("globex")).isEmpty();
    nanos.addAndGet(Duration.ofMillis(200).toNanos());
    assertThat(guards.takeRequest("acme")).isEmpty();
  }

  @Test
  void bodiesBeingReceivedAreBoundedPerClientAndInAllAndGiveTheirPlaceBack() {
    HttpGuards.BodyBudget budget = guards.bodies();
    var a = budget.take("acme", 30).orElseThrow();
    assertThat(budget.take("acme", 30)).isEmpty(); // acme would hold 60 > 40
    var b = budget.take("globex", 40).orElseThrow();
    assertThat(budget.take("initech", 40)).isEmpty(); // 110 > 100 in all
    a.release();
    a.release(); // twice is once
    assertThat(budget.used()).isEqualTo(40);
    assertThat(budget.take("acme", 30)).isPresent();
    b.release();
    // A lone body larger than the budget is still received when nothing else is.
    var huge = budget.take("initech", 500);
    assertThat(huge).isEmpty(); // acme still holds 30
  }
}
