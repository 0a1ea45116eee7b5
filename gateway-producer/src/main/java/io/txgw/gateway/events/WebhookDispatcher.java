package io.txgw.gateway.events;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.txgw.common.json.Json;
import io.txgw.common.kafka.KafkaAcls;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.PayoutResult;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells each client with a webhook every state change of its payouts, at least once and in order
 * per payout.
 *
 * <p>Each client has a Kafka group of its own ({@code txgw-webhooks.<client>}) on the results
 * topic, whose committed offsets say what its receiver has acknowledged: a client whose receiver is
 * down holds up only its own deliveries, and a restart (or another gateway taking the group's
 * partitions) starts after the last acknowledged event. Within a client, deliveries go one at a
 * time in the topic's order, and all of a payout's results are in one partition (they are keyed by
 * client and payout): a payout's events arrive in the order they happened. A delivery carries up to
 * {@value #MAX_EVENTS} events; one that fails is sent again, same id and body, after 1 s, 2 s, 4
 * s... up to the configured longest wait, until acknowledged. A newly configured webhook starts
 * with the oldest event still kept.
 *
 * <p>Bounded: per client, one poll of at most {@value #MAX_POLL_RECORDS} records and one delivery
 * in memory.
 */
public final class WebhookDispatcher implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(WebhookDispatcher.class);

  static final int MAX_EVENTS = 100;
  static final int MAX_BYTES = 256 * 1024;
  static final int MAX_POLL_RECORDS = 500;
  static final Duration FIRST_RETRY = Duration.ofSeconds(1);

  /** How long a feed whose Kafka reader failed waits before it opens a new one. */
  static final Duration REOPEN_AFTER = Duration.ofSeconds(5);

  private final List<Feed> feeds = new ArrayList<>();
  private final WebhookClient http;

  private WebhookDispatcher(WebhookClient http) {
    this.http = http;
  }

  /** Starts one feed per client with a webhook. */
  public static WebhookDispatcher start(
      KafkaConnection kafka, Webhooks hooks, DeliveryLog deliveries, MeterRegistry meters) {
    WebhookDispatcher dispatcher =
        new WebhookDispatcher(new WebhookClient(hooks.timeout(), Clock.systemUTC()));
    for (Webhooks.Target target : hooks.targets().values()) {
      Supplier<Consumer<String, byte[]>> reader =
          () ->
              new KafkaConsumer<>(
                  kafka.committedReader(
                      Map.of(
                          ConsumerConfig.GROUP_ID_CONFIG,
                          group(target.client()),
                          ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
                          MAX_POLL_RECORDS,
                          // Acknowledged chunks of one poll go out without a poll in between:
                          // room for each to take the whole timeout, and the log's write.
                          ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG,
                          (int)
                              Math.max(
                                  300_000L,
                                  (MAX_POLL_RECORDS / MAX_EVENTS + 1)
                                          * (hooks.timeout().toMillis() + 2_000)
                                      + 60_000))),
                  new StringDeserializer(),
                  new ByteArrayDeserializer());
      Feed feed = dispatcher.new Feed(target, reader, deliveries, hooks.maxBackoff(), meters);
      dispatcher.feeds.add(feed);
      feed.thread.start();
    }
    return dispatcher;
  }

  public static String group(String client) {
    return KafkaAcls.WEBHOOK_GROUPS + client;
  }

  /** The wait before attempt {@code attempt + 1}: doubling from 1 s, capped, with 20% jitter. */
  static Duration backoff(int attempt, Duration max) {
    long base = FIRST_RETRY.toMillis() << Math.min(attempt - 1, 20);
    long capped = Math.min(base, max.toMillis());
    double jitter = 0.8 + 0.2 * ThreadLocalRandom.current().nextDouble();
    return Duration.ofMillis(Math.max(1, (long) (capped * jitter)));
  }

  /** One event ready to go, and where it was read. */
  private record Ready(TopicPartition at, long offset, ResultEvent event, byte[] json) {}

  /** One client's deliveries, on a thread of their own. */
  private final class Feed implements ConsumerRebalanceListener {
    private final Webhooks.Target target;
    private final Supplier<Consumer<String, byte[]>> readers;
    private final DeliveryLog deliveries;
    private final Duration maxBackoff;
    private final Thread thread;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final CountDownLatch closing = new CountDownLatch(1);
    private final Counter acknowledged;
    private final Counter failed;
    private final Counter delivered;
    private final Counter lost;
    private volatile Consumer<String, byte[]> consumer;
    private volatile boolean closed;
    private volatile long failingSinceMillis;
    private boolean rebalanced;

    Feed(
        Webhooks.Target target,
        Supplier<Consumer<String, byte[]>> readers,
        DeliveryLog deliveries,
        Duration maxBackoff,
        MeterRegistry meters) {
      this.target = target;
      this.readers = readers;
      this.deliveries = deliveries;
      this.maxBackoff = maxBackoff;
      this.thread = new Thread(this::run, "webhooks-" + target.client());
      thread.setDaemon(true);
      String client = target.client();
      acknowledged =
          Counter.builder("txgw.webhook.attempts")
              .tag("client", client)
              .tag("outcome", "acknowledged")
              .register(meters);
      failed =
          Counter.builder("txgw.webhook.attempts")
              .tag("client", client)
              .tag("outcome", "failed")
              .register(meters);
      delivered =
          Counter.builder("txgw.webhook.events")
              .description("events a client's receiver acknowledged")
              .tag("client", client)
              .register(meters);
      lost =
          Counter.builder("txgw.webhook.records.lost")
              .description("results removed by retention before the client's receiver took them")
              .tag("client", client)
              .register(meters);
      Gauge.builder("txgw.webhook.failing.seconds", this, Feed::failingSeconds)
          .description("how long the client's current delivery has failed; 0 when it has not")
          .tag("client", client)
          .register(meters);
    }

    double failingSeconds() {
      long since = failingSinceMillis;
      return since == 0 ? 0 : (System.currentTimeMillis() - since) / 1000.0;
    }

    private void run() {
      try {
        while (!closed) {
          try {
            consumer = readers.get();
            if (closed) {
              break;
            }
            consumer.subscribe(List.of(Topics.RESULTS), this);
            follow();
          } catch (WakeupException e) {
            // Closing.
          } catch (RuntimeException e) {
            // Whatever it was, the feed starts again from what was acknowledged; until it
            // delivers, it counts as failing, so that the alert fires if it never does.
            if (failingSinceMillis == 0) {
              failingSinceMillis = System.currentTimeMillis();
            }
            log.error(
                "webhooks of {} stopped ({}); again in {} s from the last acknowledged event",
                target.client(),
                e.toString(),
                REOPEN_AFTER.toSeconds(),
                e);
          } finally {
            Consumer<String, byte[]> c = consumer;
            if (c != null) {
              try {
                c.close(Duration.ofSeconds(5));
              } catch (RuntimeException e) {
                log.debug("reader of {} not closed: {}", target.client(), e.toString());
              }
            }
          }
          if (!closed) {
            awaitStop(REOPEN_AFTER);
          }
        }
      } finally {
        stopped.countDown();
      }
    }

    private void awaitStop(Duration wait) {
      try {
        closing.await(wait.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private void follow() {
      while (!closed) {
        ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(500));
        if (rebalanced) {
          rewind();
          continue;
        }
        deliver(records);
        if (rebalanced) {
          rewind();
        }
      }
    }

    /**
     * After partitions moved: every partition read from its committed offset again, and anything
     * read but not acknowledged dropped (the partition's new owner, or this feed, sends it again).
     */
    private void rewind() {
      rebalanced = false;
      Set<TopicPartition> mine = consumer.assignment();
      consumer.resume(mine);
      if (mine.isEmpty()) {
        return;
      }
      Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(mine);
      Map<TopicPartition, Long> first = consumer.beginningOffsets(mine);
      for (TopicPartition tp : mine) {
        OffsetAndMetadata at = committed.get(tp);
        if (at == null) {
          consumer.seekToBeginning(List.of(tp));
          continue;
        }
        long kept = first.getOrDefault(tp, 0L);
        if (at.offset() < kept) {
          // The receiver acknowledged nothing for longer than the results are kept: what
          // retention removed is gone for every reader. Said loudly, and counted.
          log.error(
              "webhook of {}: events {}-{} to {} were removed by retention before they were"
                  + " acknowledged; GET /v1/events cannot serve them either",
              target.client(),
              tp.partition(),
              at.offset(),
              kept - 1);
          lost.increment(kept - at.offset());
          consumer.seek(tp, kept);
        } else {
          consumer.seek(tp, at.offset());
        }
      }
    }

    private void deliver(ConsumerRecords<String, byte[]> records) {
      if (records.isEmpty()) {
        return;
      }
      List<Ready> mine = new ArrayList<>();
      for (TopicPartition tp : records.partitions()) {
        for (ConsumerRecord<String, byte[]> r : records.records(tp)) {
          if (!ResultEvent.isOf(r.key(), target.client())) {
            continue;
          }
          PayoutResult result = EventLog.result(r).orElse(null);
          if (result == null || !result.clientId().equals(target.client())) {
            continue;
          }
          ResultEvent event = ResultEvent.of(r.partition(), r.offset(), result);
          mine.add(new Ready(tp, r.offset(), event, json(event)));
        }
      }
      int from = 0;
      while (from < mine.size()) {
        int to = from;
        int bytes = 0;
        while (to < mine.size()
            && to - from < MAX_EVENTS
            && (to == from || bytes + mine.get(to).json().length < MAX_BYTES)) {
          bytes += mine.get(to).json().length + 1;
          to++;
        }
        List<Ready> chunk = mine.subList(from, to);
        if (!untilAcknowledged(chunk) || !commit(acknowledged(chunk))) {
          return;
        }
        from = to;
      }
      // Past the other clients' events too, and past transaction markers.
      Map<TopicPartition, OffsetAndMetadata> read = new HashMap<>();
      for (TopicPartition tp : records.partitions()) {
        read.put(tp, new OffsetAndMetadata(consumer.position(tp)));
      }
      commit(read);
    }

    private Map<TopicPartition, OffsetAndMetadata> acknowledged(List<Ready> chunk) {
      Map<TopicPartition, OffsetAndMetadata> done = new HashMap<>();
      for (Ready r : chunk) {
        done.merge(
            r.at(),
            new OffsetAndMetadata(r.offset() + 1),
            (a, b) -> a.offset() >= b.offset() ? a : b);
      }
      return done;
    }

    private boolean commit(Map<TopicPartition, OffsetAndMetadata> offsets) {
      try {
        consumer.commitSync(offsets, Duration.ofSeconds(30));
        return true;
      } catch (org.apache.kafka.clients.consumer.CommitFailedException
          | org.apache.kafka.common.errors.RebalanceInProgressException e) {
        // The partitions moved: their new owner starts from the last commit, this one included
        // or not; at least once either way.
        rebalanced = true;
        return false;
      }
    }

    /**
     * Sends one delivery until the receiver acknowledges it.
     *
     * @return false when closing, or when the partitions moved while it waited
     */
    private boolean untilAcknowledged(List<Ready> chunk) {
      String id = WebhookClient.newDeliveryId();
      byte[] body = body(id, chunk);
      for (int attempt = 1; !closed; attempt++) {
        long start = System.nanoTime();
        WebhookClient.Answer answer = http.post(target, id, attempt, body);
        deliveries.write(
            new DeliveryLog.Attempt(
                target.client(),
                id,
                target.origin(),
                attempt,
                chunk.size(),
                chunk.get(0).event().id(),
                chunk.get(chunk.size() - 1).event().id(),
                answer.status(),
                answer.error(),
                Duration.ofNanos(System.nanoTime() - start).toMillis(),
                Instant.now()));
        if (answer.acknowledged()) {
          acknowledged.increment();
          delivered.increment(chunk.size());
          if (failingSinceMillis != 0) {
            log.info("webhook of {} acknowledges again", target.client());
            failingSinceMillis = 0;
          }
          return true;
        }
        failed.increment();
        if (failingSinceMillis == 0) {
          failingSinceMillis = System.currentTimeMillis();
        }
        if (Integer.bitCount(attempt) == 1) {
          // 1st, 2nd, 4th, 8th... failure of one delivery: the log tells without flooding.
          log.warn(
              "webhook of {} at {}: delivery {} failed, attempt {}: {}",
              target.client(),
              target.origin(),
              id,
              attempt,
              answer.error());
        }
        if (!pause(backoff(attempt, maxBackoff))) {
          return false;
        }
      }
      return false;
    }

    /**
     * Waits, still polling (partitions paused) so that the group keeps this member.
     *
     * @return false when closing or when the partitions moved meanwhile
     */
    private boolean pause(Duration wait) {
      Collection<TopicPartition> mine = consumer.assignment();
      consumer.pause(mine);
      long deadline = System.nanoTime() + wait.toNanos();
      try {
        while (!closed && !rebalanced) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            break;
          }
          consumer.poll(Duration.ofNanos(left));
        }
      } finally {
        consumer.resume(consumer.assignment());
      }
      return !closed && !rebalanced;
    }

    private byte[] body(String deliveryId, List<Ready> chunk) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      write(out, "{\"deliveryId\":" + quoted(deliveryId) + ",\"client\":");
      write(out, quoted(target.client()) + ",\"events\":[");
      for (int i = 0; i < chunk.size(); i++) {
        if (i > 0) {
          out.write(',');
        }
        out.writeBytes(chunk.get(i).json());
      }
      write(out, "]}");
      return out.toByteArray();
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      rebalanced = true;
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      rebalanced = true;
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      rebalanced = true;
    }

    void close() {
      closed = true;
      closing.countDown();
      Consumer<String, byte[]> c = consumer;
      if (c != null) {
        c.wakeup();
      }
    }
  }

  private static void write(ByteArrayOutputStream out, String text) {
    out.writeBytes(text.getBytes(StandardCharsets.UTF_8));
  }

  private static String quoted(String text) {
    try {
      return Json.mapper().writeValueAsString(text);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] json(ResultEvent event) {
    try {
      return Json.mapper().writeValueAsBytes(event);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    feeds.forEach(Feed::close);
    for (Feed feed : feeds) {
      try {
        if (!feed.stopped.await(20, TimeUnit.SECONDS)) {
          log.warn("webhooks of {} did not stop within 20 s", feed.target.client());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    http.close();
  }
}
