package io.txgw.consumer;

import io.txgw.common.kafka.Topics;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Unreadable {@code sendto} records, moved aside with why and where they came from. */
final class DeadLetters {
  private static final Logger log = LoggerFactory.getLogger(DeadLetters.class);

  private DeadLetters() {}

  static ProducerRecord<String, Object> of(
      ConsumerRecord<String, byte[]> record, SerializationException e) {
    return of(record, e.getMessage());
  }

  /**
   * The record moved aside with why. Logged at error: a record no gateway sealed on {@code sendto}
   * means someone other than a gateway can write the topic, which the operator must hear of.
   */
  static ProducerRecord<String, Object> of(ConsumerRecord<String, byte[]> record, String reason) {
    log.error(
        "record {}-{}@{} moved to {}, unpaid: {}",
        record.topic(),
        record.partition(),
        record.offset(),
        Topics.SENDTO_DEAD_LETTER,
        reason);
    ProducerRecord<String, Object> dead =
        new ProducerRecord<>(
            Topics.SENDTO_DEAD_LETTER,
            record.key(),
            record.value() == null ? null : new String(record.value(), StandardCharsets.UTF_8));
    dead.headers()
        .add("txgw.error", String.valueOf(reason).getBytes(StandardCharsets.UTF_8))
        .add(
            "txgw.origin",
            (record.topic() + "-" + record.partition() + "@" + record.offset())
                .getBytes(StandardCharsets.UTF_8));
    return dead;
  }
}
