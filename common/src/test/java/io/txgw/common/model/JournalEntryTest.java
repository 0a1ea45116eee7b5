package io.txgw.common.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.txgw.common.json.Json;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class JournalEntryTest {
  private static final Instant T0 = Instant.parse("2026-11-30T00:00:00Z");

  private static JournalEntry bitcoinUnit() {
    JournalEntry.Item item =
        new JournalEntry.Item(
            "p1",
            "b1",
            "acme",
            new Address("rb1qrecipient"),
            Amount.parse("0.01"),
            T0,
            0,
            PayoutStatus.BROADCAST,
            null);
    return new JournalEntry(
        "BTC:aa",
        Chain.BTC,
        "primary",
        "aa".repeat(32),
        "0100",
        null,
        JournalEntry.State.CONFIRMING,
        List.of(item),
        T0,
        T0,
        5L,
        5L,
        null,
        null,
        BigInteger.valueOf(227),
        List.of());
  }

  private static JournalEntry.Attempt child(String txid, long fee) {
    return new JournalEntry.Attempt(txid.repeat(32), "02" + txid, BigInteger.valueOf(fee));
  }

  @Test
  void aUnitsChildrenAndFeeSurviveTheJournalsJson() throws Exception {
    JournalEntry unit = bitcoinUnit().withChild(0, child("c1", 609), T0.plusSeconds(60));

    JournalEntry read =
        Json.mapper().readValue(Json.mapper().writeValueAsBytes(unit), JournalEntry.class);

    assertThat(read).isEqualTo(unit);
    assertThat(read.children()).containsExactly(child("c1", 609));
    assertThat(read.feePerGas()).isEqualTo(BigInteger.valueOf(227));
    assertThat(read.updatedAt()).isEqualTo(T0.plusSeconds(60));
  }

  @Test
  void aUnitJournaledBeforeChildrenWereKeptReadsAsHavingNone() throws Exception {
    ObjectNode json = Json.mapper().valueToTree(bitcoinUnit());
    json.remove("children");

    JournalEntry read = Json.mapper().treeToValue(json, JournalEntry.class);

    assertThat(read.children()).isEmpty();
  }

  @Test
  void aNewChildReplacesTheChildrenNoNodeHoldsAfterTheOnesKept() {
    JournalEntry unit =
        bitcoinUnit().withChild(0, child("c1", 609), T0).withChild(1, child("c2", 988), T0);

    JournalEntry again = unit.withChild(1, child("c3", 990), T0);

    assertThat(again.children()).containsExactly(child("c1", 609), child("c3", 990));
    assertThat(again.txid()).isEqualTo(unit.txid());
    assertThat(again.txids()).containsExactly(unit.txid());
  }

  @Test
  void childrenStayWhileTheUnitMayBeBroadcastAgainAndGoOnceItIsRecorded() {
    JournalEntry unit = bitcoinUnit().withChild(0, child("c1", 609), T0);

    assertThat(unit.withState(JournalEntry.State.PREPARED, unit.payouts(), T0).children())
        .hasSize(1);
    assertThat(unit.inBlock("bb".repeat(32), 7L, T0).children()).hasSize(1);
    assertThat(unit.withState(JournalEntry.State.RECORDED, unit.payouts(), T0).children())
        .isEmpty();
  }
}
