package io.txgw.common.budget;

import java.util.Map;

/**
 * What a consumer tells the others through its membership node: who it is, its backlog (the lag of
 * the partitions it owns, which the leader weighs shares by), and how it uses each node.
 *
 * @param nodes by {@code <chain>/<node>}
 */
public record MemberReport(
    String host, long pid, String group, long backlog, Map<String, NodeUse> nodes) {
  public MemberReport {
    nodes = nodes == null ? Map.of() : Map.copyOf(nodes);
  }

  /**
   * @param share the rate the leader gave this consumer
   * @param effectiveRequestsPerSecond the rate it allows itself now: lower after overload signals
   * @param healthy whether the node is in this consumer's rotation
   * @param usedRequestsPerSecond the rate it called the node at since its last report
   * @param saturated true if a call had to wait for its share since the last report: it could use
   *     more
   * @param tableAt when the budget table whose share it applies was computed (its {@code
   *     computedAtMillis}); 0 when it applies none
   * @param windowCalls the calls it started in the second before this report, -1 when it does not
   *     count them: with {@code share}, at most what it starts in any second from now on
   */
  public record NodeUse(
      double share,
      double effectiveRequestsPerSecond,
      int inFlightShare,
      boolean healthy,
      long height,
      long calls,
      double usedRequestsPerSecond,
      boolean saturated,
      long tableAt,
      long windowCalls) {
    /** A use that acknowledges no table. */
    public NodeUse(
        double share,
        double effectiveRequestsPerSecond,
        int inFlightShare,
        boolean healthy,
        long height,
        long calls,
        double usedRequestsPerSecond,
        boolean saturated) {
      this(
          share,
          effectiveRequestsPerSecond,
          inFlightShare,
          healthy,
          height,
          calls,
          usedRequestsPerSecond,
          saturated,
          0,
          -1);
    }
  }
}
