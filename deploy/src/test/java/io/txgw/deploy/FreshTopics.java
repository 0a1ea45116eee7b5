package io.txgw.deploy;

import static org.awaitility.Awaitility.await;

import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.LayoutStore;
import io.txgw.common.kafka.TopicLayout;
import io.txgw.common.kafka.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/** txgw's topics created anew between tests that change their partition counts. */
final class FreshTopics {
  private static final List<String> TOPICS =
      List.of(
          Topics.SENDTO,
          Topics.JOURNAL,
          Topics.RESULTS,
          Topics.BATCHES,
          Topics.SENDTO_DEAD_LETTER,
          Topics.LAYOUT);

  private FreshTopics() {}

  /** Deletes the topics, creates them with {@code partitions} and records that layout. */
  static void laidOut(Admin admin, String bootstrap, int partitions) throws Exception {
    List<String> existing =
        admin.listTopics().names().get().stream().filter(TOPICS::contains).toList();
    admin.deleteTopics(existing).all().get();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> admin.listTopics().names().get().stream().noneMatch(TOPICS::contains));
    Topics.ensure(admin, partitions, io.txgw.common.kafka.TopicSettings.ONE_BROKER);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> LayoutStore.live(admin).count(Topics.JOURNAL) == partitions);
    TopicLayout.check(KafkaConnection.plaintext(bootstrap), TopicLayout.Role.GATEWAY);
  }

  /** What an operator does with {@code kafka-topics --alter --partitions}. */
  static void growAlone(Admin admin, String topic, int partitions) throws Exception {
    admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(partitions))).all().get();
  }

  static void write(String bootstrap, String topic, int partition, String key, String value)
      throws Exception {
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(
            Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
            new StringSerializer(),
            new StringSerializer())) {
      producer.send(new ProducerRecord<>(topic, partition, key, value)).get();
    }
  }
}
