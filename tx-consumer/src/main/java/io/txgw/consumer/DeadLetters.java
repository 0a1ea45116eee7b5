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
    log.warn(
        "unreadable record {}-{}@{} moved to {}: {}",
        record.topic(),
        record.partition(),
        record.offset(),
        Topics.SENDTO_DEAD_LETTER,
        e.getMessage());
    ProducerRecord<String, Object> dead =
        new ProducerRecord<>(
            Topics.SENDTO_DEAD_LETTER,
            record.key(),
            record.value() == null ? null : new String(record.value(), StandardCharsets.UTF_8));
    dead.headers()
        .add("txgw.error", String.valueOf(e.getMessage()).getBytes(StandardCharsets.UTF_8))
        .add(
            "txgw.origin",
            (record.topic() + "-" + record.partition() + "@" + record.offset())
                .getBytes(StandardCharsets.UTF_8));
    return dead;
  }
}
