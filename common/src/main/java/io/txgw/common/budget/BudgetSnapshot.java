package io.txgw.common.budget;

import io.txgw.common.json.Json;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One reading of the budgets the leader published and of what each consumer reports about its
 * nodes: for {@code txgw budgets} and the gateway's dashboard.
 *
 * @param tables every node's budget table, sorted by chain and node
 * @param reports each live consumer's report by id; null where a member's node was unreadable
 */
public record BudgetSnapshot(List<BudgetTable> tables, Map<String, MemberReport> reports) {
  /** Where the leader publishes each node's table, as {@code <chain>/<node>}. */
  public static final String BUDGETS = "/txgw/budgets";

  /** Where each live consumer's membership node holds its {@link MemberReport}. */
  public static final String CONSUMERS = "/txgw/members/consumers";

  /** A node's limit against the rate the consumers called it at. */
  public record NodeUse(
      String node, double limitRequestsPerSecond, double usedRequestsPerSecond, int consumers) {}

  /**
   * What a reading needs of a ZooKeeper client, so that a process reading budgets alone (the
   * gateway) need not carry the coordination library the consumers use.
   */
  public interface Znodes {
    /** The children's names; empty when the node does not exist. */
    List<String> children(String path) throws Exception;

    /** The node's data; empty when it does not exist (any longer). */
    Optional<byte[]> data(String path) throws Exception;
  }

  public static BudgetSnapshot read(Znodes zk) throws Exception {
    Map<String, MemberReport> reports = new TreeMap<>();
    for (String id : sorted(zk.children(CONSUMERS))) {
      MemberReport report = null;
      try {
        Optional<byte[]> data = zk.data(CONSUMERS + "/" + id);
        if (data.isPresent()) {
          report = Json.mapper().readValue(data.get(), MemberReport.class);
        }
      } catch (IOException e) {
        // Unreadable: shown as a member without a report.
      }
      reports.put(id, report);
    }
    List<BudgetTable> tables = new ArrayList<>();
    for (String chain : sorted(zk.children(BUDGETS))) {
      for (String node : sorted(zk.children(BUDGETS + "/" + chain))) {
        // Empty when removed between the listing and the read.
        Optional<byte[]> data = zk.data(BUDGETS + "/" + chain + "/" + node);
        if (data.isPresent()) {
          tables.add(Json.mapper().readValue(data.get(), BudgetTable.class));
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

  private static List<String> sorted(List<String> names) {
    return names.stream().sorted().toList();
  }
}
