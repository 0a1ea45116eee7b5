package io.txgw.gateway.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.BatchRecord;
import io.txgw.common.model.Chain;
import io.txgw.common.model.Payout;
import io.txgw.common.model.TestPayouts;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class BatchWriterTest {
  private static final String SOURCE = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

  private static Payout payout(String id) {
    return TestPayouts.eth(id, SOURCE);
  }

  private static BatchRecord batch() {
    return new BatchRecord(
        "acme", "b1", Chain.ETH, SOURCE, "f", List.of("p1", "p2"), Instant.EPOCH);
  }

  private static MockProducer<String, byte[]> producer() {
    return new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
  }

  @Test
  void aBatchAndItsPayoutsAreCommittedInOneTransaction() throws Exception {
    MockProducer<String, byte[]> producer = producer();
    try (BatchWriter writer = new BatchWriter(List.of(producer))) {
      writer.write(batch(), List.of(payout("p1"), payout("p2"))).get(10, TimeUnit.SECONDS);
    }
    assertThat(producer.transactionCommitted()).isTrue();
    assertThat(producer.history())
        .extracting(r -> r.topic() + " " + r.key())
        .containsExactly(
            Topics.SENDTO + " ETH:" + SOURCE,
            Topics.SENDTO + " ETH:" + SOURCE,
            Topics.BATCHES + " acme/b1");
  }

  @Test
  void aBatchKafkaDidNotTakeFailsAndItsTransactionIsAborted() {
    MockProducer<String, byte[]> producer = producer();
    producer.commitTransactionException = new KafkaException("broker gone");
    BatchWriter writer = new BatchWriter(List.of(producer));
    try {
      assertThatThrownBy(
              () -> writer.write(batch(), List.of(payout("p1"))).get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(KafkaException.class);
      assertThat(producer.transactionAborted()).isTrue();
      assertThat(producer.history()).isEmpty();
      assertThat(writer.isOpen()).isTrue();
    } finally {
      writer.close();
    }
  }

  @Test
  void withTwoLanesEveryBatchIsCommittedWholeByOneOfThem() throws Exception {
    MockProducer<String, byte[]> a = producer();
    MockProducer<String, byte[]> b = producer();
    List<CompletableFuture<Void>> writes = new ArrayList<>();
    try (BatchWriter writer = new BatchWriter(List.of(a, b))) {
      for (int i = 0; i < 200; i++) {
        BatchRecord batch =
            new BatchRecord(
                "acme", "b" + i, Chain.ETH, SOURCE, "f", List.of("p" + i), Instant.EPOCH);
        writes.add(writer.write(batch, List.of(payout("p" + i))));
      }
      CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
    }
    List<ProducerRecord<String, byte[]>> all = new ArrayList<>(a.history());
    all.addAll(b.history());
    assertThat(all).hasSize(400);
    for (MockProducer<String, byte[]> lane : List.of(a, b)) {
      // Batch i holds payout pi: its batch record is written by the lane that wrote pi.
      JsonSerde<Payout> serde = new JsonSerde<>(Payout.class);
      List<String> payoutBatches =
          lane.history().stream()
              .filter(r -> r.topic().equals(Topics.SENDTO))
              .map(r -> "acme/b" + serde.deserialize(r.topic(), r.value()).id().substring(1))
              .sorted()
              .toList();
      List<String> batchKeys =
          lane.history().stream()
              .filter(r -> r.topic().equals(Topics.BATCHES))
              .map(ProducerRecord::key)
              .sorted()
              .toList();
      assertThat(payoutBatches).isEqualTo(batchKeys);
    }
  }
}
