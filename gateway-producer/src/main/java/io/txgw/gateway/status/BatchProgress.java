package io.txgw.gateway.status;

import io.txgw.common.model.PayoutStatus;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;

/**
 * How many payouts of a batch are in each status, with the first and last update. The view keeps
 * one per batch and results partition (each payout's results stay in one partition); a query adds
 * the partitions' progress up.
 */
public record BatchProgress(
    Map<PayoutStatus, Integer> counts, Instant firstUpdate, Instant lastUpdate) {
  public BatchProgress {
    counts = counts == null ? Map.of() : Map.copyOf(counts);
  }

  static final BatchProgress NONE = new BatchProgress(Map.of(), null, null);

  /**
   * This progress after one payout moved from {@code before} (null: first result) to {@code after}.
   */
  BatchProgress moved(PayoutState before, PayoutState after) {
    Map<PayoutStatus, Integer> next = mutableCounts();
    if (before != null) {
      next.computeIfPresent(before.status(), (s, n) -> n <= 1 ? null : n - 1);
    }
    next.merge(after.status(), 1, Integer::sum);
    return new BatchProgress(
        next, min(firstUpdate, after.updatedAt()), max(lastUpdate, after.updatedAt()));
  }

  /** This progress and another partition's, together. */
  public BatchProgress plus(BatchProgress other) {
    Map<PayoutStatus, Integer> sum = mutableCounts();
    other.counts.forEach((s, n) -> sum.merge(s, n, Integer::sum));
    return new BatchProgress(
        sum, min(firstUpdate, other.firstUpdate), max(lastUpdate, other.lastUpdate));
  }

  /** Payouts with a result, whatever it is. */
  public int handled() {
    return counts.values().stream().mapToInt(Integer::intValue).sum();
  }

  private Map<PayoutStatus, Integer> mutableCounts() {
    Map<PayoutStatus, Integer> copy = new EnumMap<>(PayoutStatus.class);
    copy.putAll(counts);
    return copy;
  }

  private static Instant min(Instant a, Instant b) {
    return a == null ? b : b == null || a.isBefore(b) ? a : b;
  }

  private static Instant max(Instant a, Instant b) {
    return a == null ? b : b == null || a.isAfter(b) ? a : b;
  }
}
