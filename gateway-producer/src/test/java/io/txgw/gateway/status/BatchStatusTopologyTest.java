package io.txgw.gateway.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.Topics;
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
  private TopologyTestDriver driver;
  private TestInputTopic<String, PayoutResult> results;
  private TestInputTopic<String, BatchRecord> batches;
  private TestInputTopic<String, byte[]> rawResults;

  @BeforeEach
  void start() {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "status-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9");
    props.put(StreamsConfig.STATE_DIR_CONFIG, state.toString());
    props.put(
        StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
        org.apache.kafka.streams.errors.LogAndContinueExceptionHandler.class);
    driver =
        new TopologyTestDriver(
            BatchStatusTopology.build((b, p, s) -> changes.add(b + " " + p + " " + s.status())),
            props);
    results =
        driver.createInputTopic(
            Topics.RESULTS, new StringSerializer(), new JsonSerde<>(PayoutResult.class));
    rawResults =
        driver.createInputTopic(Topics.RESULTS, new StringSerializer(), new ByteArraySerializer());
    batches =
        driver.createInputTopic(
            Topics.BATCHES, new StringSerializer(), new JsonSerde<>(BatchRecord.class));
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
}
