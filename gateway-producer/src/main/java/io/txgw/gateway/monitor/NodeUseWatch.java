package io.txgw.gateway.monitor;

import io.txgw.common.budget.BudgetSnapshot;
import io.txgw.common.concurrent.Daemons;
import io.txgw.common.config.Secret;
import java.io.Closeable;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each node's request budget against the rate the consumers call it at, read from ZooKeeper (the
 * budgets the leader publishes and the consumers' reports), for the dashboard.
 */
public final class NodeUseWatch implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(NodeUseWatch.class);
  private static final int HISTORY = 300;
  // Budgets unread this long is a misconfiguration or an outage, not a reconnect: said once.
  private static final Duration UNREAD_WARNING = Duration.ofSeconds(30);

  /** One reading of every node. */
  public record Reading(Instant at, List<BudgetSnapshot.NodeUse> nodes) {}

  private final ZooKeeperReader zooKeeper;
  private final Clock clock;
  private final ScheduledExecutorService executor =
      Executors.newSingleThreadScheduledExecutor(Daemons.named("node-use"));
  private final History<Reading> history = new History<>(HISTORY);
  // Read and written on the executor's one thread only.
  private Instant lastRead;
  private boolean warned;

  /**
   * @param connectString the ensemble the consumers coordinate through
   * @param auth txgw's ZooKeeper identity, which alone may read its znodes; null when they are open
   */
  public NodeUseWatch(String connectString, Secret auth, Clock clock) {
    this.zooKeeper = new ZooKeeperReader(new ZooKeeperReader.Target(connectString, auth), 15_000);
    this.clock = clock;
    this.lastRead = clock.instant();
    if (auth == null) {
      log.warn(
          "ZooKeeper used without authentication (TXGW_ZK_AUTH unset): the node budgets are read"
              + " only where txgw's znodes are world-readable");
    }
  }

  public NodeUseWatch start(Duration every) {
    executor.scheduleWithFixedDelay(this::read, 0, every.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  public List<Reading> history() {
    return history.list();
  }

  private void read() {
    try {
      Reading reading = new Reading(clock.instant(), BudgetSnapshot.read(zooKeeper).nodeUse());
      history.add(reading);
      lastRead = reading.at();
      if (warned) {
        log.info("node budgets read from ZooKeeper again");
        warned = false;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      // The message names the path and the failure (connection loss, NoAuth), never the identity.
      if (!warned && !clock.instant().isBefore(lastRead.plus(UNREAD_WARNING))) {
        log.warn(
            "node budgets not read from ZooKeeper for {} s: {}",
            Duration.between(lastRead, clock.instant()).toSeconds(),
            e.toString());
        warned = true;
      } else {
        log.debug("node budgets not read: {}", e.toString());
      }
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
    try {
      // The interrupt ends a read waiting on ZooKeeper; the reader, once closed below, opens no
      // session for one that was not.
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    zooKeeper.close();
  }
}
