package io.txgw.gateway.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Address;
import io.txgw.common.model.Amount;
import io.txgw.common.model.BatchRecord;
import io.txgw.common.model.Chain;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.model.PayoutStatus;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchStatusTopologyTest {
  private static final Instant T0 = Instant.parse("2026-11-21T10:00:00Z");

  @TempDir Path state;

  private final List<String> changes = new ArrayList<>();
  private final List<String> indexed = new ArrayList<>();
  private TopologyTestDriver driver;
  private TestInputTopic<String, PayoutResult> results;
  private TestInputTopic<String, BatchRecord> batches;
  private TestInputTopic<String, byte[]> rawResults;
  private TestInputTopic<String, byte[]> rawBatches;

  @BeforeEach
  void start() {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "status-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9");
    props.put(StreamsConfig.STATE_DIR_CONFIG, state.toString());
    props.put(
        StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
        org.apache.kafka.streams.errors.LogAndContinueExceptionHandler.class);
    BatchStatusTopology.Listener listener =
        new BatchStatusTopology.Listener() {
          @Override
          public void changed(String batchKey, String payoutId, PayoutState state) {
            changes.add(batchKey + " " + payoutId + " " + state.status());
          }

          @Override
          public void batchIndexed(String batchKey) {
            indexed.add(batchKey);
          }
        };
    driver = new TopologyTestDriver(BatchStatusTopology.build(listener), props);
    results =
        driver.createInputTopic(
            Topics.RESULTS, new StringSerializer(), new JsonSerde<>(PayoutResult.class));
    rawResults =
        driver.createInputTopic(Topics.RESULTS, new StringSerializer(), new ByteArraySerializer());
    batches =
        driver.createInputTopic(
            Topics.BATCHES, new StringSerializer(), new JsonSerde<>(BatchRecord.class));
    rawBatches =
        driver.createInputTopic(Topics.BATCHES, new StringSerializer(), new ByteArraySerializer());
  }

  @AfterEach
  void stop() {
    driver.close();
  }

  private static BatchRecord batch(String id, String... payoutIds) {
    return new BatchRecord("acme", id, Chain.ETH, "0xsource", "fp-" + id, List.of(payoutIds), T0);
  }

  private static PayoutResult result(
      String batch, String payout, PayoutStatus status, String txid, int secondsAfter) {
    return new PayoutResult(
        payout,
        batch,
        "acme",
        Chain.ETH,
        status,
        txid,
        "anvil",
        status == PayoutStatus.FAILED ? "insufficient funds" : null,
        T0,
        T0.plusSeconds(secondsAfter));
  }

  private void send(PayoutResult r) {
    results.pipeInput(r.resultKey(), r);
  }

  private Map<PayoutStatus, Integer> counts(String batchKey) {
    KeyValueStore<String, BatchProgress> progress =
        driver.getKeyValueStore(BatchStatusTopology.PROGRESS);
    BatchProgress p = progress.get(batchKey);
    return p == null ? Map.of() : p.counts();
  }

  private PayoutState state(String batchKey, String payout) {
    KeyValueStore<String, PayoutState> payouts =
        driver.getKeyValueStore(BatchStatusTopology.PAYOUTS);
    return payouts.get("acme/" + payout);
  }

  @Test
  void aBatchIsStoredUnderItsKeyWithItsPayoutIds() {
    batches.pipeInput("acme/b1", batch("b1", "p1", "p2"));
    KeyValueStore<String, byte[]> store = driver.getKeyValueStore(BatchStatusTopology.BATCHES);
    BatchRecord stored =
        new JsonSerde<>(BatchRecord.class).deserialize(Topics.BATCHES, store.get("acme/b1"));
    assertThat(stored.payoutIds()).containsExactly("p1", "p2");
  }

  @Test
  void resultsAreCountedByStatusWithTxidAndErrorPerPayoutAndFirstAndLastUpdate() {
    send(result("b1", "p1", PayoutStatus.BROADCAST, "0xaa", 1));
    send(result("b1", "p2", PayoutStatus.FAILED, null, 3));
    send(result("b1", "p3", PayoutStatus.BROADCAST, "0xcc", 2));

    assertThat(counts("acme/b1"))
        .isEqualTo(Map.of(PayoutStatus.BROADCAST, 2, PayoutStatus.FAILED, 1));
    assertThat(state("acme/b1", "p1").txid()).isEqualTo("0xaa");
    assertThat(state("acme/b1", "p2").error()).isEqualTo("insufficient funds");
    BatchProgress progress =
        driver.<String, BatchProgress>getKeyValueStore(BatchStatusTopology.PROGRESS).get("acme/b1");
    assertThat(progress.firstUpdate()).isEqualTo(T0.plusSeconds(1));
    assertThat(progress.lastUpdate()).isEqualTo(T0.plusSeconds(3));
  }

  @Test
  void aStatusChangeMovesThePayoutFromOneCountToTheOther() {
    send(result("b1", "p1", PayoutStatus.UNKNOWN, "0xaa", 1));
    send(result("b1", "p1", PayoutStatus.BROADCAST, "0xaa", 5));

    assertThat(counts("acme/b1")).isEqualTo(Map.of(PayoutStatus.BROADCAST, 1));
    assertThat(state("acme/b1", "p1").status()).isEqualTo(PayoutStatus.BROADCAST);
    assertThat(changes).containsExactly("acme/b1 p1 UNKNOWN", "acme/b1 p1 BROADCAST");
  }

  @Test
  void aReorganisedPayoutGoesBackToBroadcastAndIsCountedOnceConfirmed() {
    send(result("b1", "p1", PayoutStatus.BROADCAST, "0xaa", 1));
    send(result("b1", "p1", PayoutStatus.REORGED, "0xaa", 2));
    assertThat(counts("acme/b1")).isEqualTo(Map.of(PayoutStatus.REORGED, 1));
    send(result("b1", "p1", PayoutStatus.BROADCAST, "0xaa", 3));
    // Stamped the same instant, the later step wins.
    send(result("b1", "p1", PayoutStatus.CONFIRMED, "0xaa", 3));

    assertThat(counts("acme/b1")).isEqualTo(Map.of(PayoutStatus.CONFIRMED, 1));
    assertThat(changes)
        .containsExactly(
            "acme/b1 p1 BROADCAST",
            "acme/b1 p1 REORGED",
            "acme/b1 p1 BROADCAST",
            "acme/b1 p1 CONFIRMED");
  }

  @Test
  void anOlderResultArrivingLateDoesNotOverwriteANewerOne() {
    send(result("b1", "p1", PayoutStatus.BROADCAST, "0xaa", 5));
    send(result("b1", "p1", PayoutStatus.UNKNOWN, "0xaa", 1));

    assertThat(state("acme/b1", "p1").status()).isEqualTo(PayoutStatus.BROADCAST);
    assertThat(counts("acme/b1")).isEqualTo(Map.of(PayoutStatus.BROADCAST, 1));
    assertThat(changes).hasSize(1);
  }

  @Test
  void aDuplicateResultIsCountedOnce() {
    PayoutResult r = result("b1", "p1", PayoutStatus.BROADCAST, "0xaa", 2);
    send(r);
    send(r);
    send(r);

    assertThat(counts("acme/b1")).isEqualTo(Map.of(PayoutStatus.BROADCAST, 1));
    assertThat(changes).hasSize(1);
  }

  @Test
  void resultsOfOneBatchDoNotCountForAnotherWhoseIdSharesAPrefix() {
    send(result("b1", "p1", PayoutStatus.BROADCAST, "0xaa", 1));
    send(result("b10", "p2", PayoutStatus.FAILED, null, 1));

    assertThat(counts("acme/b1")).isEqualTo(Map.of(PayoutStatus.BROADCAST, 1));
    assertThat(counts("acme/b10")).isEqualTo(Map.of(PayoutStatus.FAILED, 1));
  }

  @Test
  void anUnknownBatchHasNoProgressAndNoPayouts() {
    send(result("b1", "p1", PayoutStatus.BROADCAST, "0xaa", 1));

    assertThat(counts("acme/nope")).isEmpty();
    assertThat(driver.getKeyValueStore(BatchStatusTopology.BATCHES).get("acme/nope")).isNull();
  }

  @Test
  void anUnreadableResultIsSkippedAndTheNextOneCounted() {
    rawResults.pipeInput("acme/p9", "{not json".getBytes(StandardCharsets.UTF_8));
    send(result("b1", "p1", PayoutStatus.BROADCAST, "0xaa", 1));

    assertThat(counts("acme/b1")).isEqualTo(Map.of(PayoutStatus.BROADCAST, 1));
  }

  private static BatchRecord paying(
      String id, Instant acceptedAt, Map<String, String> earlier, String... payoutIds) {
    List<BatchRecord.Line> lines = new ArrayList<>();
    for (int i = 0; i < payoutIds.length; i++) {
      lines.add(new BatchRecord.Line(new Address("0xto" + i), Amount.parse("1." + i), null));
    }
    return new BatchRecord(
        "acme",
        id,
        Chain.ETH,
        "0xsource",
        "fp-" + id,
        List.of(payoutIds),
        acceptedAt,
        lines,
        earlier);
  }

  private void send(BatchRecord b) {
    batches.pipeInput(b.key(), b);
  }

  private PayoutClaim claim(String payout) {
    KeyValueStore<String, PayoutClaim> index =
        driver.getKeyValueStore(BatchStatusTopology.PAYOUT_IDS);
    return index.get("acme/" + payout);
  }

  @Test
  void eachPayoutIdOfABatchIsIndexedWithItsBatchAndPayment() {
    send(paying("b1", T0, Map.of(), "p1", "p2"));

    assertThat(claim("p2"))
        .isEqualTo(
            new PayoutClaim(
                "b1",
                Chain.ETH,
                Chain.ETH.nativeAsset(),
                "0xsource",
                new Address("0xto1"),
                Amount.parse("1.1"),
                T0));
    assertThat(claim("p1").batchId()).isEqualTo("b1");
    assertThat(indexed).containsExactly("acme/b1");
  }

  @Test
  void anIdAcceptedEarlierStaysWithTheBatchThatWroteIt() {
    send(paying("b1", T0, Map.of(), "p1"));
    send(paying("b2", T0.plusSeconds(1), Map.of("p1", "b1"), "p1", "p2"));

    assertThat(claim("p1").batchId()).isEqualTo("b1");
    assertThat(claim("p2").batchId()).isEqualTo("b2");
  }

  @Test
  void ofTwoBatchesClaimingOneIdTheEarlierAcceptedKeepsItWhicheverIsReadFirst() {
    send(paying("late", T0.plusSeconds(5), Map.of(), "p1"));
    send(paying("early", T0, Map.of(), "p1"));
    send(paying("late", T0.plusSeconds(5), Map.of(), "p1"));

    assertThat(claim("p1").batchId()).isEqualTo("early");
  }

  @Test
  void theIdsOfABatchFromBeforeLinesWereKeptAreIndexedWithoutAPayment() {
    send(batch("b1", "p1"));

    assertThat(claim("p1").batchId()).isEqualTo("b1");
    assertThat(claim("p1").to()).isNull();
    assertThat(claim("p1").amount()).isNull();
  }

  @Test
  void anUnreadableBatchIsSkippedAndTheNextOneIndexed() {
    rawBatches.pipeInput("acme/bad", "{not json".getBytes(StandardCharsets.UTF_8));
    send(paying("b1", T0, Map.of(), "p1"));

    assertThat(claim("p1").batchId()).isEqualTo("b1");
    assertThat(indexed).containsExactly("acme/b1");
  }
}
