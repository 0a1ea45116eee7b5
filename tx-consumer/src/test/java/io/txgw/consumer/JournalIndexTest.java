package io.txgw.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.common.model.Payout;
import io.txgw.common.model.PayoutStatus;
import io.txgw.common.model.TestPayouts;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.junit.jupiter.api.Test;

class JournalIndexTest {
  private static final String SOURCE = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

  private static JournalEntry unit(int i, JournalEntry.State state) {
    Payout p = TestPayouts.eth("p" + i, SOURCE);
    JournalEntry.Item item =
        new JournalEntry.Item(
            p.id(),
            "b1",
            "acme",
            p.to(),
            p.amount(),
            Instant.EPOCH,
            null,
            PayoutStatus.ACCEPTED,
            null);
    return new JournalEntry(
        "ETH:0x" + i,
        Chain.ETH,
        SOURCE,
        "0x" + i,
        state == JournalEntry.State.PREPARED ? "raw" : null,
        (long) i,
        state,
        List.of(item),
        Instant.EPOCH,
        Instant.EPOCH,
        (long) i);
  }

  /** Settles payouts 0..n-1 one by one at sendto offsets 0..n-1, rolling as the consumer does. */
  private static List<String> settle(JournalIndex index, int from, int to, int window) {
    List<String> forgotten = new ArrayList<>();
    for (int i = from; i < to; i++) {
      if (index.shouldRoll(Math.max(1, window / 4), window, i)) {
        forgotten.addAll(index.roll(10L * i));
      }
      index.apply(unit(i, JournalEntry.State.PREPARED));
      index.apply(unit(i, JournalEntry.State.RECORDED));
    }
    return forgotten;
  }

  @Test
  void aUnitWaitingForItsDepthHoldsBackTheRollThatWouldForgetItsRecordOrItsPayouts() {
    JournalIndex index = new JournalIndex();
    index.apply(unit(0, JournalEntry.State.PREPARED));
    index.apply(unit(0, JournalEntry.State.CONFIRMING));
    settle(index, 1, 20, 8);
    // Its only record lies in the older generation, and a reorg would read sendto again from 0.
    assertThat(index.hasFollowed()).isTrue();
    assertThat(index.shouldRoll(2, 8, 100)).isFalse();
    assertThat(index.isTaken(TestPayouts.eth("p0", SOURCE).resultKey())).isTrue();

    index.apply(unit(0, JournalEntry.State.RECORDED));
    assertThat(index.hasFollowed()).isFalse();
    assertThat(index.shouldRoll(2, 8, 100)).isTrue();
  }

  @Test
  void aUnitWaitingForItsDepthWithinAWindowOfTheOldestGenerationHoldsBackItsRoll() {
    JournalIndex index = new JournalIndex();
    for (int i = 0; i < 10; i++) {
      index.apply(unit(i, JournalEntry.State.RECORDED));
    }
    index.roll(10);
    // Read again from 12 after a reorg, it would meet a copy of payout 9 posted again at 15.
    index.apply(unit(12, JournalEntry.State.CONFIRMING));
    for (int i = 13; i < 30; i++) {
      index.apply(unit(i, JournalEntry.State.RECORDED));
    }
    assertThat(index.shouldRoll(2, 8, 100)).isFalse();
    index.apply(unit(12, JournalEntry.State.RECORDED));
    assertThat(index.shouldRoll(2, 8, 100)).isTrue();
  }

  @Test
  void aPartitionWhoseFollowedUnitsHoldBackItsRollsTakesNoNewWorkPastFourHorizons() {
    JournalIndex index = new JournalIndex();
    index.apply(unit(0, JournalEntry.State.CONFIRMING));
    for (int i = 1; i < 40; i++) {
      index.apply(unit(i, JournalEntry.State.RECORDED));
    }
    assertThat(index.full(1_000, 10)).isFalse();
    // The newest generation rolls once; the followed unit is then in the older one only.
    index.roll(100);
    for (int i = 40; i < 45; i++) {
      index.apply(unit(i, JournalEntry.State.RECORDED));
    }
    assertThat(index.remembered()).isGreaterThanOrEqualTo(40);
    assertThat(index.full(1_000, 10)).isTrue();
    assertThat(index.full(1, 1_000)).isTrue();
    index.apply(unit(0, JournalEntry.State.RECORDED));
    assertThat(index.full(1_000, 10)).isFalse();
  }

  @Test
  void aUnitSentBackToPreparedByAReorgIsPendingAgainAndNoLongerFollowed() {
    JournalIndex index = new JournalIndex();
    index.apply(unit(1, JournalEntry.State.PREPARED));
    index.apply(unit(1, JournalEntry.State.CONFIRMING));
    assertThat(index.hasPending()).isFalse();
    assertThat(index.followedCount()).isEqualTo(1);
    index.apply(unit(1, JournalEntry.State.CONFIRMING));
    assertThat(index.followedPayouts()).isEqualTo(1);
    index.apply(unit(1, JournalEntry.State.PREPARED));
    assertThat(index.followedPayouts()).isZero();
    assertThat(index.pending()).extracting(JournalEntry::unitId).containsExactly("ETH:0x1");
    assertThat(index.hasFollowed()).isFalse();
  }

