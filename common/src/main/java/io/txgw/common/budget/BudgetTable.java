package io.txgw.common.budget;

import io.txgw.common.model.Chain;
import java.util.Map;

/**
 * How the leader divided one node's limits among the live consumers, as published under {@code
 * /txgw/budgets/<chain>/<node>}.
 *
 * @param leader the consumer that computed it
 * @param computedAtMillis when, in epoch milliseconds
 * @param shares by consumer id
 */
public record BudgetTable(
    Chain chain,
    String node,
    String leader,
    long computedAtMillis,
    double maxRequestsPerSecond,
    int maxInFlight,
    Map<String, Share> shares) {
  public BudgetTable {
    shares = Map.copyOf(shares);
  }
}
