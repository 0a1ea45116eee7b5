package io.txgw.coordinator.budget;

import io.txgw.common.budget.BudgetTable;
import io.txgw.common.budget.Share;
import io.txgw.common.json.Json;
import io.txgw.common.model.Chain;
import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;

/** The published budget tables, watched: what share each consumer holds of each node. */
public final class Budgets implements Closeable {
  private final CuratorCache cache;
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

  public Budgets(CuratorFramework client) {
    this.cache = CuratorCache.build(client, BudgetLeader.ROOT);
    cache.listenable().addListener((type, before, after) -> listeners.forEach(Runnable::run));
  }

  public Budgets start() {
    cache.start();
    return this;
  }

  /** Runs {@code listener} after every change, on Curator's thread. */
  public void onChange(Runnable listener) {
    listeners.add(listener);
  }

  public Optional<BudgetTable> table(Chain chain, String node) {
    return cache.get(BudgetLeader.ROOT + "/" + chain.name() + "/" + node).map(Budgets::parse);
  }

  /** This member's share of a node, if the leader has published one that counts it. */
  public Optional<Share> share(Chain chain, String node, String member) {
    return table(chain, node).map(t -> t.shares().get(member));
  }

  public List<BudgetTable> tables() {
    List<BudgetTable> all = new ArrayList<>();
    cache.stream().map(Budgets::parse).filter(t -> t != null).forEach(all::add);
    return all;
  }

  private static BudgetTable parse(ChildData data) {
    if (data.getData() == null || data.getData().length == 0) {
      return null;
    }
    try {
      return Json.mapper().readValue(data.getData(), BudgetTable.class);
    } catch (IOException e) {
      return null;
    }
  }

  @Override
  public void close() {
    cache.close();
  }
}
