package io.txgw.gateway.monitor;

import io.txgw.common.concurrent.Daemons;
import io.txgw.coordinator.budget.BudgetSnapshot;
import io.txgw.coordinator.zk.ZkClients;
import java.io.Closeable;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each node's request budget against the rate the consumers call it at, read from ZooKeeper (the
 * budgets the leader publishes and the consumers' reports), for the dashboard.
 */
public final class NodeUseWatch implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(NodeUseWatch.class);
  private static final int HISTORY = 300;

  /** One reading of every node. */
  public record Reading(Instant at, List<BudgetSnapshot.NodeUse> nodes) {}

  private final CuratorFramework client;
  private final Clock clock;
  private final ScheduledExecutorService executor =
      Executors.newSingleThreadScheduledExecutor(Daemons.named("node-use"));
  private final History<Reading> history = new History<>(HISTORY);

  public NodeUseWatch(ZkClients zookeeper, Clock clock) {
    this.client = zookeeper.newClient(15_000, 5_000, new ExponentialBackoffRetry(200, 3));
    this.clock = clock;
  }

  public NodeUseWatch start(Duration every) {
    client.start();
    executor.scheduleWithFixedDelay(this::read, 0, every.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  public List<Reading> history() {
    return history.list();
  }

  private void read() {
    try {
      Reading reading = new Reading(clock.instant(), BudgetSnapshot.read(client).nodeUse());
      history.add(reading);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.debug("node budgets not read: {}", e.toString());
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
    client.close();
  }
}
