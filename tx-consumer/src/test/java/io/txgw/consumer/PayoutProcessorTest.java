package io.txgw.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.json.Json;
import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Address;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import io.txgw.common.model.Payout;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.model.PayoutStatus;
import io.txgw.consumer.chain.ChainSender;
import io.txgw.consumer.chain.NodeUnavailableException;
import io.txgw.consumer.chain.SendOutcome;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class PayoutProcessorTest {
  private static final TopicPartition P0 = new TopicPartition(Topics.SENDTO, 0);
  private static final String SOURCE = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

  private final MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest");
  private final MockProducer<String, Object> producer =
      new MockProducer<>(true, null, new StringSerializer(), new JsonSerde<>(Object.class));
  private final MutableClock clock = new MutableClock();
  private final FakeSender sender = new FakeSender();
  private final PayoutProcessor processor =
      new PayoutProcessor(consumer, producer, Map.of(Chain.ETH, sender), clock);

  /** A clock the test moves by hand, so pauses need no waiting. */
  static final class MutableClock extends Clock {
    Instant now = Instant.parse("2026-01-01T00:00:00Z");

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  /** Pays everything, except payouts it is told to find their node unavailable for once. */
  static final class FakeSender implements ChainSender {
    final List<String> sent = new ArrayList<>();
    final Set<String> unavailableOnce = new HashSet<>();

    @Override
    public Chain chain() {
      return Chain.ETH;
    }

    @Override
    public String nodeName() {
      return "fake";
    }

    @Override
    public SendOutcome send(Payout payout) throws NodeUnavailableException {
      if (unavailableOnce.remove(payout.id())) {
        throw new NodeUnavailableException("down", null);
      }
      sent.add(payout.id());
      return SendOutcome.broadcast("0x" + payout.id());
    }
  }

  private static Payout payout(String id) {
    return new Payout(
        id,
        "b1",
        "acme",
        Chain.ETH,
        Chain.ETH.nativeAsset(),
        SOURCE,
        new Address(SOURCE),
        Amount.parse("1"),
        null,
        Instant.EPOCH);
  }

  private static ConsumerRecord<String, byte[]> record(long offset, String payoutId)
      throws Exception {
    return new ConsumerRecord<>(
        Topics.SENDTO,
        0,
        offset,
        "ETH:" + SOURCE,
        Json.mapper().writeValueAsBytes(payout(payoutId)));
  }

  private void assign() {
    consumer.rebalance(List.of(P0));
    consumer.updateBeginningOffsets(Map.of(P0, 0L));
  }

  private List<PayoutResult> results() {
    return producer.history().stream()
        .filter(r -> r.topic().equals(Topics.RESULTS))
        .map(r -> (PayoutResult) r.value())
        .toList();
  }

  private long lastCommittedOffset() {
    List<Map<String, Map<TopicPartition, OffsetAndMetadata>>> history =
        producer.consumerGroupOffsetsHistory();
    Map<String, Map<TopicPartition, OffsetAndMetadata>> last = history.get(history.size() - 1);
    return last.values().iterator().next().get(P0).offset();
  }

  @Test
  void eachResultIsCommittedTogetherWithTheOffsetPastItsPayout() throws Exception {
    consumer.schedulePollTask(
        () -> {
          assign();
          try {
            for (int i = 0; i < 3; i++) {
              consumer.addRecord(record(i, "p" + i));
            }
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
    consumer.schedulePollTask(processor::stop);
    processor.run();

    assertThat(sender.sent).containsExactly("p0", "p1", "p2");
    assertThat(results()).extracting(PayoutResult::status).containsOnly(PayoutStatus.BROADCAST);
    assertThat(results()).extracting(PayoutResult::txid).containsExactly("0xp0", "0xp1", "0xp2");
    assertThat(producer.transactionCommitted()).isTrue();
    assertThat(lastCommittedOffset()).isEqualTo(3);
  }

  @Test
  void aPayoutReadAgainAfterAnAbortedTransactionIsRecordedAgainButNotPaidAgain() throws Exception {
    producer.commitTransactionException = new KafkaException("broker hiccup");
    consumer.schedulePollTask(
        () -> {
          assign();
          try {
            consumer.addRecord(record(0, "p0"));
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
    consumer.schedulePollTask(
        () -> {
          // The commit failed and the processor rewound: Kafka delivers the record again.
          producer.commitTransactionException = null;
          try {
            consumer.addRecord(record(0, "p0"));
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
    consumer.schedulePollTask(processor::stop);
    processor.run();

    assertThat(sender.sent).containsExactly("p0");
    // The aborted transaction's result is gone; the one committed result is the re-recorded one.
    assertThat(results()).extracting(PayoutResult::payoutId).containsExactly("p0");
    assertThat(producer.transactionCommitted()).isTrue();
    assertThat(lastCommittedOffset()).isEqualTo(1);
  }

  @Test
  void aPayoutWhoseNodeIsUnavailableIsNotRecordedAndIsReadAgainAfterAPause() throws Exception {
    sender.unavailableOnce.add("p1");
    consumer.schedulePollTask(
        () -> {
          assign();
          try {
            consumer.addRecord(record(0, "p0"));
            consumer.addRecord(record(1, "p1"));
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
    consumer.schedulePollTask(
        () -> {
          assertThat(consumer.paused()).containsExactly(P0);
          assertThat(sender.sent).containsExactly("p0");
          clock.now = clock.now.plus(Duration.ofSeconds(3));
        });
    consumer.schedulePollTask(
        () -> {
          assertThat(consumer.paused()).isEmpty();
          assertThat(consumer.position(P0)).isEqualTo(1);
          try {
            consumer.addRecord(record(1, "p1"));
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
    consumer.schedulePollTask(processor::stop);
    processor.run();

    assertThat(sender.sent).containsExactly("p0", "p1");
    assertThat(results()).extracting(PayoutResult::payoutId).containsExactly("p0", "p1");
    assertThat(lastCommittedOffset()).isEqualTo(2);
  }

  @Test
  void anUnreadableRecordGoesToTheDeadLetterTopicAndTheNextPayoutIsPaid() throws Exception {
    consumer.schedulePollTask(
        () -> {
          assign();
          consumer.addRecord(
              new ConsumerRecord<>(
                  Topics.SENDTO, 0, 0, "k", "{not json".getBytes(StandardCharsets.UTF_8)));
          try {
            consumer.addRecord(record(1, "p1"));
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
    consumer.schedulePollTask(processor::stop);
    processor.run();

    List<ProducerRecord<String, Object>> dead =
        producer.history().stream()
            .filter(r -> r.topic().equals(Topics.SENDTO_DEAD_LETTER))
            .toList();
    assertThat(dead).singleElement().satisfies(r -> assertThat(r.value()).isEqualTo("{not json"));
    assertThat(sender.sent).containsExactly("p1");
    assertThat(lastCommittedOffset()).isEqualTo(2);
  }
}
