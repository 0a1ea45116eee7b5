package io.txgw.coordinator.budget;

import io.txgw.common.json.Json;
import io.txgw.coordinator.Membership;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;

/**
 * One reading of the budgets the leader published and of what each consumer reports about its
 * nodes: for {@code txgw budgets} and the gateway's dashboard.
 *
 * @param tables every node's budget table, sorted by chain and node
 * @param reports each live consumer's report by id; null where a member's node was unreadable
 */
public record BudgetSnapshot(List<BudgetTable> tables, Map<String, MemberReport> reports) {

  /** A node's limit against the rate the consumers called it at. */
  public record NodeUse(
      String node, double limitRequestsPerSecond, double usedRequestsPerSecond, int consumers) {}

  public static BudgetSnapshot read(CuratorFramework client) throws Exception {
    Map<String, MemberReport> reports = new TreeMap<>();
    String members = Membership.ROOT + "/consumers";
    for (String id : children(client, members)) {
      try {
        byte[] data = client.getData().forPath(members + "/" + id);
        reports.put(id, Json.mapper().readValue(data, MemberReport.class));
      } catch (KeeperException.NoNodeException | IOException e) {
        reports.put(id, null);
      }
    }
    List<BudgetTable> tables = new ArrayList<>();
    for (String chain : children(client, BudgetLeader.ROOT)) {
      for (String node : children(client, BudgetLeader.ROOT + "/" + chain)) {
        try {
          byte[] data = client.getData().forPath(BudgetLeader.ROOT + "/" + chain + "/" + node);
          tables.add(Json.mapper().readValue(data, BudgetTable.class));
        } catch (KeeperException.NoNodeException e) {
          // Removed between the listing and the read.
        }
      }
    }
    return new BudgetSnapshot(List.copyOf(tables), reports);
  }

  /** Per node: its limit and the sum of the rates its consumers called it at. */
  public List<NodeUse> nodeUse() {
    List<NodeUse> uses = new ArrayList<>();
    for (BudgetTable table : tables) {
      String key = table.chain() + "/" + table.node();
      double used = 0;
      int consumers = 0;
      for (MemberReport report : reports.values()) {
        MemberReport.NodeUse use = report == null ? null : report.nodes().get(key);
        if (use != null) {
          used += use.usedRequestsPerSecond();
          consumers++;
        }
      }
      uses.add(new NodeUse(key, table.maxRequestsPerSecond(), used, consumers));
    }
    return uses;
  }

  private static List<String> children(CuratorFramework client, String path) throws Exception {
    try {
      return client.getChildren().forPath(path).stream().sorted().toList();
    } catch (KeeperException.NoNodeException e) {
      return List.of();
    }
  }
}
