package io.txgw.gateway.monitor;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.txgw.common.concurrent.Daemons;
import io.txgw.common.kafka.GroupOffsets;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.TailProbe;
import io.txgw.common.kafka.Topics;
import java.io.Closeable;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The payout consumers' lag on {@code sendto}, read from Kafka every second: what backpressure, the
 * lag gauges and the dashboard go by. Read from the group's committed offsets rather than from the
 * consumers, so that it is there when every consumer is down.
 */
public final class ConsumerLagWatch implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(ConsumerLagWatch.class);
  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private static final int HISTORY = 300;
  private static final Duration PROBE_TIMEOUT = Duration.ofMillis(500);

  /** One reading: lag per partition, the group's members, and how fast the lag is worked off. */
  public record Reading(
      Instant at, Map<Integer, Long> lagByPartition, int members, double consumedPerSecond) {
    public long total() {
      return lagByPartition.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  private final Admin admin;
  private final TailProbe probe;
  private final String group;
  private final Clock clock;
  private final MeterRegistry meters;
  private final ScheduledExecutorService executor =
      Executors.newSingleThreadScheduledExecutor(Daemons.named("consumer-lag"));
  private final History<Reading> history = new History<>(HISTORY);
  private final Map<Integer, Long> gauges = new ConcurrentHashMap<>();
  private volatile Reading latest;
  private volatile int members = -1;
  private Map<TopicPartition, Long> lastCommitted;
  private Instant lastAt;

  public ConsumerLagWatch(KafkaConnection kafka, String group, Clock clock, MeterRegistry meters) {
    this.admin =
        Admin.create(
            kafka.clientProperties(
                Map.of(
                    AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
                    (int) TIMEOUT.toMillis(),
                    AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                    (int) TIMEOUT.toMillis())));
    this.probe = new TailProbe(kafka);
    this.group = group;
    this.clock = clock;
    this.meters = meters;
    Gauge.builder("txgw.consumer.group.members", this, w -> w.members)
        .description("members of the payout consumer group; -1 until read")
        .tag("group", group)
        .register(meters);
  }

  public ConsumerLagWatch start(Duration every) {
    executor.scheduleWithFixedDelay(this::read, 0, every.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  /** The latest reading, or null before the first one succeeded. */
  public Reading latest() {
    return latest;
  }

  /** Readings of the last minutes, oldest first. */
  public List<Reading> history() {
    return history.list();
  }

  private void read() {
    try {
      Map<TopicPartition, Long> ends = GroupOffsets.ends(admin, Set.of(Topics.SENDTO), TIMEOUT);
      Map<TopicPartition, Long> committed = GroupOffsets.committed(admin, group, TIMEOUT);
      members =
          admin
              .describeConsumerGroups(List.of(group))
              .all()
              .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
              .get(group)
              .members()
              .size();
      Instant now = clock.instant();
      Map<Integer, Long> lag = new TreeMap<>();
      probe.lag(ends, committed, PROBE_TIMEOUT).forEach((tp, n) -> lag.put(tp.partition(), n));
      Reading reading = new Reading(now, Map.copyOf(lag), members, rate(committed, now));
      lag.forEach(this::gauge);
      latest = reading;
      history.add(reading);
    } catch (ExecutionException | TimeoutException e) {
      log.debug("consumer lag not read: {}", e.toString());
    } catch (InterruptedException | org.apache.kafka.common.errors.InterruptException e) {
      // Closing: the reading stops here.
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      log.warn("consumer lag not read", e);
    }
  }

  /** Offsets committed per second since the previous reading: the rate the lag drains at. */
  private double rate(Map<TopicPartition, Long> committed, Instant now) {
    double rate = 0;
    if (lastCommitted != null) {
      long moved = 0;
      for (Map.Entry<TopicPartition, Long> e : committed.entrySet()) {
        moved += Math.max(0, e.getValue() - lastCommitted.getOrDefault(e.getKey(), e.getValue()));
      }
      double seconds = Duration.between(lastAt, now).toMillis() / 1000.0;
      rate = seconds > 0 ? moved / seconds : 0;
    }
    lastCommitted = committed;
    lastAt = now;
    return rate;
  }

  private void gauge(int partition, long lag) {
    if (gauges.put(partition, lag) == null) {
      Gauge.builder("txgw.consumer.lag.records", gauges, g -> g.getOrDefault(partition, 0L))
          .description("payouts in sendto the consumer group has not committed, per partition")
          .tags("group", group, "partition", Integer.toString(partition))
          .register(meters);
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
    try {
      // The probe is not thread-safe: close it once the reading thread is gone.
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    probe.close();
    admin.close(Duration.ofSeconds(5));
  }
}
