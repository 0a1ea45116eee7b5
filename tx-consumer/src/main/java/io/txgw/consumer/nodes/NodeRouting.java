package io.txgw.consumer.nodes;

import io.micrometer.core.instrument.MeterRegistry;
import io.txgw.common.budget.MemberReport;
import io.txgw.common.budget.Share;
import io.txgw.common.model.Chain;
import io.txgw.coordinator.Membership;
import io.txgw.coordinator.budget.BudgetLeader;
import io.txgw.coordinator.budget.Budgets;
import io.txgw.coordinator.control.Controls;
import io.txgw.coordinator.nodes.NodeRegistry;
import io.txgw.coordinator.nodes.NodeSpec;
import io.txgw.coordinator.nodes.NodeUrls;
import java.io.Closeable;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import okhttp3.OkHttpClient;
import org.apache.curator.framework.state.ConnectionState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which node each chain's calls go to and how fast: the node registry, the budget shares and the
 * pause switches from ZooKeeper, applied live to one {@link NodePool} per chain. Every consumer
 * also takes part in electing the budget leader.
 *
 * <p>Cut off from ZooKeeper, a consumer keeps its last shares while its session may still be alive
 * (SUSPENDED). Once the session is LOST the leader has given its shares to the others, so it holds
 * none until it is counted in again: the node's limit is never exceeded because coordination
 * failed. A chain without registered nodes uses the node from the environment, unbudgeted.
 */
