package io.txgw.cli;

import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.TopicLayout;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.JournalEntry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The journal as the consumers see it (read_committed, every partition from its start to its end)
 * and as compaction leaves it: per partition, the latest record of each key, none where that is a
 * tombstone. Kept as the bytes on the topic with what they say: whether any unit is still pending,
 * and which units a new partition count leaves in another partition than their account's.
 */
final class JournalScan {
  /** The latest record of a key in its partition. */
  record Entry(int partition, byte[] key, byte[] value, JournalEntry unit) {}

  /** A record to copy to the partition its account is in under the new count. */
  record Move(int to, Entry entry) {}

  private static final JsonSerde<JournalEntry> UNITS = new JsonSerde<>(JournalEntry.class);

  /** Per partition, the live units in the order of their latest record. */
  private final Map<Integer, List<Entry>> partitions;

  JournalScan(Map<Integer, List<Entry>> partitions) {
    this.partitions = new TreeMap<>(partitions);
  }

  /**
   * Reads every journal partition to its end.
   *
   * @param stall how long reading may make no progress before it gives up
   */
  static JournalScan read(KafkaConnection kafka, int count, Duration stall)
      throws TimeoutException, InterruptedException {
    Map<String, Object> props =
        kafka.clientProperties(
            Map.of(
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false,
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG,
                Topics.MAX_MESSAGE_BYTES));
    List<ConsumerRecord<byte[], byte[]>> read = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> tps = new ArrayList<>();
      for (int p = 0; p < count; p++) {
        tps.add(new TopicPartition(Topics.JOURNAL, p));
      }
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      Map<TopicPartition, Long> ends = consumer.endOffsets(tps, stall);
      long lastProgress = System.nanoTime();
      while (tps.stream().anyMatch(tp -> consumer.position(tp, stall) < ends.get(tp))) {
        if (Thread.interrupted()) {
          throw new InterruptedException();
        }
        var records = consumer.poll(Duration.ofMillis(200));
        if (!records.isEmpty()) {
          lastProgress = System.nanoTime();
        } else if (System.nanoTime() - lastProgress > stall.toNanos()) {
          // An open transaction (a consumer frozen mid-commit) holds the end back.
          throw new TimeoutException("journal not read to its end: no progress for " + stall);
        }
        records.forEach(read::add);
      }
    }
    return of(read);
  }

  /** The journal these records leave once compacted, each partition's in offset order. */
  static JournalScan of(List<ConsumerRecord<byte[], byte[]>> records) {
    // Per partition, key to its latest record; removed and put again, so in offset order.
    Map<Integer, LinkedHashMap<String, Entry>> latest = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : records) {
      Map<String, Entry> keys = latest.computeIfAbsent(r.partition(), p -> new LinkedHashMap<>());
      String key = r.key() == null ? "@" + r.offset() : new String(r.key(), StandardCharsets.UTF_8);
      keys.remove(key);
      if (r.value() != null) {
        keys.put(key, new Entry(r.partition(), r.key(), r.value(), parse(r)));
      }
    }
    Map<Integer, List<Entry>> live = new HashMap<>();
    latest.forEach((p, keys) -> live.put(p, List.copyOf(keys.values())));
    return new JournalScan(live);
  }

  private static JournalEntry parse(ConsumerRecord<byte[], byte[]> r) {
    try {
      return UNITS.deserialize(Topics.JOURNAL, r.value());
    } catch (SerializationException e) {
      throw new IllegalStateException(
          "journal-" + r.partition() + " offset " + r.offset() + " cannot be read: " + e, e);
    }
  }

  /**
   * Units whose latest state in their partition is not final: PREPARED (journaled, not yet
   * recorded) or CONFIRMING (the chain holds it, not deep enough yet). Either may still be
   * broadcast again and abandoned, which reads its partition's {@code sendto} offsets again: never
   * moved.
   */
  List<JournalEntry> pending() {
    List<JournalEntry> pending = new ArrayList<>();
    partitions.values().stream()
        .flatMap(List::stream)
        .map(Entry::unit)
        .filter(JournalScan::live)
        .forEach(pending::add);
    return pending;
  }

  private static boolean live(JournalEntry unit) {
    return unit.state() == JournalEntry.State.PREPARED
        || unit.state() == JournalEntry.State.CONFIRMING;
  }

  /**
   * The units of accounts that {@code count} partitions put in another partition than the one
   * holding them, in the order of their latest record: the order compaction leaves and a consumer
   * reads, in which a payout's last unit tells whether it is taken.
   *
   * @throws IllegalStateException for a pending unit: only a drained journal is moved
   */
  List<Move> moves(int count) {
    List<Move> moves = new ArrayList<>();
    partitions.forEach(
        (partition, entries) -> {
          for (Entry e : entries) {
            int to = TopicLayout.partitionOf(e.unit().accountKey(), count);
            if (to == partition) {
              continue;
            }
            if (live(e.unit())) {
              throw new IllegalStateException(
                  "unit " + e.unit().unitId() + " is pending: the journal is not drained");
            }
            moves.add(new Move(to, e));
          }
        });
    return moves;
  }

  /**
   * Writes the moves to their new partitions, as the bytes they were. Only a drained journal is
   * copied (no unit PREPARED or CONFIRMING), so every copied unit is in a final state: it is never
   * broadcast again nor read back to its old partition's offsets; it only tells the account's new
   * owner which payouts are taken.
   */
  static void copy(KafkaConnection kafka, List<Move> moves, Duration timeout)
      throws ExecutionException, TimeoutException, InterruptedException {
    Map<String, Object> props = kafka.clientProperties();
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    // Idempotence keeps the order per partition across retries.
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.MAX_MESSAGE_BYTES);
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
      List<Future<RecordMetadata>> sent = new ArrayList<>(moves.size());
      for (Move m : moves) {
        sent.add(
            producer.send(
                new ProducerRecord<>(Topics.JOURNAL, m.to(), m.entry().key(), m.entry().value())));
      }
      producer.flush();
      for (Future<RecordMetadata> f : sent) {
        f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      }
    }
  }
}
