package io.txgw.consumer;

import java.io.Closeable;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices when this process was not running: a long GC pause, SIGSTOP, a suspended VM. A ticker
 * thread expects to run every {@code tick}; a gap of more than {@code tolerance} means the whole
 * process stood still, maybe long enough for its partitions to move to another consumer. It
 * measures the monotonic clock: this is about the process, not about business time.
 */
final class PauseDetector implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(PauseDetector.class);

  private final long toleranceNanos;
  private final long quarantineNanos;
  private final Thread ticker;
  private volatile long lastTick = System.nanoTime();
  private volatile long lastGap;
  private volatile boolean anyGap;
  private volatile boolean closed;

  /**
   * @param tolerance a gap longer than this is a pause
   * @param quarantine how long after a pause to broadcast nothing: longer than the group's session
   *     timeout plus a heartbeat, so that by then Kafka has told this consumer what it still owns
   */
  PauseDetector(Duration tick, Duration tolerance, Duration quarantine) {
    this.toleranceNanos = tolerance.toNanos();
    this.quarantineNanos = quarantine.toNanos();
    this.ticker =
        new Thread(
            () -> {
              while (!closed) {
                try {
                  Thread.sleep(tick.toMillis());
                } catch (InterruptedException e) {
                  return;
                }
                tick();
              }
            },
            "pause-detector");
    ticker.setDaemon(true);
  }

  PauseDetector start() {
    ticker.start();
    return this;
  }

  private void tick() {
    long now = System.nanoTime();
    if (now - lastTick > toleranceNanos) {
      lastGap = now;
      anyGap = true;
      log.warn(
          "process stood still for {} ms; no broadcast for {} s",
          (now - lastTick) / 1_000_000,
          quarantineNanos / 1_000_000_000);
    }
    lastTick = now;
  }

  /** True while a recent pause may have cost this process its partitions. */
  boolean quarantined() {
    long now = System.nanoTime();
    // The ticker may not have run yet after the pause: a stale tick is a pause too.
    return now - lastTick > toleranceNanos || (anyGap && now - lastGap < quarantineNanos);
  }

  @Override
  public void close() {
    closed = true;
    ticker.interrupt();
  }
}
