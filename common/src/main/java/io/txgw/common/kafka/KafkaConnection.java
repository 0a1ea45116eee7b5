package io.txgw.common.kafka;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Where a process's Kafka is and how its clients authenticate: the one source of the connection
 * properties every producer, consumer, admin client and Streams application starts from.
 */
public record KafkaConnection(String bootstrap, KafkaSecurity security) {
  public KafkaConnection {
    Objects.requireNonNull(bootstrap, "bootstrap");
    Objects.requireNonNull(security, "security");
  }

  /** A broker's PLAINTEXT listener: no authentication. */
  public static KafkaConnection plaintext(String bootstrap) {
    return new KafkaConnection(bootstrap, KafkaSecurity.PLAINTEXT);
  }

  /**
   * A fresh, mutable map holding {@code bootstrap.servers} and the security properties; the caller
   * adds its client's own settings.
   */
  public Map<String, Object> clientProperties() {
    Map<String, Object> props = new HashMap<>(security.clientProperties());
    props.put("bootstrap.servers", bootstrap);
    return props;
  }

  /** {@link #clientProperties()} with the caller's settings on top. */
  public Map<String, Object> clientProperties(Map<String, Object> own) {
    Map<String, Object> props = clientProperties();
    props.putAll(own);
    return props;
  }

  /**
   * A reader of what committed transactions wrote: {@link #clientProperties()} with read_committed,
   * no automatic commits and, where no position is known, the log's start (never its end); the
   * caller's settings on top.
   */
  public Map<String, Object> committedReader(Map<String, Object> own) {
    Map<String, Object> props = clientProperties();
    props.put("isolation.level", "read_committed");
    props.put("enable.auto.commit", false);
    props.put("auto.offset.reset", "earliest");
    props.putAll(own);
    return props;
  }

  @Override
  public String toString() {
    return bootstrap + " (" + security + ")";
  }
}
