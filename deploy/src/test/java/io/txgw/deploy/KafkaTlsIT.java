package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txgw.common.config.Secret;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.KafkaSecurity;
import io.txgw.deploy.infra.EmbeddedKafka;
import io.txgw.deploy.infra.Pem;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SASL_SSL with a PEM truststore: TXGW_KAFKA_TRUSTSTORE is what lets a client trust the broker. */
class KafkaTlsIT {
  private static final char[] STORE_PASSWORD = "changeit".toCharArray();

  @TempDir static Path dir;
  static EmbeddedKafka kafka;

  @BeforeAll
  static void startBroker() throws Exception {
    Path p12 = dir.resolve("broker.p12");
    Process keytool =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                "broker",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                "CN=localhost",
                "-ext",
                "SAN=ip:127.0.0.1,dns:localhost",
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                p12.toString(),
                "-storepass",
                new String(STORE_PASSWORD))
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("keytool.log").toFile())
            .start();
    assertThat(keytool.waitFor(60, TimeUnit.SECONDS)).as("keytool finished").isTrue();
    assertThat(keytool.exitValue()).as(Files.readString(dir.resolve("keytool.log"))).isZero();
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(p12)) {
      store.load(in, STORE_PASSWORD);
    }
    String cert = Pem.of("CERTIFICATE", store.getCertificate("broker").getEncoded());
    String key = Pem.of("PRIVATE KEY", store.getKey("broker", STORE_PASSWORD).getEncoded());
    Path truststore = Files.writeString(dir.resolve("ca.pem"), cert);
    Path keystore = Files.writeString(dir.resolve("broker.pem"), key + cert);
    kafka =
        EmbeddedKafka.withScram(
            dir.resolve("kafka"),
            Map.of(EmbeddedKafka.ADMIN, new Secret("admin-" + System.nanoTime())),
            new EmbeddedKafka.Tls(keystore, truststore));
  }

  @AfterAll
  static void stop() {
    if (kafka != null) {
      kafka.close();
    }
  }

  private static Map<String, Object> quick(KafkaConnection connection) {
    return connection.clientProperties(
        Map.of(
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5_000,
            AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 4_000));
  }

  @Test
  void aClientWithTheTruststoreLogsInOverTls() throws Exception {
    Map<String, String> env = kafka.clientEnv(EmbeddedKafka.ADMIN);
    assertThat(env).containsEntry("TXGW_KAFKA_SECURITY_PROTOCOL", "SASL_SSL");
    try (Admin admin = Admin.create(quick(kafka.connection(EmbeddedKafka.ADMIN)))) {
      assertThat(admin.describeCluster().nodes().get(10, TimeUnit.SECONDS)).hasSize(1);
    }
  }

  @Test
  void withoutTheTruststoreTheBrokersCertificateIsRefused() {
    Map<String, String> env = new HashMap<>(kafka.clientEnv(EmbeddedKafka.ADMIN));
    env.remove("TXGW_KAFKA_TRUSTSTORE");
    KafkaConnection untrusting =
        new KafkaConnection(kafka.bootstrapServers(), KafkaSecurity.fromEnv(env));
    try (Admin admin = Admin.create(quick(untrusting))) {
      assertThatThrownBy(() -> admin.describeCluster().clusterId().get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(SslAuthenticationException.class);
    }
  }

  @Test
  void aClientWithoutTlsGetsNoAnswer() {
    Map<String, String> env = new HashMap<>(kafka.clientEnv(EmbeddedKafka.ADMIN));
    env.put("TXGW_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT");
    env.remove("TXGW_KAFKA_TRUSTSTORE");
    KafkaConnection plain =
        new KafkaConnection(kafka.bootstrapServers(), KafkaSecurity.fromEnv(env));
    try (Admin admin = Admin.create(quick(plain))) {
      assertThatThrownBy(() -> admin.describeCluster().clusterId().get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOfAny(
              org.apache.kafka.common.errors.TimeoutException.class,
              org.apache.kafka.common.errors.SaslAuthenticationException.class,
              org.apache.kafka.common.errors.IllegalSaslStateException.class);
    }
  }
}
