package io.txgw.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.TopicLayout;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Address;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.common.model.PayoutStatus;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class JournalScanTest {
  private static final JsonSerde<JournalEntry> UNITS = new JsonSerde<>(JournalEntry.class);

  /** An account that 2 partitions put in partition 0 and 4 partitions in another one. */
  private static final String MOVING = account(true);

  /** An account that stays in its partition from 2 to 4. */
  private static final String STAYING = account(false);

  private final List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();

  private static String account(boolean moves) {
    for (int i = 0; ; i++) {
      String source = "0x" + Integer.toHexString(0xb000 + i);
      String key = Chain.ETH.name() + ":" + source;
      int before = TopicLayout.partitionOf(key, 2);
      if (before == 0 && (TopicLayout.partitionOf(key, 4) != before) == moves) {
        return source;
      }
    }
  }

  private static JournalEntry unit(String id, String source, JournalEntry.State state) {
    JournalEntry.Item item =
        new JournalEntry.Item(
            "payout-" + id,
            "b1",
            "acme",
            new Address(source),
            Amount.parse("1"),
            Instant.EPOCH,
            null,
            state == JournalEntry.State.PREPARED ? null : PayoutStatus.BROADCAST,
            null);
    return new JournalEntry(
        id,
        Chain.ETH,
        source,
        "0x01",
        state == JournalEntry.State.PREPARED ? "0xf8..." : null,
        0L,
        state,
        List.of(item),
        Instant.EPOCH,
        Instant.EPOCH);
  }

  private void journal(JournalEntry unit) {
    records.add(
        new ConsumerRecord<>(
            Topics.JOURNAL,
            0,
            records.size(),
            unit.unitId().getBytes(StandardCharsets.UTF_8),
            UNITS.serialize(Topics.JOURNAL, unit)));
  }

  private void tombstone(String unitId) {
    records.add(
        new ConsumerRecord<>(
            Topics.JOURNAL, 0, records.size(), unitId.getBytes(StandardCharsets.UTF_8), null));
  }

  @Test
  void aUnitWhoseLatestStateIsPreparedIsPendingAndOneRecordedSinceIsNot() {
    journal(unit("u1", MOVING, JournalEntry.State.PREPARED));
    journal(unit("u2", STAYING, JournalEntry.State.PREPARED));
    journal(unit("u1", MOVING, JournalEntry.State.RECORDED));

    assertThat(JournalScan.of(records).pending())
        .extracting(JournalEntry::unitId)
        .containsOnly("u2");
  }

  @Test
  void onlyTheMovedAccountsUnitsAreCopiedEachInItsLatestStateInJournalOrder() {
    journal(unit("u1", MOVING, JournalEntry.State.PREPARED));
    journal(unit("u2", MOVING, JournalEntry.State.PREPARED));
    journal(unit("s1", STAYING, JournalEntry.State.RECORDED));
    journal(unit("u2", MOVING, JournalEntry.State.ABANDONED));
    journal(unit("u3", MOVING, JournalEntry.State.RECORDED));
    journal(unit("u1", MOVING, JournalEntry.State.RECORDED));

    List<JournalScan.Move> moves = JournalScan.of(records).moves(4);

    assertThat(moves)
        .extracting(m -> m.entry().unit().unitId() + ":" + m.entry().unit().state())
        .containsExactly("u2:ABANDONED", "u3:RECORDED", "u1:RECORDED");
    assertThat(moves)
        .extracting(JournalScan.Move::to)
        .containsOnly(TopicLayout.partitionOf("ETH:" + MOVING, 4));
  }

  @Test
  void aTombstonedUnitIsNeitherPendingNorCopied() {
    journal(unit("u1", MOVING, JournalEntry.State.PREPARED));
    tombstone("u1");

    JournalScan scan = JournalScan.of(records);

    assertThat(scan.pending()).isEmpty();
    assertThat(scan.moves(4)).isEmpty();
  }

  @Test
  void aPendingUnitOfAMovingAccountIsNeverCopied() {
    journal(unit("u1", MOVING, JournalEntry.State.PREPARED));

    assertThatThrownBy(() -> JournalScan.of(records).moves(4))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("u1 is pending");
  }

  @Test
  void aUnitWaitingForItsConfirmationDepthIsPendingAndNeverCopied() {
    journal(unit("u1", MOVING, JournalEntry.State.PREPARED));
    journal(unit("u1", MOVING, JournalEntry.State.CONFIRMING));

    JournalScan scan = JournalScan.of(records);

    assertThat(scan.pending()).extracting(JournalEntry::unitId).containsOnly("u1");
    assertThatThrownBy(() -> scan.moves(4))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("u1 is pending");
  }
}
