package io.txgw.gateway.events;

import io.txgw.common.json.Json;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.PayoutResult;
import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a client's events back from the results topic after a cursor ({@code GET /v1/events}), and
 * a client's last webhook deliveries from their log. Each read takes one of {@value #READERS} Kafka
 * readers kept open (none free: the caller is told to come back), and scans at most {@value
 * #MAX_SCAN} records or {@link #MAX_TIME}: a client whose events are few among many others' pages
 * on with the cursor it is given, whatever it found.
 */
public final class EventLog implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(EventLog.class);

  static final int READERS = 2;
  static final int MAX_SCAN = 100_000;
  static final Duration MAX_TIME = Duration.ofSeconds(3);
  public static final int MAX_LIMIT = 1_000;

  /** Deliveries of the log scanned back from its end, at most, for one client's last ones. */
  static final int DELIVERIES_SCANNED = 20_000;

  private final Supplier<Consumer<String, byte[]>> factory;
  private final BlockingQueue<Consumer<String, byte[]>> idle = new ArrayBlockingQueue<>(READERS);
  private final Semaphore readers = new Semaphore(READERS);

  /** Clients with a read under way: one each, so that no client holds every reader. */
  private final java.util.Set<String> reading = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private volatile boolean closed;

  EventLog(Supplier<Consumer<String, byte[]>> factory) {
    this.factory = factory;
  }

  public static EventLog open(KafkaConnection kafka) {
    return new EventLog(
        () ->
            new KafkaConsumer<>(
                kafka.committedReader(Map.of(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5_000)),
                new StringDeserializer(),
                new ByteArrayDeserializer()));
  }

  /**
   * One page of events.
   *
   * @param next where the next page starts
   * @param more whether records were left unread when the page was read
   * @param gap whether the cursor pointed at records retention has removed since: events between it
   *     and this page are gone for every reader
   */
  public record Page(List<ResultEvent> events, EventCursor next, boolean more, boolean gap) {}

  /** Why a cursor cannot be read from. */
  public static final class BadCursor extends RuntimeException {
    BadCursor(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * @return empty when every reader is busy
   * @throws BadCursor when the cursor names a partition or offset the topic does not have
   */
  public Optional<Page> read(String client, EventCursor after, int limit) {
    return withReader(client, reader -> page(reader, client, after, limit));
  }

  /** The client's last {@code limit} webhook deliveries, oldest first; empty when busy. */
  public Optional<List<Map<String, Object>>> deliveries(String client, int limit) {
    return withReader(client, reader -> lastDeliveries(reader, client, limit));
  }

  private <T> Optional<T> withReader(
      String client, java.util.function.Function<Consumer<String, byte[]>, T> use) {
    if (closed || !reading.add(client)) {
      return Optional.empty();
    }
    try {
      return withReader(use);
    } finally {
      reading.remove(client);
    }
  }

  private <T> Optional<T> withReader(java.util.function.Function<Consumer<String, byte[]>, T> use) {
    if (closed || !readers.tryAcquire()) {
      return Optional.empty();
    }
    Consumer<String, byte[]> reader = idle.poll();
    boolean healthy = false;
    try {
      if (reader == null) {
        reader = factory.get();
      }
      T out = use.apply(reader);
      healthy = true;
      return Optional.of(out);
    } catch (BadCursor e) {
      healthy = true;
      throw e;
    } finally {
      if (reader != null) {
        if (healthy && !closed && idle.offer(reader)) {
          reader = null;
        } else {
          reader.close(CloseOptions.timeout(Duration.ofSeconds(5)));
        }
      }
      readers.release();
    }
  }

  private static Page page(
      Consumer<String, byte[]> reader, String client, EventCursor after, int limit) {
    List<TopicPartition> partitions = partitions(reader, Topics.RESULTS);
    int named = after.next().keySet().stream().mapToInt(p -> p + 1).max().orElse(0);
    if (named > partitions.size()) {
      throw new BadCursor("names " + named + " partitions; the log has " + partitions.size());
    }
    reader.assign(partitions);
    Map<TopicPartition, Long> first = reader.beginningOffsets(partitions, MAX_TIME);
    // Read committed: the end is the last stable offset, past which nothing is settled yet.
    Map<TopicPartition, Long> end = reader.endOffsets(partitions, MAX_TIME);
    Map<Integer, Long> position = new HashMap<>();
    boolean gap = false;
    for (TopicPartition tp : partitions) {
      long wanted = after.next(tp.partition());
      if (wanted > end.get(tp)) {
        throw new BadCursor("is past the end of the log");
      }
      // A position of 0 is a reading begun before any retention: from the first record kept.
      gap |= wanted > 0 && wanted < first.get(tp);
      // Records retention removed are gone for every reader: the page starts at the first kept.
      long from = Math.max(wanted, first.get(tp));
      position.put(tp.partition(), from);
      reader.seek(tp, from);
    }
    List<ResultEvent> events = new ArrayList<>();
    int scanned = 0;
    long deadline = System.nanoTime() + MAX_TIME.toNanos();
    boolean full = false;
    while (!full && scanned < MAX_SCAN && System.nanoTime() < deadline && behind(position, end)) {
      ConsumerRecords<String, byte[]> records = reader.poll(Duration.ofMillis(200));
      for (TopicPartition tp : records.partitions()) {
        for (ConsumerRecord<String, byte[]> r : records.records(tp)) {
          if (ResultEvent.isOf(r.key(), client)) {
            if (events.size() == limit) {
              full = true;
              break;
            }
            result(r).ifPresent(p -> events.add(ResultEvent.of(r.partition(), r.offset(), p)));
          }
          position.put(tp.partition(), r.offset() + 1);
          scanned++;
        }
        if (full) {
          break;
        }
      }
      if (!full) {
        // Past transaction markers and aborted records, which poll returns nothing for.
        for (TopicPartition tp : records.partitions()) {
          position.merge(tp.partition(), reader.position(tp), Math::max);
        }
        if (records.isEmpty()) {
          for (TopicPartition tp : partitions) {
            position.merge(tp.partition(), reader.position(tp), Math::max);
          }
        }
      }
    }
    return new Page(
        List.copyOf(events), new EventCursor(position), full || behind(position, end), gap);
  }

  private static boolean behind(Map<Integer, Long> position, Map<TopicPartition, Long> end) {
    for (var e : end.entrySet()) {
      if (position.get(e.getKey().partition()) < e.getValue()) {
        return true;
      }
    }
    return false;
  }

  private static List<Map<String, Object>> lastDeliveries(
      Consumer<String, byte[]> reader, String client, int limit) {
    List<TopicPartition> partitions = partitions(reader, Topics.WEBHOOK_DELIVERIES);
    reader.assign(partitions);
    Map<TopicPartition, Long> first = reader.beginningOffsets(partitions, MAX_TIME);
    Map<TopicPartition, Long> end = reader.endOffsets(partitions, MAX_TIME);
    Map<Integer, Long> position = new HashMap<>();
    for (TopicPartition tp : partitions) {
      long from = Math.max(first.get(tp), end.get(tp) - DELIVERIES_SCANNED);
      reader.seek(tp, from);
      position.put(tp.partition(), from);
    }
    ArrayDeque<Map<String, Object>> last = new ArrayDeque<>();
    long deadline = System.nanoTime() + MAX_TIME.toNanos();
    while (System.nanoTime() < deadline && behind(position, end)) {
      ConsumerRecords<String, byte[]> records = reader.poll(Duration.ofMillis(200));
      for (ConsumerRecord<String, byte[]> r : records) {
        if (client.equals(r.key())) {
          try {
            last.addLast(Json.mapper().readValue(r.value(), DeliveryLog.MAP));
          } catch (IOException e) {
            log.warn("a delivery record at {} is not JSON: {}", r.offset(), e.toString());
          }
          if (last.size() > limit) {
            last.removeFirst();
          }
        }
      }
      for (TopicPartition tp : partitions) {
        position.put(tp.partition(), reader.position(tp));
      }
    }
    return List.copyOf(last);
  }

  private static List<TopicPartition> partitions(Consumer<String, byte[]> reader, String topic) {
    return reader.partitionsFor(topic, MAX_TIME).stream()
        .map(p -> new TopicPartition(topic, p.partition()))
        .sorted(java.util.Comparator.comparingInt(TopicPartition::partition))
        .toList();
  }

  static Optional<PayoutResult> result(ConsumerRecord<String, byte[]> r) {
    try {
      return Optional.of(Json.mapper().readValue(r.value(), PayoutResult.class));
    } catch (IOException | RuntimeException e) {
      // Written by the consumers alone; one that cannot be read is skipped, not served half.
      log.error(
          "result {}-{} cannot be read, skipped: {}", r.partition(), r.offset(), e.toString());
      return Optional.empty();
    }
  }

  @Override
  public void close() {
    closed = true;
    Consumer<String, byte[]> reader;
    while ((reader = idle.poll()) != null) {
      reader.close(CloseOptions.timeout(Duration.ofSeconds(5)));
    }
  }
}
