package io.txgw.gateway.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.config.Secret;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.KafkaSecurity;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

class StreamsSecretsTest {
  @Test
  void theStatusViewsStreamsConfigLogsTheJaasConfigHiddenAndPassesItToItsClients() {
    Map<String, Object> security =
        new KafkaConnection("127.0.0.1:1", KafkaSecurity.scram("gateway", new Secret("hunter2")))
            .clientProperties();
    Properties props = new Properties();
    props.putAll(security);
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "txgw-status-test");
    StreamsConfig config = new StreamsConfig(props);

    assertThat(config.values().values())
        .allSatisfy(v -> assertThat(String.valueOf(v)).doesNotContain("hunter2"));
    ConfigDef.ConfigKey jaas = StreamsConfig.configDef().configKeys().get("sasl.jaas.config");
    if (jaas != null) {
      assertThat(jaas.type).isEqualTo(ConfigDef.Type.PASSWORD);
    }
    for (Map<String, Object> client :
        List.of(
            config.getProducerConfigs("p"),
            config.getMainConsumerConfigs("g", "c", 0),
            config.getAdminConfigs("a"))) {
      assertThat(client)
          .containsEntry("security.protocol", "SASL_PLAINTEXT")
          .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
          .containsKey("sasl.jaas.config");
    }
  }
}
