package io.txgw.gateway.events;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import io.txgw.common.json.Json;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.Topics;
import java.io.Closeable;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every webhook delivery attempt, one record each on {@link Topics#WEBHOOK_DELIVERIES} keyed by
 * client: which events went where, the receiver's answer and how long it took. Neither the URL's
 * path nor any secret is written. A record that cannot be written is logged and the delivery goes
 * on: the log tells, it does not decide.
 */
public final class DeliveryLog implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(DeliveryLog.class);
  static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};

  private final Producer<String, byte[]> producer;

  DeliveryLog(Producer<String, byte[]> producer) {
    this.producer = producer;
  }

  public static DeliveryLog open(KafkaConnection kafka) {
    return new DeliveryLog(
        new KafkaProducer<>(
            kafka.clientProperties(
                Map.of(
                    ProducerConfig.ACKS_CONFIG,
                    "all",
                    ProducerConfig.LINGER_MS_CONFIG,
                    5,
                    // Bounded: a log that cannot be written must not hold the deliveries up.
                    ProducerConfig.MAX_BLOCK_MS_CONFIG,
                    1_000,
                    ProducerConfig.BUFFER_MEMORY_CONFIG,
                    4L * 1024 * 1024)),
            new StringSerializer(),
            new ByteArraySerializer()));
  }

  /**
   * One attempt.
   *
   * @param status the receiver's HTTP status; 0 when none came (refused, timed out)
   * @param error why the attempt failed, in a few words; null when it did not
   */
  public record Attempt(
      String client,
      String deliveryId,
      String origin,
      int attempt,
      int events,
      String firstEvent,
      String lastEvent,
      int status,
      String error,
      long millis,
      Instant at) {
    public boolean acknowledged() {
      return status >= 200 && status < 300;
    }

    Map<String, Object> asMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("deliveryId", deliveryId);
      m.put("url", origin);
      m.put("attempt", attempt);
      m.put("events", events);
      m.put("firstEvent", firstEvent);
      m.put("lastEvent", lastEvent);
      m.put("status", status);
      m.put("acknowledged", acknowledged());
      if (error != null) {
        m.put("error", error);
      }
      m.put("millis", millis);
      m.put("at", at.toString());
      return m;
    }
  }

  public void write(Attempt attempt) {
    try {
      byte[] value = Json.mapper().writeValueAsBytes(attempt.asMap());
      producer.send(
          new ProducerRecord<>(Topics.WEBHOOK_DELIVERIES, attempt.client(), value),
          (meta, e) -> {
            if (e != null) {
              log.warn("delivery {} not logged: {}", attempt.deliveryId(), e.toString());
            }
          });
    } catch (JsonProcessingException | RuntimeException e) {
      log.warn("delivery {} not logged: {}", attempt.deliveryId(), e.toString());
    }
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(5));
  }
}
