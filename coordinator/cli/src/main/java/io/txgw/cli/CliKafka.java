package io.txgw.cli;

import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.KafkaSecurity;
import java.util.Map;

/**
 * The Kafka connection of a command: {@code --bootstrap} or {@code $TXGW_KAFKA_BOOTSTRAP}, and the
 * security settings ({@code TXGW_KAFKA_SECURITY_PROTOCOL}, ...) from the environment, as the
 * services read them.
 */
final class CliKafka {
  static final String DEFAULT_BOOTSTRAP = "127.0.0.1:9092";

  private CliKafka() {}

  /**
   * @param bootstrapOption the command's {@code --bootstrap}, null when not given
   * @throws io.txgw.common.config.ConfigException listing every security setting that is wrong
   */
  static KafkaConnection connection(String bootstrapOption, Map<String, String> env) {
    String bootstrap = bootstrapOption;
    if (bootstrap == null) {
      String fromEnv = env.get("TXGW_KAFKA_BOOTSTRAP");
      bootstrap = fromEnv == null || fromEnv.isBlank() ? DEFAULT_BOOTSTRAP : fromEnv;
    }
    return new KafkaConnection(bootstrap, KafkaSecurity.fromEnv(env));
  }
}
