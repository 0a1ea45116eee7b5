package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.LayoutStore;
import io.txgw.common.kafka.TopicLayout.Reason;
import io.txgw.common.kafka.TopicLayout.Recorded;
import io.txgw.common.kafka.TopicLayout.Refused;
import io.txgw.common.kafka.Topics;
import io.txgw.consumer.ConsumerMain;
import io.txgw.consumer.TxConsumer;
import io.txgw.consumer.TxConsumerConfig;
import io.txgw.deploy.infra.ChildProcess;
import io.txgw.deploy.infra.EmbeddedKafka;
import io.txgw.deploy.infra.Ports;
import io.txgw.deploy.infra.TrustFiles;
import io.txgw.gateway.Gateway;
import io.txgw.gateway.GatewayConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gateways and consumers refuse to start on a partition layout that moved accounts off their
 * journal, or on topics less durable than configured, against a real broker. Every test starts from
 * topics of 2 partitions, layout recorded.
 */
class TopicLayoutIT {
  @TempDir static Path dir;
  static EmbeddedKafka kafka;
  static Admin admin;

  @BeforeAll
  static void startBroker() {
    kafka = new EmbeddedKafka(dir.resolve("kafka"));
    admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()));
  }

  @AfterAll
  static void stop() {
    if (admin != null) {
      admin.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @BeforeEach
  void twoPartitionsLaidOut() throws Exception {
    FreshTopics.laidOut(admin, kafka.bootstrapServers(), 2);
  }

  private static Map<String, String> consumerEnv() {
    Map<String, String> env = new HashMap<>();
    env.put("TXGW_KAFKA_BOOTSTRAP", kafka.bootstrapServers());
    env.putAll(io.txgw.common.kafka.TopicSettings.ONE_BROKER.env());
    env.put("TXGW_CONSUMER_ID", "layout-test");
    env.putAll(TrustFiles.create(dir.resolve("trust-c"), Map.of("acme", List.of())).env());
    // Never called: the check comes before any node.
    env.put("TXGW_ETH_RPC_URL", "http://127.0.0.1:" + Ports.freeLoopbackPort());
    return env;
  }

  private static void startConsumer() throws InterruptedException {
    startConsumer(consumerEnv());
  }

  private static void startConsumer(Map<String, String> env) throws InterruptedException {
    TxConsumer consumer = new TxConsumer(TxConsumerConfig.fromEnv(env), env);
    try {
      consumer.start();
    } finally {
      consumer.close();
    }
  }

  private static Map<String, String> gatewayEnv() {
    Map<String, String> env = new HashMap<>();
    env.put("TXGW_HTTP_PORT", "0");
    env.put("TXGW_ADMIN_PORT", "0");
    env.putAll(TrustFiles.create(dir.resolve("trust"), Map.of("acme", List.of())).env());
    env.put("TXGW_KAFKA_BOOTSTRAP", kafka.bootstrapServers());
    env.putAll(io.txgw.common.kafka.TopicSettings.ONE_BROKER.env());
    env.put("TXGW_API_KEYS", "acme=0123456789abcdef0123");
    env.put("TXGW_STATE_DIR", dir.resolve("gateway-state").toString());
    return env;
  }

  private static Reason reasonOf(Throwable e) {
    return ((Refused) e).reason();
  }

  @Test
  void aConsumerRefusesToStartWhenSendtoAloneWasGrownAndItsProcessExitsWithOneLine()
      throws Exception {
    FreshTopics.growAlone(admin, Topics.SENDTO, 4);

    assertThatThrownBy(TopicLayoutIT::startConsumer)
        .isInstanceOf(Refused.class)
        .satisfies(e -> assertThat(reasonOf(e)).isEqualTo(Reason.SENDTO_AND_JOURNAL_DIFFER))
        .hasMessageContaining("topic sendto has 4 partitions but journal has 2")
        .hasMessageContaining("docs/operations.md \"Growing partitions\"");

    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Path log = dir.resolve("refused-consumer.log");
    try (ChildProcess process =
        ChildProcess.start(
            "refused-consumer",
            List.of(
                java,
                "-Xmx128m",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                System.getProperty("java.class.path"),
                ConsumerMain.class.getName()),
            dir,
            consumerEnv(),
            log)) {
      assertThat(process.awaitExit(Duration.ofSeconds(20))).as("exited by itself").isTrue();
      assertThat(process.exitCode()).isNotZero();
    }
    List<String> lines = Files.readAllLines(log);
    assertThat(lines.stream().filter(l -> l.contains("refusing to start")))
        .singleElement()
        .satisfies(l -> assertThat(l).contains("sendto has 4 partitions but journal has 2"));
    assertThat(lines)
        .noneMatch(l -> l.startsWith("\tat "))
        .noneMatch(l -> l.contains("started for"));
  }

  @Test
  void aConsumerConfiguredForMoreReplicasThanTheTopicsHaveRefusesToStartNamingEachTopic() {
    Map<String, String> env = consumerEnv();
    env.put("TXGW_TOPIC_REPLICATION", "2");
    env.put("TXGW_TOPIC_MIN_INSYNC", "2");

    assertThatThrownBy(() -> startConsumer(env))
        .isInstanceOf(Refused.class)
        .satisfies(e -> assertThat(reasonOf(e)).isEqualTo(Reason.SETTINGS_DIFFER))
        .hasMessageContaining(
            "topic sendto has 1 replicas per partition, configured 2 (TXGW_TOPIC_REPLICATION)")
        .hasMessageContaining("topic journal has 1 replicas per partition, configured 2")
        .hasMessageContaining(
            "topic journal has min.insync.replicas 1, configured 2 (TXGW_TOPIC_MIN_INSYNC)");
  }

  @Test
  void
      aJournalThatAlsoDeletesByAgeCompactedResultsAndUncleanElectionsAreRefusedBeforeAnythingIsConsumed()
          throws Exception {
    set(Topics.JOURNAL, "cleanup.policy", "compact,delete");
    set(Topics.SENDTO, "unclean.leader.election.enable", "true");
    set(Topics.RESULTS, "cleanup.policy", "compact");

    assertThatThrownBy(TopicLayoutIT::startConsumer)
        .isInstanceOf(Refused.class)
        .satisfies(e -> assertThat(reasonOf(e)).isEqualTo(Reason.SETTINGS_DIFFER))
        .hasMessageContaining(
            "topic journal is not compacted alone (cleanup.policy=compact,delete)")
        .hasMessageContaining("topic sendto allows unclean leader election")
        .hasMessageContaining("topic results is compacted (cleanup.policy=compact)");
  }

  /** What an operator does with {@code kafka-configs --alter}. */
  private static void set(String topic, String name, String value) throws Exception {
    var resource =
        new org.apache.kafka.common.config.ConfigResource(
            org.apache.kafka.common.config.ConfigResource.Type.TOPIC, topic);
    admin
        .incrementalAlterConfigs(
            Map.of(
                resource,
                List.of(
                    new org.apache.kafka.clients.admin.AlterConfigOp(
                        new org.apache.kafka.clients.admin.ConfigEntry(name, value),
                        org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET))))
        .all()
        .get();
  }

  @Test
  void aGatewayThatCannotCreateATopicWithItsReplicasNamesTheSettingToChange() throws Exception {
    admin.deleteTopics(List.of(Topics.RESULTS)).all().get();
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> !admin.listTopics().names().get().contains(Topics.RESULTS));
    Map<String, String> env = gatewayEnv();
    // The production defaults, 3 and 2, on a one-broker cluster.
    env.remove("TXGW_TOPIC_REPLICATION");
    env.remove("TXGW_TOPIC_MIN_INSYNC");

    assertThatThrownBy(() -> new Gateway(GatewayConfig.fromEnv(env)).start().close())
        .hasMessageContaining("cannot create topic results with 3 replicas")
        .hasMessageContaining("TXGW_TOPIC_REPLICATION is at most the number of brokers");
  }

  @Test
  void sendtoAndJournalGrownTogetherWithoutTheCommandAreRefused() throws Exception {
    FreshTopics.growAlone(admin, Topics.SENDTO, 3);
    FreshTopics.growAlone(admin, Topics.JOURNAL, 3);

    assertThatThrownBy(TopicLayoutIT::startConsumer)
        .isInstanceOf(Refused.class)
        .satisfies(e -> assertThat(reasonOf(e)).isEqualTo(Reason.CHANGED_WITHOUT_PROCEDURE))
        .hasMessageContaining("have 3 partitions but this deployment was laid out with 2");
  }

  @Test
  void aGatewayRefusesToStartWhileAPartitionChangeIsUnderWay() throws Exception {
    Recorded laidOut =
        LayoutStore.read(KafkaConnection.plaintext(kafka.bootstrapServers())).orElseThrow();
    LayoutStore.write(
        admin,
        KafkaConnection.plaintext(kafka.bootstrapServers()),
        laidOut.growing(4, Instant.now(), "test"));
    Map<String, String> env = gatewayEnv();

    assertThatThrownBy(() -> new Gateway(GatewayConfig.fromEnv(env)).start().close())
        .isInstanceOf(Refused.class)
        .satisfies(e -> assertThat(reasonOf(e)).isEqualTo(Reason.CHANGE_UNDER_WAY))
        .hasMessageContaining("a partition change from 2 to 4")
        .hasMessageContaining("run txgw grow-partitions --to 4 again");
  }
}
