package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.cli.Txgw;
import io.txgw.common.json.Json;
import io.txgw.common.kafka.Topics;
import io.txgw.deploy.infra.EmbeddedKafka;
import io.txgw.deploy.infra.Ports;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code txgw lag} against a real broker, a group with a live member and known offsets. */
class LagCommandIT {
  private static final String GROUP = "lag-test";

  @TempDir static Path dir;
  static EmbeddedKafka kafka;
  static KafkaConsumer<String, String> member;

  @BeforeAll
  static void aGroupThatHasReadSomeOfEachPartition() throws Exception {
    kafka = new EmbeddedKafka(dir.resolve("kafka"));
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
      Topics.ensure(admin, 3, io.txgw.common.kafka.TopicSettings.ONE_BROKER);
    }
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(
            Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
            new StringSerializer(),
            new StringSerializer())) {
      for (int p = 0; p < 3; p++) {
        for (int i = 0; i < 10; i++) {
          producer.send(new ProducerRecord<>(Topics.SENDTO, p, "k", "v" + i)).get();
        }
      }
    }
    member =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                kafka.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG,
                GROUP,
                ConsumerConfig.CLIENT_ID_CONFIG,
                "member-1",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false),
            new StringDeserializer(),
            new StringDeserializer());
    member.subscribe(java.util.List.of(Topics.SENDTO));
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              member.poll(Duration.ofMillis(100));
              return member.assignment().size() == 3;
            });
    member.commitSync(
        Map.of(
            new TopicPartition(Topics.SENDTO, 0), new OffsetAndMetadata(10),
            new TopicPartition(Topics.SENDTO, 1), new OffsetAndMetadata(4)));
  }

  @AfterAll
  static void stop() {
    if (member != null) {
      member.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  private record Run(int exit, String out, String err) {}

  private static Run txgw(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Txgw.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void lagIsTheEndOffsetLessTheCommittedOneForEachPartitionWithItsOwner() throws Exception {
    Run run =
        txgw("lag", "-b", kafka.bootstrapServers(), "-g", GROUP, "--json", "--interval", "0.2");
    assertThat(run.exit()).as(run.err()).isZero();
    JsonNode doc = Json.mapper().readTree(run.out());
    assertThat(doc.path("totalLag").asLong()).isEqualTo(16);
    JsonNode partitions = doc.path("partitions");
    assertThat(partitions).hasSize(3);
    assertThat(partitions.get(0).path("committed").asLong()).isEqualTo(10);
    assertThat(partitions.get(0).path("lag").asLong()).isZero();
    assertThat(partitions.get(0).path("secondsToDrain").asDouble()).isZero();
    assertThat(partitions.get(1).path("lag").asLong()).isEqualTo(6);
    // Nothing committed on partition 2: all ten records are still to read, and nothing moves.
    assertThat(partitions.get(2).path("committed").isNull()).isTrue();
    assertThat(partitions.get(2).path("lag").asLong()).isEqualTo(10);
    assertThat(partitions.get(1).path("secondsToDrain").isNull()).isTrue();
    assertThat(partitions)
        .allSatisfy(p -> assertThat(p.path("owner").asText()).startsWith("member-1"));
  }

  @Test
  void aPartitionReadUpToItsLastTransactionsCommitMarkerHasNoLag() throws Exception {
    // As the consumers commit: the offset after the last record, one short of the marker.
    String topic = "marked";
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
      admin.createTopics(java.util.List.of(new NewTopic(topic, 1, (short) 1))).all().get();
    }
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                kafka.bootstrapServers(),
                ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                "lag-test-tx"),
            new StringSerializer(),
            new StringSerializer())) {
      producer.initTransactions();
      producer.beginTransaction();
      for (int i = 0; i < 5; i++) {
        producer.send(new ProducerRecord<>(topic, 0, "k", "v" + i));
      }
      producer.commitTransaction();
    }
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
      admin
          .alterConsumerGroupOffsets(
              "marked-readers", Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(5)))
          .all()
          .get();
    }

    Run run =
        txgw(
            "lag",
            "-b",
            kafka.bootstrapServers(),
            "-g",
            "marked-readers",
            "-t",
            topic,
            "--json",
            "--interval",
            "0.2");
    assertThat(run.exit()).as(run.err()).isZero();
    JsonNode partition = Json.mapper().readTree(run.out()).path("partitions").get(0);
    assertThat(partition.path("end").asLong()).isEqualTo(6);
    assertThat(partition.path("lag").asLong()).isZero();
  }

  @Test
  void theTableShowsEveryPartitionAndWatchRepeatsItTheGivenNumberOfTimes() {
    Run run =
        txgw(
            "lag",
            "-b",
            kafka.bootstrapServers(),
            "-g",
            GROUP,
            "--watch",
            "--count",
            "2",
            "--interval",
            "0.2");
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out().lines().filter(l -> l.startsWith("total lag 16"))).hasSize(2);
    assertThat(run.out()).contains("stalled");
  }

  @Test
  void anUnknownGroupIsSaidInOneLine() {
    Run run = txgw("lag", "-b", kafka.bootstrapServers(), "-g", "nobody", "--interval", "0.1");
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err()).startsWith("error: no consumer group nobody");
  }

  @Test
  void anUnreachableClusterIsSaidInOneLineWithinTheTimeout() {
    String nowhere = "127.0.0.1:" + Ports.freeLoopbackPort();
    Run run = txgw("lag", "-b", nowhere, "--timeout", "2", "--interval", "0.1");
    assertThat(run.exit()).isEqualTo(3);
    assertThat(run.err()).isEqualTo("error: cannot reach Kafka at " + nowhere + " within 2 s\n");
  }
}
