package io.txgw.loadgen;

import io.txgw.common.json.Json;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.model.PayoutStatus;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads the committed results topic from the start and counts the results of a run's payouts, to
 * tell each paid once from missing or doubled.
 */
public final class ResultsReader {
  private ResultsReader() {}

  /**
   * Results per payout ({@code batchId/payoutId}): how many final ones were written (CONFIRMED,
   * FAILED, UNKNOWN: more than one is a payout handled twice), the latest one (by the order the
   * topic holds them in), and the first BROADCAST, when the chain first held it.
   */
  public record Seen(
      Map<String, Integer> counts,
      Map<String, PayoutResult> latest,
      Map<String, PayoutResult> firstBroadcast) {
    /** The latest status of each payout. */
    public Map<String, String> statuses() {
      Map<String, String> statuses = new HashMap<>();
      latest.forEach((key, result) -> statuses.put(key, result.status().name()));
      return statuses;
    }
  }

  /**
   * Reads until every one of {@code expected} payouts (by {@code batchId/payoutId}) has a final
   * result, or the timeout passes.
   */
  public static Seen read(
      KafkaConnection kafka, Set<String> batchIds, int expected, Duration timeout)
      throws IOException {
    Map<String, Integer> counts = new HashMap<>();
    Map<String, PayoutResult> latest = new HashMap<>();
    Map<String, PayoutResult> firstBroadcast = new HashMap<>();
    Map<String, Object> props = kafka.clientProperties();
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(Topics.RESULTS).stream()
              .map(p -> new TopicPartition(p.topic(), p.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long deadline = System.nanoTime() + timeout.toNanos();
      while (counts.size() < expected && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          PayoutResult result = Json.mapper().readValue(r.value(), PayoutResult.class);
          if (batchIds.contains(result.batchId())) {
            String key = result.batchId() + "/" + result.payoutId();
            if (result.status().isFinal()) {
              counts.merge(key, 1, Integer::sum);
            }
            if (result.status() == PayoutStatus.BROADCAST) {
              firstBroadcast.putIfAbsent(key, result);
            }
            latest.put(key, result);
          }
        }
      }
    }
    return new Seen(counts, latest, firstBroadcast);
  }
}
