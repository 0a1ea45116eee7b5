package io.txgw.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class TransactionalProducersTest {
  private final MockProducer<String, String> producer =
      new MockProducer<>(true, null, new StringSerializer(), new StringSerializer());

  @Test
  void aProducerComesBackInitialized() {
    assertThat(TransactionalProducers.initialized(() -> producer)).isSameAs(producer);
    assertThat(producer.transactionInitialized()).isTrue();
  }

  @Test
  void aProducerWhoseInitializationFailsIsClosedAndItsFailureThrownEvenIfClosingFailsToo() {
    TimeoutException unreachable = new TimeoutException("coordinator not available");
    producer.initTransactionException = unreachable;
    producer.closeException = new KafkaException("serializer failed to close");

    assertThatThrownBy(() -> TransactionalProducers.initialized(() -> producer))
        .isSameAs(unreachable)
        .satisfies(e -> assertThat(e.getSuppressed()).hasSize(1));
  }

  @Test
  void aProducerWhoseInitializationFailsIsClosed() {
    producer.initTransactionException = new TimeoutException("coordinator not available");

    assertThatThrownBy(() -> TransactionalProducers.initialized(() -> producer))
        .isInstanceOf(TimeoutException.class);
    assertThat(producer.closed()).isTrue();
  }
}
