package io.txgw.deploy.infra;

import io.txgw.common.kafka.KafkaConnection;
import java.io.Closeable;
import java.util.Map;

/** A Kafka the project started: one broker, or a cluster of several. */
public interface KafkaService extends Closeable {
  String bootstrapServers();

  /** How {@code user} (a {@link ScramKafka} principal) connects. */
  KafkaConnection connection(String user);

  /** The environment a txgw process needs to connect as {@code user}: addresses, replication. */
  Map<String, String> clientEnv(String user);

  @Override
  void close();
}
