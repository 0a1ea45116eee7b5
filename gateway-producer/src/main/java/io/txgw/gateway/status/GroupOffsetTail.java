package io.txgw.gateway.status;

import io.txgw.common.kafka.GroupOffsets;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.TailProbe;
import io.txgw.common.kafka.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells when the view's application has read the batches topic past its end as of a request: one
 * thread, taking the end for every request waiting, then polling the application's offsets.
 *
 * <p>The application's committed offset stops short of what follows its last record: commit
 * markers, and aborted transactions (such as the one whose fate is asked). Between that offset and
 * the end, a read_committed consumer is read until it returns a record (the application has not
 * read it yet) or passes the end (nothing but markers and aborted records was left).
 */
final class GroupOffsetTail implements ViewTail {
  private static final Logger log = LoggerFactory.getLogger(GroupOffsetTail.class);
  private static final long POLL_MS = 250;
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final Duration PROBE = Duration.ofMillis(500);

  private final KafkaConnection kafka;
  private final String applicationId;
  private final BlockingQueue<CompletableFuture<Void>> waiting = new LinkedBlockingQueue<>();
  private final Thread thread;
  private volatile boolean closed;

  GroupOffsetTail(KafkaConnection kafka, String applicationId) {
    this.kafka = kafka;
    this.applicationId = applicationId;
    this.thread = new Thread(this::run, "status-view-tail");
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  @Override
  public CompletableFuture<Void> readPastEnd() {
    CompletableFuture<Void> reached = new CompletableFuture<>();
    waiting.add(reached);
    return reached;
  }

  private void run() {
    try (Admin admin = Admin.create(kafka.clientProperties());
        KafkaConsumer<byte[], byte[]> probe = probe()) {
      List<CompletableFuture<Void>> round = new ArrayList<>();
      while (!closed) {
        if (round.isEmpty()) {
          CompletableFuture<Void> first = waiting.poll(POLL_MS, TimeUnit.MILLISECONDS);
          if (first == null) {
            continue;
          }
          round.add(first);
          waiting.drainTo(round);
        }
        try {
          // Ends taken after every request of the round was made: past what each asks for.
          Map<TopicPartition, Long> ends = ends(admin);
          while (!closed && !reached(admin, probe, ends)) {
            TimeUnit.MILLISECONDS.sleep(POLL_MS);
          }
          if (!closed) {
            round.forEach(f -> f.complete(null));
            round.clear();
          }
        } catch (RuntimeException e) {
          // The round is tried again with later ends, which are past what it asks for too.
          log.warn("cannot tell how far the status view has read yet: {}", e.toString());
          TimeUnit.MILLISECONDS.sleep(POLL_MS);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private KafkaConsumer<byte[], byte[]> probe() {
    return TailProbe.oneRecordReader(kafka);
  }

  /** True once the application has read every committed record before {@code ends}. */
  private boolean reached(
      Admin admin, KafkaConsumer<byte[], byte[]> probe, Map<TopicPartition, Long> ends)
      throws InterruptedException {
    Map<TopicPartition, Long> committed;
    try {
      committed = GroupOffsets.committed(admin, applicationId, TIMEOUT);
    } catch (ExecutionException | TimeoutException e) {
      log.debug("view offsets not read yet: {}", e.toString());
      return false;
    }
    for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
      TopicPartition tp = end.getKey();
      long from = committed.getOrDefault(tp, 0L);
      if (from < end.getValue() && !onlyMarkers(probe, tp, from, end.getValue())) {
        return false;
      }
    }
    return true;
  }

  /** No committed record from {@code from} to {@code end}; false too when not known in time. */
  private static boolean onlyMarkers(
      KafkaConsumer<byte[], byte[]> probe, TopicPartition tp, long from, long end) {
    probe.assign(List.of(tp));
    probe.seek(tp, from);
    long deadline = System.nanoTime() + PROBE.toNanos();
    while (System.nanoTime() < deadline) {
      if (!probe.poll(Duration.ofMillis(100)).isEmpty()) {
        return false;
      }
      if (probe.position(tp) >= end) {
        return true;
      }
    }
    return false;
  }

  private Map<TopicPartition, Long> ends(Admin admin) throws InterruptedException {
    while (!closed) {
      try {
        return ViewOffsets.highWatermarks(admin, Topics.BATCHES);
      } catch (ExecutionException | TimeoutException e) {
        log.debug("end offsets of {} not read yet: {}", Topics.BATCHES, e.toString());
        TimeUnit.MILLISECONDS.sleep(POLL_MS);
      }
    }
    return Map.of();
  }

  @Override
  public void close() {
    // Not interrupted: the Kafka clients answer an interrupt with an exception of their own. The
    // thread sees the flag within a poll, or an admin call's timeout.
    closed = true;
  }
}
