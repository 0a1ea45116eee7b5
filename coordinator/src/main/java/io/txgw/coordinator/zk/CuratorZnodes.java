package io.txgw.coordinator.zk;

import io.txgw.common.budget.BudgetSnapshot;
import java.util.List;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;

/** A Curator client read as {@link BudgetSnapshot.Znodes}. */
public record CuratorZnodes(CuratorFramework client) implements BudgetSnapshot.Znodes {
  @Override
  public List<String> children(String path) throws Exception {
    try {
      return client.getChildren().forPath(path);
    } catch (KeeperException.NoNodeException e) {
      return List.of();
    }
  }

  @Override
  public Optional<byte[]> data(String path) throws Exception {
    try {
      return Optional.of(client.getData().forPath(path));
    } catch (KeeperException.NoNodeException e) {
      return Optional.empty();
    }
  }
}
