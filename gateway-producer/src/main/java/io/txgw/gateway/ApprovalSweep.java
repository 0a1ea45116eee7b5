package io.txgw.gateway;

import io.txgw.gateway.approval.ApprovalBook;
import io.txgw.gateway.approval.ApprovalState;
import java.io.Closeable;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the approvals need without a caller: holds past their wait are expired, and the writes of
 * approved batches whose claim lapsed without an outcome are taken over. Every gateway sweeps; of
 * the records several write at once only the first that may count does.
 */
final class ApprovalSweep implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(ApprovalSweep.class);

  private final ApprovalBook book;
  private final ApprovedWrites writes;
  private final Clock clock;
  private final BooleanSupplier ready;

  private final ScheduledExecutorService sweeper =
      Executors.newSingleThreadScheduledExecutor(
          task -> {
            Thread t = new Thread(task, "approvals-sweep");
            t.setDaemon(true);
            return t;
          });

  ApprovalSweep(ApprovalBook book, ApprovedWrites writes, Clock clock, BooleanSupplier ready) {
    this.book = book;
    this.writes = writes;
    this.clock = clock;
    this.ready = ready;
  }

  void start(Duration every) {
    sweeper.scheduleWithFixedDelay(
        this::sweepSafely, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void sweepSafely() {
    try {
      sweep();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      log.warn("approvals sweep: {}", e.toString());
    }
  }

  /**
   * Expires overdue holds and takes over the writes of approved batches whose claim has lapsed
   * without an outcome (a gateway stopped between approval and write, or its write is in doubt).
   * Every gateway sweeps: of its records only the first that may count does.
   */
  void sweep() throws InterruptedException {
    if (!ready.getAsBoolean()) {
      return;
    }
    int open = 0;
    for (ApprovalState s : book.open()) {
      Instant now = clock.instant();
      try {
        if (s.overdue(now)) {
          writes.expire(s);
        } else if (s.writeOpen()) {
          open++;
          // The log's time against this clock: a little late rather than early.
          if (now.isAfter(s.write().lapsesAt().plus(s.write().lease().dividedBy(6)))) {
            ApprovalDesk.Decision d =
                writes.writtenOrRefused(s).isPresent() ? null : writes.takeOver(s);
            if (d != null) {
              log.info("batch {}/{}: write taken over: {}", s.clientId(), s.batchId(), describe(d));
            }
          }
        }
      } catch (RuntimeException e) {
        log.warn("approvals sweep, batch {}/{}: {}", s.clientId(), s.batchId(), e.toString());
      }
    }
    openWrites = open;
  }

  private volatile int openWrites;

  /** Approved batches whose write has no outcome yet, as of the last sweep: for an alert. */
  public int openWrites() {
    return openWrites;
  }

  private static String describe(ApprovalDesk.Decision d) {
    return d instanceof ApprovalDesk.Decision.Done done && done.written() != null
        ? done.written().getClass().getSimpleName()
        : d.getClass().getSimpleName();
  }

  @Override
  public void close() {
    sweeper.shutdownNow();
  }
}