  @Test
  void aLongHistoryIsRememberedForAboutTwoWindowsOnly() {
    JournalIndex index = new JournalIndex();
    List<String> forgotten = settle(index, 0, 100_000, 1_000);
    assertThat(index.remembered()).isBetween(1_000, 2_000 + 1_000 / 4);
    assertThat(forgotten).hasSize(100_000 - index.remembered());
    assertThat(index.checkpoint().previousStart()).isPositive();
  }

  @Test
  void aPayoutPostedAgainWithinTheWindowIsStillTakenAndOneFarOlderIsForgotten() {
    JournalIndex index = new JournalIndex();
    settle(index, 0, 10_000, 1_000);
    assertThat(index.isTaken("acme/p" + (10_000 - 1_000))).isTrue();
    assertThat(index.isTaken("acme/p9999")).isTrue();
    assertThat(index.isTaken("acme/p0")).isFalse();
  }

  @Test
  void aManyPayoutUnitIsRememberedFromItsLastPayoutsOffsetNotItsFirst() {
    // Found by the simulation: a Bitcoin unit read at offsets 0..8 was forgotten a window after
    // offset 0, and its last payout, posted again a window after offset 8, was paid twice.
    JournalIndex index = new JournalIndex();
    Payout last = TestPayouts.eth("late", SOURCE);
    JournalEntry.Item item =
        new JournalEntry.Item(
            last.id(),
            "b1",
            "acme",
            last.to(),
            last.amount(),
            Instant.EPOCH,
            0,
            PayoutStatus.BROADCAST,
            null);
    index.apply(
        new JournalEntry(
            "BTC:x",
            Chain.BTC,
            "primary",
            "x",
            null,
            null,
            JournalEntry.State.RECORDED,
            List.of(item),
            Instant.EPOCH,
            Instant.EPOCH,
            0L,
            8L));
    index.roll(1);
    index.apply(unit(20, JournalEntry.State.RECORDED));
    // Offset 8 + window 10 is not passed at 15: the older generation must stay.
    assertThat(index.shouldRoll(1, 10, 15)).isFalse();
    assertThat(index.shouldRoll(1, 10, 19)).isTrue();
  }

  @Test
  void nothingRollsWhileAUnitIsPendingSoTheCheckpointNeverPassesIt() {
    JournalIndex index = new JournalIndex();
    settle(index, 0, 100, 10);
    index.apply(unit(100, JournalEntry.State.PREPARED));
    assertThat(index.shouldRoll(1, 10, 1_000_000)).isFalse();
    assertThat(index.pending()).extracting(JournalEntry::unitId).containsExactly("ETH:0x100");
  }

  @Test
  void aPartitionWithUnitsInFlightPastFourHorizonsTakesNoNewWorkUntilNothingIsPending() {
    JournalIndex index = new JournalIndex();
    for (int i = 0; i < 40; i++) {
      index.apply(unit(i, JournalEntry.State.PREPARED));
      if (i < 39) {
        index.apply(unit(i, JournalEntry.State.RECORDED));
      }
    }
    // Something was pending at every moment, so the journal never rolled.
    assertThat(index.shouldRoll(1, 10, 1_000)).isFalse();
    assertThat(index.full(1_000, 11)).isFalse();
    assertThat(index.full(1_000, 10)).isTrue();

    index.apply(unit(39, JournalEntry.State.RECORDED));
    assertThat(index.full(1_000, 10)).isFalse();
    assertThat(index.shouldRoll(1, 10, 1_000)).isTrue();
  }

  @Test
  void anAbandonedPayoutIsNotTakenAndIsPreparedAgain() {
    JournalIndex index = new JournalIndex();
    index.apply(unit(1, JournalEntry.State.PREPARED));
    index.apply(unit(1, JournalEntry.State.ABANDONED));
    assertThat(index.isTaken("acme/p1")).isFalse();
    assertThat(index.hasPending()).isFalse();
  }

  @Test
  void entriesReadBelowTheNewerGenerationsStartBelongToTheOlderOne() {
    JournalIndex index = new JournalIndex(new JournalCheckpoint(100, 200));
    index.apply(unit(1, JournalEntry.State.RECORDED), 150);
    index.apply(unit(2, JournalEntry.State.RECORDED), 250);
    // The older generation is the one a roll forgets.
    assertThat(index.roll(300)).containsExactly("ETH:0x1");
    assertThat(index.checkpoint()).isEqualTo(new JournalCheckpoint(200, 300));
  }

  @Test
  void theCheckpointTravelsInTheOffsetCommitsMetadataAndAnUnreadableOneReadsEverything() {
    JournalCheckpoint checkpoint = new JournalCheckpoint(12, 34);
    assertThat(JournalCheckpoint.of(new OffsetAndMetadata(5, checkpoint.metadata())))
        .isEqualTo(checkpoint);
    assertThat(JournalCheckpoint.of(new OffsetAndMetadata(5, "journal:x")))
        .isEqualTo(JournalCheckpoint.START);
    assertThat(JournalCheckpoint.of(new OffsetAndMetadata(5, "")))
        .isEqualTo(JournalCheckpoint.START);
    assertThat(JournalCheckpoint.of(null)).isEqualTo(JournalCheckpoint.START);
  }
}
