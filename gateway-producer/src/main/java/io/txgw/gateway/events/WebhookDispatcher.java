package io.txgw.gateway.events;

import io.micrometer.core.instrument.MeterRegistry;
import io.txgw.common.kafka.KafkaAcls;
import io.txgw.common.kafka.KafkaConnection;
import java.io.Closeable;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
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

  private final List<WebhookFeed> feeds = new ArrayList<>();
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
      WebhookFeed feed =
          new WebhookFeed(dispatcher.http, target, reader, deliveries, hooks.maxBackoff(), meters);
      dispatcher.feeds.add(feed);
      feed.start();
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

  @Override
  public void close() {
    feeds.forEach(WebhookFeed::close);
    for (WebhookFeed feed : feeds) {
      try {
        if (!feed.awaitStopped(Duration.ofSeconds(20))) {
          log.warn("webhooks of {} did not stop within 20 s", feed.client());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    http.close();
  }
}
