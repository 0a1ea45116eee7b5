package io.txgw.common.kafka;

import io.txgw.common.json.Json;
import io.txgw.common.kafka.TopicLayout.Live;
import io.txgw.common.kafka.TopicLayout.Recorded;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Where the layout lives in Kafka: the partition counts of the topics as they are, and the one
 * layout record of {@value Topics#LAYOUT}, the latest value of its key winning.
 */
public final class LayoutStore {
  static final String KEY = "layout";
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private LayoutStore() {}

  /** The partition count of each of txgw's keyed topics; absent topics are left out. */
  public static Live live(Admin admin)
      throws ExecutionException, TimeoutException, InterruptedException {
    Map<String, Integer> counts = new HashMap<>();
    var described =
        admin
            .describeTopics(List.of(Topics.SENDTO, Topics.JOURNAL, Topics.RESULTS, Topics.BATCHES))
            .topicNameValues();
    for (var entry : described.entrySet()) {
      try {
        TopicDescription d = entry.getValue().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        counts.put(entry.getKey(), d.partitions().size());
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
          throw e;
        }
      }
    }
    return new Live(counts);
  }

  /** The layout record, if one was written. */
  public static Optional<Recorded> read(KafkaConnection kafka) {
    TopicPartition tp = new TopicPartition(Topics.LAYOUT, 0);
    Map<String, Object> props =
        kafka.clientProperties(
            Map.of(
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed"));
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
      if (!consumer.listTopics(TIMEOUT).containsKey(Topics.LAYOUT)) {
        return Optional.empty();
      }
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long end = consumer.endOffsets(List.of(tp), TIMEOUT).get(tp);
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      byte[] last = null;
      while (consumer.position(tp, TIMEOUT) < end) {
        if (System.nanoTime() > deadline) {
          throw new org.apache.kafka.common.errors.TimeoutException(
              Topics.LAYOUT + " not read to its end within " + TIMEOUT);
        }
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          if (KEY.equals(r.key())) {
            last = r.value();
          }
        }
      }
      return last == null ? Optional.empty() : Optional.of(parse(last));
    }
  }

  private static Recorded parse(byte[] value) {
    try {
      return Json.mapper().readValue(value, Recorded.class);
    } catch (IOException e) {
      throw new TopicLayout.Refused(
          TopicLayout.Reason.UNREADABLE,
          "refusing to start: the record in "
              + Topics.LAYOUT
              + " cannot be read ("
              + e.getMessage()
              + "): "
              + new String(value, StandardCharsets.UTF_8));
    }
  }

  /** Writes the layout record, creating its topic first if an older txgw did not. */
  public static void write(Admin admin, KafkaConnection kafka, Recorded record)
      throws ExecutionException, TimeoutException, InterruptedException {
    createTopicIfMissing(admin);
    Map<String, Object> props = kafka.clientProperties();
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    byte[] value;
    try {
      value = Json.mapper().writeValueAsBytes(record);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
      producer
          .send(new ProducerRecord<>(Topics.LAYOUT, 0, KEY, value))
          .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private static void createTopicIfMissing(Admin admin)
      throws ExecutionException, TimeoutException, InterruptedException {
    if (admin
        .listTopics()
        .names()
        .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .contains(Topics.LAYOUT)) {
      return;
    }
    // As durable as the payouts it guards, and as strict about its writes.
    short replication =
        (short)
            admin
                .describeTopics(List.of(Topics.SENDTO))
                .allTopicNames()
                .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .get(Topics.SENDTO)
                .partitions()
                .get(0)
                .replicas()
                .size();
    var sendto =
        new org.apache.kafka.common.config.ConfigResource(
            org.apache.kafka.common.config.ConfigResource.Type.TOPIC, Topics.SENDTO);
    int minInsync =
        Integer.parseInt(
            admin
                .describeConfigs(List.of(sendto))
                .all()
                .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .get(sendto)
                .get(org.apache.kafka.common.config.TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG)
                .value());
    try {
      admin
          .createTopics(List.of(Topics.layoutTopic(replication, minInsync)))
          .all()
          .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw e;
      }
    }
  }

  /** An admin client that gives up as the check does. */
  public static Admin admin(KafkaConnection kafka) {
    return Admin.create(
        kafka.clientProperties(
            Map.of(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis())));
  }
}
