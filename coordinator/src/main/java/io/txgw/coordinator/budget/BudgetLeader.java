package io.txgw.coordinator.budget;

import io.txgw.common.budget.BudgetSnapshot;
import io.txgw.common.budget.BudgetTable;
import io.txgw.common.budget.MemberReport;
import io.txgw.common.budget.Share;
import io.txgw.common.concurrent.Daemons;
import io.txgw.common.json.Json;
import io.txgw.coordinator.nodes.NodeRegistry;
import io.txgw.coordinator.nodes.NodeSpec;
import java.io.Closeable;
import java.io.IOException;
import java.time.Clock;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every consumer runs one; the one holding the {@link LeaderLatch} divides each registered node's
 * limits among the live members by backlog and publishes the result under {@code
 * /txgw/budgets/<chain>/<node>}. It recomputes several times a second and writes only when the
 * members, the limits or a share changed noticeably, so a dead consumer's share moves as soon as
 * its ephemeral membership node is gone.
 */
public final class BudgetLeader implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(BudgetLeader.class);
  public static final String LATCH = "/txgw/budget-leader";
  public static final String ROOT = BudgetSnapshot.BUDGETS;

  /**
   * A share that moved less than this fraction (or less than 1% of the node's limit) is not
   * republished, to spare ZooKeeper writes and keep shares from flapping.
   */
  private static final double SIGNIFICANT = 0.10;

  private static final long REFRESH_MILLIS = 10_000;

  private final CuratorFramework client;
  private final NodeRegistry registry;
  private final Supplier<Map<String, String>> members;
  private final String id;
  private final Clock clock;
  private final LeaderLatch latch;
  private final ScheduledExecutorService timer;
  private final Map<String, BudgetTable> published = new HashMap<>();

  /**
   * Per node, the tables published in the last {@link #RECENT_MILLIS} and the one in force: a
   * consumer's calls of the last second were let go under any of them.
   */
  private final Map<String, java.util.ArrayDeque<BudgetTable>> recent = new HashMap<>();

  /**
   * When this leader took over; -1 while it does not lead. For a window after that, the tables its
   * predecessor published are not known: no share grows.
   */
  private long leadingSince = -1;

  /** A consumer's one-second window, with time for a table to reach it through a watch. */
  static final long RECENT_MILLIS = 1_200;

  /**
   * @param members live member id to its {@link MemberReport} JSON, from the membership cache
   */
  public BudgetLeader(
      CuratorFramework client,
      NodeRegistry registry,
      Supplier<Map<String, String>> members,
      String id,
      Clock clock) {
    this.client = client;
    this.registry = registry;
    this.members = members;
    this.id = id;
    this.clock = clock;
    this.latch = new LeaderLatch(client, LATCH, id);
    this.timer = Executors.newSingleThreadScheduledExecutor(Daemons.named("budget-leader-" + id));
  }

  public BudgetLeader start(long periodMillis) throws Exception {
    latch.start();
    timer.scheduleWithFixedDelay(this::tick, 0, periodMillis, TimeUnit.MILLISECONDS);
    return this;
  }

  public boolean isLeader() {
    return latch.hasLeadership();
  }

  private void tick() {
    if (!latch.hasLeadership()) {
      published.clear();
      recent.clear();
      leadingSince = -1;
      return;
    }
    if (leadingSince < 0) {
      leadingSince = clock.millis();
    }
    try {
      publish();
    } catch (Exception e) {
      // The next tick tries again; the consumers keep the last published shares meanwhile.
      log.warn("budget leader {}: cannot publish budgets: {}", id, e.toString());
    }
  }

  private void publish() throws Exception {
    Map<String, Long> backlogs = new TreeMap<>();
    Map<String, MemberReport> reports = new TreeMap<>();
    members
        .get()
        .forEach(
            (member, payload) -> {
              MemberReport report = parse(payload);
              backlogs.put(member, report == null ? 0 : report.backlog());
              if (report != null) {
                reports.put(member, report);
              }
            });
    Set<String> live = new HashSet<>();
    for (NodeSpec node : registry.all()) {
      String key = node.chain().name() + "/" + node.name();
      live.add(key);
      Map<String, MemberReport.NodeUse> use = new TreeMap<>();
      reports.forEach(
          (member, report) -> {
            MemberReport.NodeUse u = report.nodes().get(key);
            if (u != null) {
              use.put(member, u);
            }
          });
      Map<String, Double> held = recentMax(key);
      java.util.ArrayDeque<BudgetTable> counted = recent.get(key);
      held = acknowledged(held, counted == null ? null : counted.peekLast(), use);
      double limit = node.maxRequestsPerSecond();
      if (!held.isEmpty() && clock.millis() < leadingSince + RECENT_MILLIS) {
        // Only the table in force is known of the last second: nothing more is handed out yet.
        limit = Math.min(limit, held.values().stream().mapToDouble(Double::doubleValue).sum());
      }
      Map<String, Share> shares =
          ShareCalculator.phased(
              ShareCalculator.divide(
                  node.maxRequestsPerSecond(), node.maxInFlight(), backlogs, use),
              held,
              limit);
      BudgetTable previous = published.get(key);
      if (previous != null && !changed(previous, node, shares)) {
        continue;
      }
      BudgetTable table =
          new BudgetTable(
              node.chain(),
              node.name(),
              id,
              clock.millis(),
              node.maxRequestsPerSecond(),
              node.maxInFlight(),
              shares);
      byte[] data = Json.mapper().writeValueAsBytes(table);
      // Leadership may have moved while computing; a stale leader must not overwrite.
      if (!latch.hasLeadership()) {
        return;
      }
      // Counted before it is written: a write whose answer is lost may still be in force.
      recent.computeIfAbsent(key, k -> new java.util.ArrayDeque<>()).addLast(table);
      String path = ROOT + "/" + key;
      try {
        client.setData().forPath(path, data);
      } catch (KeeperException.NoNodeException e) {
        client.create().creatingParentsIfNeeded().forPath(path, data);
      }
      published.put(key, table);
      log.debug("table for {}: backlogs {}, held {}, shares {}", key, backlogs, held, shares);
      if (previous == null || !previous.shares().keySet().equals(shares.keySet())) {
        log.info("budget for {}: {} among {}", key, node.maxRequestsPerSecond(), shares);
      }
    }
    for (String gone : Set.copyOf(published.keySet())) {
      if (!live.contains(gone)) {
        published.remove(gone);
        recent.remove(gone);
        try {
          client.delete().forPath(ROOT + "/" + gone);
        } catch (KeeperException.NoNodeException e) {
          // already gone
        }
      }
    }
  }

  /**
   * Each member's largest share in the node's tables of the last {@link #RECENT_MILLIS} and the one
   * in force; older tables are dropped. Bounded by the tables one window holds.
   */
  private Map<String, Double> recentMax(String key) throws Exception {
    java.util.ArrayDeque<BudgetTable> tables = recent.get(key);
    Map<String, Double> max = new TreeMap<>();
    if (tables == null) {
      // New to leading this node: the table a former leader left in force counts as recent.
      BudgetTable inForce = readTable(key);
      if (inForce == null) {
        return max;
      }
      tables = new java.util.ArrayDeque<>();
      tables.add(inForce);
      recent.put(key, tables);
    }
    long from = clock.millis() - RECENT_MILLIS;
    // A table counts while it was in force at any time in the window: until its successor is
    // older than the window.
    while (tables.size() > 1) {
      BudgetTable first = tables.removeFirst();
      if (tables.peekFirst().computedAtMillis() >= from) {
        tables.addFirst(first);
        break;
      }
    }
    for (BudgetTable t : tables) {
      t.shares()
          .forEach((member, share) -> max.merge(member, share.requestsPerSecond(), Math::max));
    }
    return max;
  }

  /**
   * {@code held}, with each member that reports the newest table counted ({@code inForce}, written
   * or maybe written) as applied counted at what it can still start in any second from now on: the
   * larger of the calls it started in the second before its report and its share in that table
   * (that share no higher than its largest recent one). Its limiter starts no call while its count
   * of the last second is at its share, so its larger shares of the last second no longer matter,
   * and no newer table can raise it. Members that have not reported that table keep their largest
   * recent share.
   */
  static Map<String, Double> acknowledged(
      Map<String, Double> held, BudgetTable inForce, Map<String, MemberReport.NodeUse> use) {
    if (inForce == null) {
      return held;
    }
    Map<String, Double> tightened = new TreeMap<>(held);
    for (Map.Entry<String, Double> e : held.entrySet()) {
      MemberReport.NodeUse u = use.get(e.getKey());
      Share share = inForce.shares().get(e.getKey());
      if (u == null
          || share == null
          || u.tableAt() != inForce.computedAtMillis()
          || u.windowCalls() < 0) {
        continue;
      }
      // A share under one call a second still lets one call a second through; and what it was
      // seen to start is never counted away.
      tightened.put(
          e.getKey(),
          Math.max(
              u.windowCalls(), Math.min(e.getValue(), Math.max(1, share.requestsPerSecond()))));
    }
    return tightened;
  }

  private boolean changed(BudgetTable previous, NodeSpec node, Map<String, Share> shares) {
    if (previous.maxRequestsPerSecond() != node.maxRequestsPerSecond()
        || previous.maxInFlight() != node.maxInFlight()
        || !previous.shares().keySet().equals(shares.keySet())
        || clock.millis() - previous.computedAtMillis() > REFRESH_MILLIS) {
      return true;
    }
    for (Map.Entry<String, Share> e : shares.entrySet()) {
      Share before = previous.shares().get(e.getKey());
      double a = before.requestsPerSecond();
      double b = e.getValue().requestsPerSecond();
      boolean moved =
          Math.abs(a - b) > SIGNIFICANT * Math.max(a, b)
              && Math.abs(a - b) > 0.01 * node.maxRequestsPerSecond();
      // From nothing to something is always news: a consumer without a share makes no call.
      boolean started = a == 0 && b > 0;
      if (before.inFlight() != e.getValue().inFlight() || moved || started) {
        return true;
      }
    }
    return false;
  }

  /**
   * The node's table as ZooKeeper holds it, or null when there is none; a read that fails throws,
   * and the tick publishes nothing rather than a table that ignores the one in force.
   */
  private BudgetTable readTable(String key) throws Exception {
    try {
      return Json.mapper().readValue(client.getData().forPath(ROOT + "/" + key), BudgetTable.class);
    } catch (KeeperException.NoNodeException e) {
      return null;
    }
  }

  private static MemberReport parse(String payload) {
    try {
      return Json.mapper().readValue(payload, MemberReport.class);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    try {
      latch.close();
    } catch (IOException | IllegalStateException e) {
      log.debug("leader latch already closed: {}", e.toString());
    }
  }
}
