package io.txgw.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.txgw.common.kafka.JsonSerde;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * A producer that can take no call again (its transaction timed out by the coordinator while the
 * process stood still) is replaced by a new one with the same id; replaced too often, the consumer
 * gives up rather than fence and be fenced forever.
 */
class ProducerRenewalTest {
  private final ManualClock clock = new ManualClock();
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final List<MockProducer<String, Object>> made = new ArrayList<>();
  private RuntimeException nextInitFails;

  private final JournalWriter writer =
      new JournalWriter(
          () -> {
            MockProducer<String, Object> p =
                new MockProducer<>(
                    true, null, new StringSerializer(), new JsonSerde<>(Object.class));
            p.initTransactionException = nextInitFails;
            nextInitFails = null;
            made.add(p);
            return p;
          },
          new MockConsumer<>("earliest"),
          Map.of(),
          clock,
          1_000,
          meters);

  /** The newest producer fails as Kafka 4's client does after such a timeout: even an abort. */
  private void failTheProducer() {
    MockProducer<String, Object> p = made.get(made.size() - 1);
    p.beginTransaction();
    p.abortTransactionException =
        new KafkaException(
            "Cannot execute transactional method because we are in an error state",
            new InvalidTxnStateException("timed out"));
    writer.abortQuietly();
  }

  @Test
  void aProducerThatRefusesEvenAnAbortIsReplacedByAReadyOne() {
    writer.start();
    assertThat(writer.renewIfBroken()).isEqualTo(JournalWriter.Renewal.READY);
    assertThat(made).hasSize(1);

    failTheProducer();

    assertThat(writer.renewIfBroken()).isEqualTo(JournalWriter.Renewal.READY);
    assertThat(made).hasSize(2);
    assertThat(made.get(0).closed()).isTrue();
    assertThat(made.get(1).transactionInitialized()).isTrue();
    assertThat(meters.counter("txgw.consumer.producer.renewals").count()).isEqualTo(1);
  }

  /** The next new producer cannot reach its transaction coordinator. */
  private void coordinatorUnreachable() {
    nextInitFails = new TimeoutException("coordinator not available");
  }

  @Test
  void aNewProducerWhoseCoordinatorCannotBeReachedIsClosedAndTriedAgainLater() {
    writer.start();
    failTheProducer();
    coordinatorUnreachable();

    assertThat(writer.renewIfBroken()).isEqualTo(JournalWriter.Renewal.NOT_YET);
    assertThat(made.get(1).closed()).isTrue();
    assertThat(writer.renewIfBroken()).isEqualTo(JournalWriter.Renewal.READY);
    assertThat(made).hasSize(3);
  }

  @Test
  void aConsumerWhoseNewProducerIsNotReadyWithinTwoMinutesGivesUp() {
    writer.start();
    failTheProducer();
    coordinatorUnreachable();
    assertThat(writer.renewIfBroken()).isEqualTo(JournalWriter.Renewal.NOT_YET);

    clock.advance(JournalWriter.RENEWAL_PATIENCE.plusSeconds(1));
    coordinatorUnreachable();
    assertThat(writer.renewIfBroken()).isEqualTo(JournalWriter.Renewal.GIVEN_UP);
  }

  @Test
  void aProducerReplacedThreeTimesWithinTenMinutesIsNotReplacedAgainUntilTheyPass() {
    writer.start();
    for (int i = 0; i < JournalWriter.MAX_RENEWALS; i++) {
      failTheProducer();
      assertThat(writer.renewIfBroken()).isEqualTo(JournalWriter.Renewal.READY);
      clock.advance(Duration.ofMinutes(1));
    }
    failTheProducer();

    assertThat(writer.renewIfBroken()).isEqualTo(JournalWriter.Renewal.GIVEN_UP);
    clock.advance(JournalWriter.RENEWAL_WINDOW.minusMinutes(2));
    assertThat(writer.renewIfBroken()).isEqualTo(JournalWriter.Renewal.READY);
  }
}
