package io.txgw.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txgw.common.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.common.security.JaasContext;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaSecurityTest {
  private static final String AWKWARD = "p\"a\\ss;wo rd}\nnext=line\r'x'";

  private static Map<String, String> scram(String password) {
    return Map.of(
        "TXGW_KAFKA_SECURITY_PROTOCOL", "sasl_plaintext",
        "TXGW_KAFKA_USERNAME", "gateway",
        "TXGW_KAFKA_PASSWORD", password);
  }

  @Test
  void withoutSettingsClientsConnectInPlaintextAndNothingElse() {
    KafkaSecurity security = KafkaSecurity.fromEnv(Map.of());
    assertThat(security.clientProperties()).isEqualTo(Map.of("security.protocol", "PLAINTEXT"));
    assertThat(KafkaConnection.plaintext("h:1").clientProperties())
        .containsEntry("bootstrap.servers", "h:1")
        .containsEntry("security.protocol", "PLAINTEXT");
  }

  @Test
  void saslDefaultsToScramSha512AndBuildsTheLoginModuleConfig() {
    Map<String, Object> props = KafkaSecurity.fromEnv(scram("s3cret")).clientProperties();
    assertThat(props)
        .containsEntry("security.protocol", "SASL_PLAINTEXT")
        .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
        .containsEntry(
            "sasl.jaas.config",
            "org.apache.kafka.common.security.scram.ScramLoginModule required"
                + " username=\"gateway\" password=\"s3cret\";");
  }

  @Test
  void anyPasswordReachesKafkasJaasParserAsOneUnchangedValue() {
    Object jaas = KafkaSecurity.fromEnv(scram(AWKWARD)).clientProperties().get("sasl.jaas.config");
    JaasContext context =
        JaasContext.loadClientContext(Map.of("sasl.jaas.config", new Password((String) jaas)));
    List<AppConfigurationEntry> entries = context.configurationEntries();
    assertThat(entries).hasSize(1);
    Map<String, Object> options = Map.copyOf(entries.get(0).getOptions());
    assertThat(options)
        .containsEntry("username", "gateway")
        .containsEntry("password", AWKWARD)
        .hasSize(2);
  }

  @Test
  void everyProblemIsReportedAtOnceAndNoPasswordInTheMessage() {
    assertThatThrownBy(
            () ->
                KafkaSecurity.fromEnv(
                    Map.of(
                        "TXGW_KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
                        "TXGW_KAFKA_SASL_MECHANISM", "SCRAM-SHA-1",
                        "TXGW_KAFKA_PASSWORD", "hunter2-secret",
                        "TXGW_KAFKA_TRUSTSTORE", "/nonexistent/ca.pem")))
        .isInstanceOf(ConfigException.class)
        .hasMessageNotContaining("hunter2")
        .satisfies(
            e ->
                assertThat(((ConfigException) e).problems())
                    .hasSize(3)
                    .anyMatch(p -> p.startsWith("TXGW_KAFKA_SASL_MECHANISM"))
                    .anyMatch(p -> p.startsWith("TXGW_KAFKA_USERNAME is required"))
                    .anyMatch(p -> p.startsWith("TXGW_KAFKA_TRUSTSTORE: cannot read")));
  }

  @Test
  void credentialsOrStoresThatTheProtocolWouldIgnoreAreRefused() {
    assertThatThrownBy(
            () ->
                KafkaSecurity.fromEnv(
                    Map.of(
                        "TXGW_KAFKA_USERNAME", "gateway",
                        "TXGW_KAFKA_PASSWORD", "x",
                        "TXGW_KAFKA_TRUSTSTORE", "/tmp/ca.pem",
                        "TXGW_KAFKA_KEY_PASSWORD", "y")))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).problems()).hasSize(4));
  }

  @Test
  void thePasswordMayComeFromAFileAndStoresAreReadAsPem(@TempDir Path dir) throws Exception {
    Path password = Files.writeString(dir.resolve("password"), "from-file\n");
    Path ca = Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\n");
    Path key = Files.writeString(dir.resolve("client.pem"), "-----BEGIN PRIVATE KEY-----\n");
    KafkaSecurity security =
        KafkaSecurity.fromEnv(
            Map.of(
                "TXGW_KAFKA_SECURITY_PROTOCOL",
                "SASL_SSL",
                "TXGW_KAFKA_USERNAME",
                "consumer",
                "TXGW_KAFKA_PASSWORD_FILE",
                password.toString(),
                "TXGW_KAFKA_TRUSTSTORE",
                ca.toString(),
                "TXGW_KAFKA_KEYSTORE",
                key.toString(),
                "TXGW_KAFKA_KEY_PASSWORD",
                "kp"));
    assertThat(security.clientProperties())
        .containsEntry("ssl.truststore.type", "PEM")
        .containsEntry("ssl.truststore.location", ca.toString())
        .containsEntry("ssl.keystore.type", "PEM")
        .containsEntry("ssl.keystore.location", key.toString())
        .containsEntry("ssl.key.password", "kp");
    assertThat((String) security.clientProperties().get("sasl.jaas.config"))
        .contains("password=\"from-file\"");
    assertThat(security.toString()).isEqualTo("SASL_SSL SCRAM-SHA-512 as consumer");
  }

  @Test
  void kafkaTreatsTheSecretPropertiesAsPasswordsSoItsConfigLogShowsThemHidden() {
    Map<String, Object> props =
        new KafkaConnection("127.0.0.1:1", KafkaSecurity.fromEnv(scram("hunter2-secret")))
            .clientProperties();
    props.put("ssl.key.password", "hunter2-secret");
    props.put("key.serializer", StringSerializer.class);
    props.put("value.serializer", StringSerializer.class);
    props.put("key.deserializer", StringDeserializer.class);
    props.put("value.deserializer", StringDeserializer.class);
    List<AbstractConfig> configs =
        List.of(new ProducerConfig(props), new ConsumerConfig(props), new AdminClientConfig(props));
    for (AbstractConfig config : configs) {
      assertThat(config.values().values())
          .allSatisfy(v -> assertThat(String.valueOf(v)).doesNotContain("hunter2"));
      assertThat(config.values().get("sasl.jaas.config")).hasToString("[hidden]");
    }
    for (ConfigDef def :
        List.of(
            ProducerConfig.configDef(),
            ConsumerConfig.configDef(),
            AdminClientConfig.configDef())) {
      assertThat(def.configKeys().get("sasl.jaas.config").type).isEqualTo(ConfigDef.Type.PASSWORD);
      assertThat(def.configKeys().get("ssl.key.password").type).isEqualTo(ConfigDef.Type.PASSWORD);
    }
  }
}
