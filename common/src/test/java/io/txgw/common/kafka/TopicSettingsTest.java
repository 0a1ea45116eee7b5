package io.txgw.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txgw.common.config.ConfigException;
import io.txgw.common.config.ConfigReader;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TopicSettingsTest {
  private static TopicSettings read(Map<String, String> env) {
    ConfigReader reader = new ConfigReader(env);
    TopicSettings settings = TopicSettings.read(reader);
    reader.throwIfProblems();
    return settings;
  }

  @Test
  void productionKeepsThreeReplicasAndTakesAWriteOnceTwoHoldIt() {
    assertThat(read(Map.of())).isEqualTo(new TopicSettings(3, 2));
  }

  @Test
  void aOneBrokerClusterSaysOneAndOneThroughTheEnvironment() {
    assertThat(read(TopicSettings.ONE_BROKER.env())).isEqualTo(TopicSettings.ONE_BROKER);
  }

  @Test
  void moreInSyncReplicasThanReplicasIsRefusedNamingBothSettings() {
    assertThatThrownBy(
            () -> read(Map.of("TXGW_TOPIC_REPLICATION", "1", "TXGW_TOPIC_MIN_INSYNC", "2")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TXGW_TOPIC_MIN_INSYNC 2 is above TXGW_TOPIC_REPLICATION 1");
    assertThatThrownBy(() -> read(Map.of("TXGW_TOPIC_REPLICATION", "0")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TXGW_TOPIC_REPLICATION");
  }
}
