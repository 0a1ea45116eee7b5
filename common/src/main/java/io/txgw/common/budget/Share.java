package io.txgw.common.budget;

/**
 * One consumer's part of one node's limits: it may start at most {@code requestsPerSecond} calls a
 * second and have at most {@code inFlight} unanswered at once.
 */
public record Share(double requestsPerSecond, int inFlight) {
  /** What a consumer holds before the leader has counted it in, or once cut off from ZooKeeper. */
  public static final Share NONE = new Share(0, 0);

  public Share {
    if (requestsPerSecond < 0 || Double.isNaN(requestsPerSecond) || inFlight < 0) {
      throw new IllegalArgumentException("a share cannot be negative");
    }
  }
}
