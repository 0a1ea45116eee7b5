package io.txgw.gateway.events;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.txgw.common.json.Json;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.PayoutResult;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client's webhook deliveries, on a thread of their own: see {@link WebhookDispatcher} for what
 * they promise.
 */
final class WebhookFeed implements ConsumerRebalanceListener {
  private static final Logger log = LoggerFactory.getLogger(WebhookFeed.class);

  private final WebhookClient http;
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

  WebhookFeed(
      WebhookClient http,
      Webhooks.Target target,
      Supplier<Consumer<String, byte[]>> readers,
      DeliveryLog deliveries,
      Duration maxBackoff,
      MeterRegistry meters) {
    this.http = http;
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
    Gauge.builder("txgw.webhook.failing.seconds", this, WebhookFeed::failingSeconds)
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
              WebhookDispatcher.REOPEN_AFTER.toSeconds(),
              e);
        } finally {
          Consumer<String, byte[]> c = consumer;
          if (c != null) {
            try {
              c.close(CloseOptions.timeout(Duration.ofSeconds(5)));
            } catch (RuntimeException e) {
              log.debug("reader of {} not closed: {}", target.client(), e.toString());
            }
          }
        }
        if (!closed) {
          awaitStop(WebhookDispatcher.REOPEN_AFTER);
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
   * After partitions moved: every partition read from its committed offset again, and anything read
   * but not acknowledged dropped (the partition's new owner, or this feed, sends it again).
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
          && to - from < WebhookDispatcher.MAX_EVENTS
          && (to == from || bytes + mine.get(to).json().length < WebhookDispatcher.MAX_BYTES)) {
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
      if (!pause(WebhookDispatcher.backoff(attempt, maxBackoff))) {
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

  void start() {
    thread.start();
  }

  String client() {
    return target.client();
  }

  /** Waits for the feed's thread to end after {@link #close}; false when it did not in time. */
  boolean awaitStopped(Duration wait) throws InterruptedException {
    return stopped.await(wait.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** One event ready to go, and where it was read. */
  private record Ready(TopicPartition at, long offset, ResultEvent event, byte[] json) {}

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
}
