package io.txgw.coordinator.nodes;

import io.txgw.common.json.Json;
import io.txgw.common.model.Chain;
import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node endpoints of every chain, kept in ZooKeeper under {@code /txgw/nodes/<chain>/<name>} as
 * JSON. Writers (the CLI, the local stack) change it; consumers and the budget leader watch it
 * through a cache, so a change takes effect everywhere without a restart.
 */
public final class NodeRegistry implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(NodeRegistry.class);
  public static final String ROOT = "/txgw/nodes";

  private final CuratorFramework client;
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private CuratorCache cache;
  private volatile boolean initialized;

  public NodeRegistry(CuratorFramework client) {
    this.client = client;
  }

  /** Starts watching; {@link #nodes} then answers from the cache. */
  public NodeRegistry watch() {
    cache = CuratorCache.build(client, ROOT);
    // Until the cache has loaded every entry, a partial view would look like removed nodes.
    cache
        .listenable()
        .addListener(
            CuratorCacheListener.builder()
                .forAll(
                    (type, before, after) -> {
                      if (initialized) {
                        listeners.forEach(Runnable::run);
                      }
                    })
                .forInitialized(
                    () -> {
                      initialized = true;
                      listeners.forEach(Runnable::run);
                    })
                .build());
    cache.start();
    return this;
  }

  /** Runs {@code listener} after every change seen by {@link #watch()}, on Curator's thread. */
  public void onChange(Runnable listener) {
    listeners.add(listener);
  }

  /** Adds or replaces a node. */
  public void put(NodeSpec spec) throws Exception {
    byte[] data = Json.mapper().writeValueAsBytes(spec);
    String path = path(spec.chain(), spec.name());
    try {
      client.create().creatingParentsIfNeeded().forPath(path, data);
    } catch (KeeperException.NodeExistsException e) {
      client.setData().forPath(path, data);
    }
  }

  /** Removes a node; false if there was none. */
  public boolean remove(Chain chain, String name) throws Exception {
    try {
      client.delete().forPath(path(chain, name));
      return true;
    } catch (KeeperException.NoNodeException e) {
      return false;
    }
  }

  /** Reads one node from ZooKeeper itself, not the cache. */
  public Optional<NodeSpec> read(Chain chain, String name) throws Exception {
    try {
      return Optional.ofNullable(parse(client.getData().forPath(path(chain, name)), name));
    } catch (KeeperException.NoNodeException e) {
      return Optional.empty();
    }
  }

  /** Reads every node of every chain from ZooKeeper itself, not the cache. */
  public List<NodeSpec> readAll() throws Exception {
    List<NodeSpec> all = new ArrayList<>();
    for (Chain chain : Chain.values()) {
      List<String> names;
      try {
        names = client.getChildren().forPath(ROOT + "/" + chain.name());
      } catch (KeeperException.NoNodeException e) {
        continue;
      }
      for (String name : names.stream().sorted().toList()) {
        read(chain, name).ifPresent(all::add);
      }
    }
    return all;
  }

  /** The nodes of {@code chain} as last seen by the cache, by name. */
  public Map<String, NodeSpec> nodes(Chain chain) {
    Map<String, NodeSpec> nodes = new TreeMap<>();
    if (cache == null) {
      return nodes;
    }
    String prefix = ROOT + "/" + chain.name() + "/";
    cache.stream()
        .filter(d -> d.getPath().startsWith(prefix))
        .forEach(
            d -> {
              NodeSpec spec = parse(d);
              if (spec != null && spec.chain() == chain) {
                nodes.put(spec.name(), spec);
              }
            });
    return nodes;
  }

  /** Every node of every chain, as last seen by the cache. */
  public List<NodeSpec> all() {
    List<NodeSpec> all = new ArrayList<>();
    for (Chain chain : Chain.values()) {
      all.addAll(nodes(chain).values());
    }
    return all;
  }

  private static NodeSpec parse(ChildData data) {
    return parse(data.getData(), data.getPath());
  }

  private static NodeSpec parse(byte[] data, String where) {
    if (data == null || data.length == 0) {
      return null;
    }
    try {
      return Json.mapper().readValue(data, NodeSpec.class);
    } catch (IOException e) {
      // One bad entry must not take the others out of rotation.
      log.warn("ignoring unreadable node entry {}: {}", where, e.getMessage());
      return null;
    }
  }

  static String path(Chain chain, String name) {
    return ROOT + "/" + chain.name() + "/" + name;
  }

  @Override
  public void close() {
    if (cache != null) {
      cache.close();
    }
  }
}
