package io.txgw.gateway.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.model.Amount;
import io.txgw.common.model.BatchRecord;
import io.txgw.common.model.Chain;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DailySpendTest {
  private Instant now = Instant.parse("2026-11-29T12:00:00Z");
  private final Clock clock =
      new Clock() {
        @Override
        public ZoneOffset getZone() {
          return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
          return this;
        }

        @Override
        public Instant instant() {
          return now;
        }
      };
  private final DailySpend spend = DailySpend.unread(clock);
  private final Amount max = Amount.parse("5");

  private static BatchRecord batch(String id, Instant at, String... amounts) {
    List<String> ids = new java.util.ArrayList<>();
    List<BatchRecord.Line> lines = new java.util.ArrayList<>();
    for (int i = 0; i < amounts.length; i++) {
      ids.add(id + "-" + i);
      lines.add(
          new BatchRecord.Line(
              new io.txgw.common.model.Address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
              Amount.parse(amounts[i]),
              null));
    }
    return new BatchRecord("acme", id, Chain.ETH, "src", "f", ids, at, lines, Map.of());
  }

  private boolean reserve(String key, String amount) {
    return spend.reserve("acme", "ETH", Amount.parse(amount), max, key, new String[1]).isPresent();
  }

  @Test
  void batchesWrittenByAnyInstanceCountAgainstTheClientsDay() {
    spend.apply(batch("other-instance", now.minus(Duration.ofHours(3)), "2", "1.5"));
    assertThat(reserve("acme/b1", "1.5")).isTrue();
    String[] why = new String[1];
    assertThat(
            spend.reserve("acme", "ETH", Amount.parse("0.000000000000000001"), max, "acme/b2", why))
        .isEmpty();
    assertThat(why[0]).contains("to 5.000000000000000001 ETH", "daily maximum of 5");
    // Another client, another asset: their own days.
    assertThat(spend.reserve("globex", "ETH", Amount.parse("5"), max, "globex/b1", why))
        .isPresent();
  }

  @Test
  void aBatchCountsFromTheLogsTimeWhenItsGatewaysClockIsBehind() {
    // Its gateway's clock says 30 hours ago; the broker appended it just now.
    spend.apply(batch("slow-clock", now.minus(Duration.ofHours(30)), "4"), now);
    assertThat(spend.total("acme", "ETH", now)).isEqualByComparingTo("4");
    assertThat(reserve("acme/b1", "2")).isFalse();
  }

  @Test
  void aBatchWrittenAgainCountsTwiceUnlessItsWriteEndedTheEarlierOne() {
    String[] why = new String[1];
    // An earlier write of b1 is in doubt: a second write counts on its own, never too little.
    var first = spend.reserve("acme", "ETH", Amount.parse("3"), max, "acme/b1", why, false);
    assertThat(first).isPresent();
    assertThat(spend.reserve("acme", "ETH", Amount.parse("3"), max, "acme/b1", why, false))
        .isEmpty();
    // A fenced write has ended the earlier one first: it replaces its reservation.
    var again = spend.reserve("acme", "ETH", Amount.parse("3"), max, "acme/b1", why, true);
    assertThat(again).isPresent();
    assertThat(spend.total("acme", "ETH", now)).isEqualByComparingTo("3");
    // Replacing is decided after the check: one refused leaves the earlier reservation counted.
    assertThat(spend.reserve("acme", "ETH", Amount.parse("6"), max, "acme/b1", why, true))
        .isEmpty();
    assertThat(spend.total("acme", "ETH", now)).isEqualByComparingTo("3");
  }

  @Test
  void aReservationCountsUntilTheTopicShowsItsBatchAndIsFreedWhenNotWritten() {
    var r = spend.reserve("acme", "ETH", Amount.parse("4"), max, "acme/b1", new String[1]);
    assertThat(reserve("acme/b2", "2")).isFalse();
    r.orElseThrow().release();
    assertThat(reserve("acme/b3", "2")).isTrue();
    // Read back: counted once, from the topic, not twice.
    spend.apply(batch("b3", now, "2"));
    assertThat(spend.total("acme", "ETH", now)).isEqualByComparingTo("2");
  }

  @Test
  void payoutsOlderThanADayNoLongerCountAndTheirMinutesAreDropped() {
    for (int m = 0; m < 3000; m++) {
      spend.apply(batch("b" + m, now.minus(Duration.ofMinutes(m)), "0.001"));
    }
    // The minute the window starts in counts whole: 1,441 minutes of 0.001.
    assertThat(spend.total("acme", "ETH", now)).isEqualByComparingTo("1.441");
    assertThat(spend.minutesHeld()).isLessThanOrEqualTo(1441);
    now = now.plus(Duration.ofHours(24)).plus(Duration.ofMinutes(1));
    assertThat(spend.total("acme", "ETH", now)).isEqualByComparingTo("0");
    assertThat(spend.minutesHeld()).isZero();
  }

  @Test
  void aClientNobodyAsksAboutStillHoldsAtMostADayOfMinutes() {
    for (int m = 3000; m >= 0; m--) {
      now = Instant.parse("2026-11-29T12:00:00Z").plus(Duration.ofMinutes(3000 - m));
      spend.apply(batch("b" + m, now, "0.001"));
    }
    assertThat(spend.minutesHeld()).isLessThanOrEqualTo(1441);
  }

  @Test
  void aBatchPostedTwiceKeepsOneReservationWhenTheOtherIsReleased() {
    var first = spend.reserve("acme", "ETH", Amount.parse("2"), max, "acme/b1", new String[1]);
    var second = spend.reserve("acme", "ETH", Amount.parse("2"), max, "acme/b1", new String[1]);
    first.orElseThrow().release();
    assertThat(spend.total("acme", "ETH", now)).isEqualByComparingTo("2");
    second.orElseThrow().release();
    assertThat(spend.total("acme", "ETH", now)).isEqualByComparingTo("0");
  }

  @Test
  void aPayoutAnEarlierBatchAcceptedIsNotCountedAgain() {
    BatchRecord b = batch("b1", now, "3", "1");
    spend.apply(
        new BatchRecord(
            b.clientId(),
            b.batchId(),
            b.chain(),
            b.source(),
            b.fingerprint(),
            b.payoutIds(),
            b.acceptedAt(),
            b.lines(),
            Map.of("b1-0", "b0")));
    assertThat(spend.total("acme", "ETH", now)).isEqualByComparingTo("1");
  }
}