public final class NodeRouting implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(NodeRouting.class);

  /** How a pool is built; the same for every chain of this consumer. */
  public record Settings(
      OkHttpClient http,
      Duration timeout,
      long maxLag,
      Duration maxWait,
      Duration healthInterval,
      Credentials credentials,
      MeterRegistry meters) {}

  private final String memberId;
  private final Settings settings;
  private final Membership membership;
  private final Map<Chain, NodePool> pools = new EnumMap<>(Chain.class);
  private final List<Closeable> parts = new ArrayList<>();
  private NodeRegistry registry;
  private Budgets budgets;
  private Controls controls;
  private volatile boolean cutOff;

  /**
   * @param membership null to run without ZooKeeper: environment nodes only, no budgets, no pause
   */
  public NodeRouting(String memberId, Membership membership, Settings settings) {
    this.memberId = memberId;
    this.membership = membership;
    this.settings = settings;
  }

  /**
   * Starts watching ZooKeeper and builds a pool per chain that has registered nodes or a node in
   * {@code fallback}.
   *
   * @param fallback per chain, the node from the environment with its limits, used alone when the
   *     registry has no node of that chain
   */
  public NodeRouting start(Map<Chain, NodeSpec> fallback) throws Exception {
    Map<Chain, List<NodeSpec>> registered = new EnumMap<>(Chain.class);
    if (membership != null) {
      var client = membership.client();
      registry = keep(new NodeRegistry(client));
      budgets = keep(new Budgets(client));
      controls = keep(new Controls(client));
      for (NodeSpec spec : registry.readAll()) {
        registered.computeIfAbsent(spec.chain(), c -> new ArrayList<>()).add(spec);
      }
      client.getConnectionStateListenable().addListener((c, state) -> connectionChanged(state));
      budgets.onChange(this::refreshShares);
      budgets.start();
      controls.watch();
      keep(new BudgetLeader(client, registry, membership::members, memberId, Clock.systemUTC()))
          .start(250);
    }
    for (Chain chain : Chain.values()) {
      List<NodeSpec> nodes = registered.get(chain);
      if (nodes != null) {
        pools.put(
            chain,
            keep(pool(chain, node -> budgetedShare(chain, node), settings.credentials()))
                .start(settings.healthInterval()));
        pools.get(chain).update(nodes);
        log.info("{}: {} registered node(s), budgets from ZooKeeper", chain, nodes.size());
      } else if (fallback.containsKey(chain)) {
        NodeSpec only = fallback.get(chain);
        NodePool.Grant whole =
            new NodePool.Grant(new Share(only.maxRequestsPerSecond(), only.maxInFlight()), 0);
        NodePool pool =
            keep(pool(chain, name -> whole, settings.credentials().forEnvironmentNodes()));
        pool.update(List.of(only));
        pools.put(chain, pool.start(settings.healthInterval()));
        log.info(
            "{}: node {} from the environment (not in the registry, not budgeted)",
            chain,
            NodeUrls.shown(only.url()));
      }
    }
    if (registry != null) {
      registry.onChange(
          () -> {
            for (Map.Entry<Chain, NodePool> e : pools.entrySet()) {
              // An environment node stays alone: only budgeted pools follow the registry.
              if (registered.containsKey(e.getKey())) {
                e.getValue().update(registry.nodes(e.getKey()).values());
              }
            }
          });
      registry.watch();
    }
    return this;
  }

  /**
   * @param shareOf this consumer's share of a node of the chain, by node name
   */
  private NodePool pool(
      Chain chain, Function<String, NodePool.Grant> shareOf, Credentials credentials) {
    return new NodePool(
        chain,
        memberId,
        settings.http(),
        settings.timeout(),
        settings.maxLag(),
        credentials,
        () -> controls != null && controls.isPaused(chain),
        shareOf,
        settings.maxWait(),
        settings.meters());
  }

  /** This member's share of the node and its table's time, from one read of the table. */
  private NodePool.Grant budgetedShare(Chain chain, String node) {
    if (cutOff) {
      return new NodePool.Grant(Share.NONE, 0);
    }
    return budgets
        .table(chain, node)
        .map(
            t -> {
              Share share = t.shares().get(memberId);
              return share == null
                  ? new NodePool.Grant(Share.NONE, 0)
                  : new NodePool.Grant(share, t.computedAtMillis());
            })
        .orElse(new NodePool.Grant(Share.NONE, 0));
  }

  private void connectionChanged(ConnectionState state) {
    if (state == ConnectionState.LOST) {
      log.warn("ZooKeeper session lost: holding no share of any node until counted in again");
      cutOff = true;
    } else if (state == ConnectionState.SUSPENDED) {
      log.warn("ZooKeeper unreachable: keeping the last shares while the session may live");
    } else if (state.isConnected()) {
      cutOff = false;
    }
    refreshShares();
  }

  private void refreshShares() {
    boolean applied = false;
    for (NodePool pool : pools.values()) {
      applied |= pool.refreshShares();
    }
    if (applied) {
      sharesApplied.run();
    }
  }

  private volatile Runnable sharesApplied = () -> {};

  /**
   * Runs {@code report} on Curator's thread each time shares of a new table are in force: the
   * leader hands on what a smaller share gave up once it is reported in force (see {@code
   * BudgetLeader}). {@code report} must return at once.
   */
  public void onSharesApplied(Runnable report) {
    this.sharesApplied = report;
  }

  /**
   * Runs {@code listener}, on Curator's thread, each time a chain an operator paused runs again:
   * not on a pause, nor on a change that leaves every chain as it was (a second pause of a paused
   * chain, say), so that pausing and resuming at any pace calls it at most once per resume.
   */
  public void onResumed(Runnable listener) {
    if (controls == null) {
      return;
    }
    Map<Chain, Boolean> seen = new EnumMap<>(Chain.class);
    for (Chain chain : Chain.values()) {
      seen.put(chain, controls.isPaused(chain));
    }
    controls.onChange(
        () -> {
          boolean resumed = false;
          synchronized (seen) {
            for (Chain chain : Chain.values()) {
              boolean now = controls.isPaused(chain);
              resumed |= Boolean.TRUE.equals(seen.put(chain, now)) && !now;
            }
          }
          if (resumed) {
            listener.run();
          }
        });
  }

  public Map<Chain, NodePool> pools() {
    return Map.copyOf(pools);
  }

  /** True while the chain is paused by an operator. */
  public boolean paused(Chain chain) {
    return controls != null && controls.isPaused(chain);
  }

  /** How this consumer uses every node, for its membership report. */
  public Map<String, MemberReport.NodeUse> usage() {
    Map<String, MemberReport.NodeUse> use = new TreeMap<>();
    pools.values().forEach(p -> use.putAll(p.usage()));
    return use;
  }

  private <T extends Closeable> T keep(T part) {
    parts.add(part);
    return part;
  }

  @Override
  public void close() {
    for (int i = parts.size() - 1; i >= 0; i--) {
      try {
        parts.get(i).close();
      } catch (Exception e) {
        log.debug("closing {}: {}", parts.get(i), e.toString());
      }
    }
  }
}
