package io.txgw.gateway.policy;

import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Amount;
import io.txgw.common.model.BatchRecord;
import java.io.Closeable;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What each client paid in the last 24 hours, per asset, as every gateway instance wrote it: read
 * from the {@code batches} topic (from 24 hours back at start, then as it grows), so that a
 * client's daily maximum holds across instances and restarts rather than per process. Batches this
 * instance is writing count from the moment they are reserved until the topic shows them.
 *
 * <p>A batch counts from the later of its gateway's time and the broker's ({@code batches} is
 * stamped LogAppendTime), so a gateway whose clock is behind cannot age its batches out early.
 *
 * <p>Across instances the maximum holds up to what the others are writing at the same moment and
 * this one has not read yet (milliseconds to a second): two instances accepting at once can each
 * pass one batch. Route a client to one instance where that matters.
 *
 * <p>Bounded: per client and asset at most one sum per minute of the window (1,441), pruned as
 * batches are read; batches being written are held only until the topic shows them, or a day.
 */
public final class DailySpend implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(DailySpend.class);
  public static final Duration WINDOW = Duration.ofHours(24);
  private static final JsonSerde<BatchRecord> BATCHES = new JsonSerde<>(BatchRecord.class);

  private final Clock clock;
  private final Object lock = new Object();

  /** client → asset → minute (epoch minutes) → sum written in that minute. */
  private final Map<String, Map<String, TreeMap<Long, BigDecimal>>> written = new HashMap<>();

  /**
   * Batches reserved here and not yet read back, by reservation: a batch posted again while its
   * first write is in doubt has two, unless the later write replaced the earlier (fenced writes).
   */
  private final Map<Long, Pending> pending = new LinkedHashMap<>();

  private long nextToken;

  private final KafkaConsumer<String, byte[]> consumer;
  private final Thread reader;
  private final CountDownLatch caughtUp = new CountDownLatch(1);
  private volatile boolean closed;
  private volatile boolean failed;

  private record Pending(
      String batchKey, String client, String asset, BigDecimal amount, Instant at) {}

  /** A reservation of a batch's amount; released when its batch is not written after all. */
  public interface Reservation {
    void release();
  }

  private DailySpend(Clock clock, KafkaConsumer<String, byte[]> consumer) {
    this.clock = clock;
    this.consumer = consumer;
    this.reader = consumer == null ? null : new Thread(this::read, "daily-spend");
  }

  /** Reads {@code batches} from 24 hours back, then follows it. */
  public static DailySpend start(KafkaConnection kafka, Clock clock) {
    KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(
            kafka.committedReader(Map.of()), new StringDeserializer(), new ByteArrayDeserializer());
    DailySpend spend = new DailySpend(clock, consumer);
    spend.reader.setDaemon(true);
    spend.reader.start();
    return spend;
  }

  /** A ledger fed by hand, for tests. */
  static DailySpend unread(Clock clock) {
    DailySpend spend = new DailySpend(clock, null);
    spend.caughtUp.countDown();
    return spend;
  }

  /** Whether the window read at start is in: until then a maximum cannot be checked. */
  public boolean isCaughtUp() {
    return caughtUp.getCount() == 0 && !failed;
  }

  public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
    return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Reserves {@code amount} of {@code asset} for a batch of {@code client}, unless that would take
   * the client's last 24 hours past {@code max}.
   *
   * @return the reservation, or why not
   */
  public Optional<Reservation> reserve(
      String client, String asset, Amount amount, Amount max, String batchKey, String[] refusal) {
    return reserve(client, asset, amount, max, batchKey, refusal, false);
  }

  /**
   * As {@link #reserve(String, String, Amount, Amount, String, String[])}; with {@code replacing},
   * the batch's earlier reservations here are replaced by this one: for a write that has ended
   * every earlier write of the batch first (a fenced write), so that a batch counts once. Without
   * it an earlier write still in doubt keeps its own: counting too much, never too little.
   */
  public Optional<Reservation> reserve(
      String client,
      String asset,
      Amount amount,
      Amount max,
      String batchKey,
      String[] refusal,
      boolean replacing) {
    synchronized (lock) {
      Instant now = clock.instant();
      BigDecimal earlier = BigDecimal.ZERO;
      if (replacing) {
        for (Pending p : pending.values()) {
          if (p.batchKey().equals(batchKey)
              && p.client().equals(client)
              && p.asset().equals(asset)) {
            earlier = earlier.add(p.amount());
          }
        }
      }
      BigDecimal total = total(client, asset, now).subtract(earlier).add(amount.toBigDecimal());
      if (total.compareTo(max.toBigDecimal()) > 0) {
        refusal[0] =
            "this batch would take client "
                + client
                + "'s payouts of the last 24 hours to "
                + total.stripTrailingZeros().toPlainString()
                + " "
                + asset
                + ", above its daily maximum of "
                + max;
        return Optional.empty();
      }
      if (replacing) {
        pending.values().removeIf(p -> p.batchKey().equals(batchKey));
      }
      long token = nextToken++;
      pending.put(token, new Pending(batchKey, client, asset, amount.toBigDecimal(), now));
      return Optional.of(() -> release(token));
    }
  }

  private void release(long token) {
    synchronized (lock) {
      pending.remove(token);
    }
  }

  /** What the client paid in the window, with what this instance is writing. */
  public BigDecimal total(String client, String asset, Instant now) {
    synchronized (lock) {
      // The minute the window starts in counts whole: a maximum is kept by counting a little too
      // much (under a minute's worth), never too little.
      long from = minute(now.minus(WINDOW));
      BigDecimal sum = BigDecimal.ZERO;
      TreeMap<Long, BigDecimal> minutes = written.getOrDefault(client, Map.of()).get(asset);
      if (minutes != null) {
        minutes.headMap(from).clear();
        for (BigDecimal b : minutes.values()) {
          sum = sum.add(b);
        }
      }
      Instant oldest = now.minus(WINDOW);
      for (Iterator<Pending> it = pending.values().iterator(); it.hasNext(); ) {
        Pending p = it.next();
        if (p.at().isBefore(oldest)) {
          it.remove();
        } else if (p.client().equals(client) && p.asset().equals(asset)) {
          sum = sum.add(p.amount());
        }
      }
      return sum;
    }
  }

  /** Counts a batch read from the topic, and ends its reservation if it was made here. */
  void apply(BatchRecord batch) {
    apply(batch, batch.acceptedAt());
  }

  /**
   * Counts a batch read from the topic at the later of its gateway's time and the log's: a gateway
   * whose clock is behind would otherwise make its batches leave the window early, or never enter
   * it.
   */
  void apply(BatchRecord batch, Instant logTime) {
    Instant at = logTime.isAfter(batch.acceptedAt()) ? logTime : batch.acceptedAt();
    Map<String, BigDecimal> byAsset = new HashMap<>();
    List<String> ids = batch.payoutIds();
    List<BatchRecord.Line> lines = batch.lines();
    for (int i = 0; i < lines.size() && i < ids.size(); i++) {
      if (batch.acceptedEarlier().containsKey(ids.get(i))) {
        continue; // paid by its earlier batch, not again
      }
      BatchRecord.Line line = lines.get(i);
      String asset =
          line.asset() == null ? batch.chain().nativeAsset().symbol() : line.asset().symbol();
      byAsset.merge(asset, line.amount().toBigDecimal(), BigDecimal::add);
    }
    synchronized (lock) {
      pending.values().removeIf(p -> p.batchKey().equals(batch.key()));
      Instant now = clock.instant();
      if (at.isBefore(now.minus(WINDOW))) {
        return;
      }
      long minute = minute(at);
      long from = minute(now.minus(WINDOW));
      byAsset.forEach(
          (asset, sum) -> {
            TreeMap<Long, BigDecimal> minutes =
                written
                    .computeIfAbsent(batch.clientId(), c -> new HashMap<>())
                    .computeIfAbsent(asset, a -> new TreeMap<>());
            minutes.merge(minute, sum, BigDecimal::add);
            // Pruned as it grows, whether or not anyone asks: at most a day of minutes.
            minutes.headMap(from).clear();
          });
    }
  }

  int minutesHeld() {
    synchronized (lock) {
      int n = 0;
      for (Map<String, TreeMap<Long, BigDecimal>> byAsset : written.values()) {
        for (TreeMap<Long, BigDecimal> minutes : byAsset.values()) {
          n += minutes.size();
        }
      }
      return n;
    }
  }

  private static long minute(Instant at) {
    return at.getEpochSecond() / 60;
  }

  private void read() {
    try {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo p : consumer.partitionsFor(Topics.BATCHES, Duration.ofSeconds(30))) {
        partitions.add(new TopicPartition(p.topic(), p.partition()));
      }
      consumer.assign(partitions);
      long since = clock.instant().minus(WINDOW).toEpochMilli();
      Map<TopicPartition, Long> times = new HashMap<>();
      partitions.forEach(tp -> times.put(tp, since));
      Map<TopicPartition, OffsetAndTimestamp> from =
          consumer.offsetsForTimes(times, Duration.ofSeconds(30));
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, Duration.ofSeconds(30));
      for (TopicPartition tp : partitions) {
        OffsetAndTimestamp at = from.get(tp);
        consumer.seek(tp, at == null ? ends.get(tp) : at.offset());
      }
      while (!closed) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          try {
            BatchRecord batch = BATCHES.deserialize(r.topic(), r.value());
            if (batch != null && batch.acceptedAt() != null) {
              apply(batch, Instant.ofEpochMilli(r.timestamp()));
            }
          } catch (RuntimeException e) {
            // One record this reader cannot count must not stop it counting the rest.
            log.warn(
                "batch record {}-{}@{} not counted: {}", r.topic(), r.partition(), r.offset(), e);
          }
        }
        if (caughtUp.getCount() > 0 && reachedEnds(ends)) {
          caughtUp.countDown();
          log.info("daily spend read from {} back", WINDOW);
        }
      }
    } catch (WakeupException e) {
      // closing
    } catch (KafkaException | IllegalStateException e) {
      if (!closed) {
        // Other instances' batches would no longer count: batches are refused (not ready)
        // rather than let a daily maximum become one per instance.
        failed = true;
        log.error(
            "daily spend stopped reading batches; new batches are refused until a restart: {}",
            e.toString());
      }
    } finally {
      if (!closed) {
        failed = true;
      }
      consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
    }
  }

  private boolean reachedEnds(Map<TopicPartition, Long> ends) {
    for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  @Override
  public void close() {
    closed = true;
    if (consumer != null) {
      consumer.wakeup();
      try {
        reader.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
