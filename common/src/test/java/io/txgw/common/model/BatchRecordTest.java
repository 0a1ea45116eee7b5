package io.txgw.common.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BatchRecordTest {
  private static final JsonSerde<BatchRecord> JSON = new JsonSerde<>(BatchRecord.class);

  @Test
  void aRecordWrittenBeforeLinesWereKeptReadsWithNoneAndNothingAcceptedEarlier() {
    String old =
        "{\"clientId\":\"acme\",\"batchId\":\"b1\",\"chain\":\"ETH\",\"source\":\"0xs\","
            + "\"fingerprint\":\"fp\",\"payoutIds\":[\"p1\"],"
            + "\"acceptedAt\":\"2026-11-21T10:00:00Z\"}";

    BatchRecord read = JSON.deserialize(Topics.BATCHES, old.getBytes(StandardCharsets.UTF_8));

    assertThat(read.lines()).isEmpty();
    assertThat(read.line(0)).isNull();
    assertThat(read.acceptedEarlier()).isEmpty();
  }

  @Test
  void linesAndPayoutsAcceptedEarlierReadBackAsWrittenAndEmptyOnesAreLeftOut() {
    BatchRecord batch =
        new BatchRecord(
            "acme",
            "b2",
            Chain.ETH,
            "0xs",
            "fp",
            List.of("p1", "p2"),
            Instant.parse("2026-11-21T10:00:00Z"),
            List.of(
                new BatchRecord.Line(new Address("0xa"), Amount.parse("1.5"), null),
                new BatchRecord.Line(
                    new Address("0xb"), Amount.parse("2"), new Asset("USDC", 6, "0xc"))),
            Map.of("p1", "b1"));

    byte[] bytes = JSON.serialize(Topics.BATCHES, batch);
    String text = new String(bytes, StandardCharsets.UTF_8);

    assertThat(JSON.deserialize(Topics.BATCHES, bytes)).isEqualTo(batch);
    assertThat(text).contains("{\"to\":\"0xa\",\"amount\":\"1.5\"}");
    assertThat(
            new String(
                JSON.serialize(Topics.BATCHES, batch.withAcceptedEarlier(Map.of())),
                StandardCharsets.UTF_8))
        .doesNotContain("acceptedEarlier");
  }

  @Test
  void aLineNamesTheAssetOnlyWhenItIsNotTheChainsCoin() {
    Payout coin = TestPayouts.eth("p1", "0xs");

    assertThat(BatchRecord.Line.of(coin).asset()).isNull();
    assertThat(BatchRecord.Line.of(coin).assetOn(Chain.ETH)).isEqualTo(Chain.ETH.nativeAsset());
  }
}
