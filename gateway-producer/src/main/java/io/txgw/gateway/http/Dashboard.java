package io.txgw.gateway.http;

import io.txgw.common.budget.BudgetSnapshot;
import io.txgw.gateway.BatchStatus;
import io.txgw.gateway.monitor.ConsumerLagWatch;
import io.txgw.gateway.monitor.NodeUseWatch;
import io.txgw.gateway.status.BatchView;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the {@code /ui} page shows, as one JSON answer: the client's most recent batches with their
 * counts, the consumers' lag per partition over the last minutes, and each node's call rate against
 * its budget.
 */
final class Dashboard {
  static final int BATCHES = 20;

  private final BatchView view;
  private final ConsumerLagWatch lag;
  private final NodeUseWatch nodes;
  private final long maxLag;

  /**
   * @param nodes null when the gateway is not connected to ZooKeeper
   */
  Dashboard(BatchView view, ConsumerLagWatch lag, NodeUseWatch nodes, long maxLag) {
    this.view = view;
    this.lag = lag;
    this.nodes = nodes;
    this.maxLag = maxLag;
  }

  /** The page's data, for one client. */
  Map<String, Object> of(String client) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("at", Instant.now());
    body.put("batches", batches(client));
    body.put("lag", lag());
    body.put("nodes", nodes());
    return body;
  }

  private List<Map<String, Object>> batches(String client) {
    String prefix = client + "/";
    List<Map<String, Object>> batches = new ArrayList<>();
    for (String key : view.recentBatchKeys(BatchView.RECENT)) {
      if (batches.size() >= BATCHES) {
        break;
      }
      if (!key.startsWith(prefix)) {
        continue;
      }
      Optional<BatchStatus> summary = view.summaryByKey(key);
      if (summary.isEmpty()) {
        continue;
      }
      BatchStatus status = summary.get();
      Map<String, Object> item = BatchEvents.progress(status);
      item.put("chain", status.chain());
      item.put("acceptedAt", status.acceptedAt());
      batches.add(item);
    }
    return batches;
  }

  private Map<String, Object> lag() {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("limit", maxLag);
    ConsumerLagWatch.Reading latest = lag.latest();
    if (latest != null) {
      body.put("total", latest.total());
      body.put("members", latest.members());
      body.put("consumedPerSecond", Math.round(latest.consumedPerSecond() * 10) / 10.0);
    }
    List<Map<String, Object>> history = new ArrayList<>();
    for (ConsumerLagWatch.Reading r : lag.history()) {
      history.add(Map.of("at", r.at(), "partitions", r.lagByPartition()));
    }
    body.put("history", history);
    return body;
  }

  private Map<String, Object> nodes() {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("coordinated", nodes != null);
    List<Map<String, Object>> history = new ArrayList<>();
    if (nodes != null) {
      for (NodeUseWatch.Reading r : nodes.history()) {
        Map<String, Object> point = new LinkedHashMap<>();
        point.put("at", r.at());
        Map<String, Object> byNode = new LinkedHashMap<>();
        for (BudgetSnapshot.NodeUse use : r.nodes()) {
          byNode.put(
              use.node(),
              Map.of(
                  "limit", use.limitRequestsPerSecond(),
                  "used", Math.round(use.usedRequestsPerSecond() * 10) / 10.0,
                  "consumers", use.consumers()));
        }
        point.put("nodes", byNode);
        history.add(point);
      }
    }
    body.put("history", history);
    return body;
  }
}
