package io.txgw.coordinator.control;

import io.txgw.common.json.Json;
import io.txgw.common.model.Chain;
import java.io.Closeable;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.zookeeper.KeeperException;

/**
 * Operator switches shared by every consumer: pause and resume, per chain or for all. A pause is a
 * persistent node {@code /txgw/control/paused/<BTC|ETH|ALL>}, so it outlives the operator's session
 * and every consumer, and a consumer started while paused starts paused. Consumers watch it through
 * a cache; one cut off from ZooKeeper keeps the last state it saw.
 */
public final class Controls implements Closeable {
  public static final String ROOT = "/txgw/control/paused";
  public static final String ALL = "ALL";

  private final CuratorFramework client;
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private CuratorCache cache;

  /** Who paused and why, stored with the pause. */
  public record Pause(String by, Instant at, String reason) {}

  public Controls(CuratorFramework client) {
    this.client = client;
  }

  public Controls watch() {
    cache = CuratorCache.build(client, ROOT);
    cache.listenable().addListener((type, before, after) -> listeners.forEach(Runnable::run));
    cache.start();
    return this;
  }

  /** Runs {@code listener} after every change, on Curator's thread. */
  public void onChange(Runnable listener) {
    listeners.add(listener);
  }

  /** Pauses {@code chain}, or every chain when null. */
  public void pause(Chain chain, Pause pause) throws Exception {
    byte[] data = Json.mapper().writeValueAsBytes(pause);
    String path = path(chain);
    try {
      client.create().creatingParentsIfNeeded().forPath(path, data);
    } catch (KeeperException.NodeExistsException e) {
      client.setData().forPath(path, data);
    }
  }

  /**
   * Lifts the pause of {@code chain}; with null, lifts every pause.
   *
   * @return the pauses that were lifted
   */
  public List<String> resume(Chain chain) throws Exception {
    List<String> targets =
        chain == null ? List.of(ALL, Chain.BTC.name(), Chain.ETH.name()) : List.of(chain.name());
    List<String> lifted = new java.util.ArrayList<>();
    for (String target : targets) {
      try {
        client.delete().forPath(ROOT + "/" + target);
        lifted.add(target);
      } catch (KeeperException.NoNodeException e) {
        // was not paused
      }
    }
    return lifted;
  }

  /**
   * Lifts the pause of all chains alone: a chain an operator paused by itself stays paused.
   *
   * @return false if all chains were not paused
   */
  public boolean resumeAllOnly() throws Exception {
    try {
      client.delete().forPath(ROOT + "/" + ALL);
      return true;
    } catch (KeeperException.NoNodeException e) {
      return false;
    }
  }

  /** True if {@code chain} is paused, by itself or through ALL, as the cache saw last. */
  public boolean isPaused(Chain chain) {
    return cache != null
        && (cache.get(ROOT + "/" + ALL).isPresent()
            || cache.get(ROOT + "/" + chain.name()).isPresent());
  }

  /** Reads the pauses from ZooKeeper itself: target (a chain or ALL) to who paused it. */
  public Map<String, Pause> read() throws Exception {
    Map<String, Pause> pauses = new TreeMap<>();
    List<String> children;
    try {
      children = client.getChildren().forPath(ROOT);
    } catch (KeeperException.NoNodeException e) {
      return pauses;
    }
    for (String child : children) {
      try {
        byte[] data = client.getData().forPath(ROOT + "/" + child);
        pauses.put(child, Json.mapper().readValue(data, Pause.class));
      } catch (KeeperException.NoNodeException e) {
        // resumed meanwhile
      } catch (IOException e) {
        pauses.put(child, new Pause("?", null, "unreadable: " + e.getMessage()));
      }
    }
    return pauses;
  }

  private static String path(Chain chain) {
    return ROOT + "/" + (chain == null ? ALL : chain.name());
  }

  @Override
  public void close() {
    if (cache != null) {
      cache.close();
    }
  }
}
