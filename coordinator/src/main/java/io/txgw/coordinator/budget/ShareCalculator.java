package io.txgw.coordinator.budget;

import io.txgw.common.budget.MemberReport;
import io.txgw.common.budget.Share;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Divides a node's limits among consumers by backlog, then moves rate a consumer leaves unused to
 * those that wait for theirs. A twentieth of the rate is split evenly, so a consumer whose
 * partitions just received work can start at once; the rest follows backlog. The shares never add
 * up to more than the node's limits.
 */
public final class ShareCalculator {
  static final double EVEN_PART = 0.05;

  /** A consumer that used less than this part of its share, without waiting, has spare. */
  static final double SPARE_BELOW = 0.8;

  /** What an unsaturated consumer keeps above its recent use, to grow into. */
  static final double HEADROOM = 1.5;

  /** The least an unsaturated consumer keeps: health checks and the first calls of new work. */
  static final double MIN_KEPT = 1.5;

  private ShareCalculator() {}

  /**
   * {@code target}, with every increase limited to what the shares held in the last second leave of
   * the node's limit. A consumer may have spent its whole previous share in the second before it
   * learns of a smaller one; were another's larger share applied at once, the node would see both
   * in one second. So the limit is first counted against each member's largest share of the recent
   * tables ({@code recentMax}, the departed included), and only what is left is handed out, in
   * proportion to each increase asked for; the rest follows once the larger shares have aged out
   * (the next tables). A member new to the tables gets its share from what is left, like any
   * increase; until its first table it holds none (see {@link Share#NONE}).
   */
  public static Map<String, Share> phased(
      Map<String, Share> target, Map<String, Double> recentMax, double maxRequestsPerSecond) {
    double held = 0;
    for (double r : recentMax.values()) {
      held += r;
    }
    Map<String, Double> base = new TreeMap<>();
    double wanted = 0;
    for (Map.Entry<String, Share> e : target.entrySet()) {
      double want = e.getValue().requestsPerSecond();
      double had = recentMax.getOrDefault(e.getKey(), 0.0);
      double keep = Math.min(want, had);
      base.put(e.getKey(), keep);
      wanted += want - keep;
    }
    double slack = Math.max(0, maxRequestsPerSecond - held);
    double part = wanted <= 0 ? 0 : Math.min(1, slack / wanted);
    Map<String, Share> shares = new TreeMap<>();
    for (Map.Entry<String, Share> e : target.entrySet()) {
      double keep = base.get(e.getKey());
      double rps = keep + (e.getValue().requestsPerSecond() - keep) * part;
      shares.put(e.getKey(), new Share(Math.floor(rps * 1000) / 1000, e.getValue().inFlight()));
    }
    return shares;
  }

  /**
   * Like {@link #divide(double, int, Map)}, then work-conserving: a consumer that neither waited
   * for its share nor used most of it keeps {@value #HEADROOM} times its use, and the rest goes to
   * the consumers that waited, in proportion to their shares. The total stays the same.
   *
   * @param use by consumer id, how it used this node lately; a consumer without one counts as
   *     saturated
   */
  public static Map<String, Share> divide(
      double maxRequestsPerSecond,
      int maxInFlight,
      Map<String, Long> backlogs,
      Map<String, MemberReport.NodeUse> use) {
    Map<String, Share> base = divide(maxRequestsPerSecond, maxInFlight, backlogs);
    double spare = 0;
    double hungry = 0;
    Map<String, Double> kept = new TreeMap<>();
    for (Map.Entry<String, Share> e : base.entrySet()) {
      MemberReport.NodeUse u = use.get(e.getKey());
      double share = e.getValue().requestsPerSecond();
      if (u != null && !u.saturated() && u.usedRequestsPerSecond() < SPARE_BELOW * share) {
        double keep = Math.min(share, Math.max(MIN_KEPT, HEADROOM * u.usedRequestsPerSecond()));
        kept.put(e.getKey(), keep);
        spare += share - keep;
      } else {
        hungry += share;
      }
    }
    if (spare <= 0 || hungry <= 0) {
      return base;
    }
    Map<String, Share> shares = new TreeMap<>();
    for (Map.Entry<String, Share> e : base.entrySet()) {
      double share = e.getValue().requestsPerSecond();
      double rps =
          kept.containsKey(e.getKey()) ? kept.get(e.getKey()) : share + spare * share / hungry;
      shares.put(e.getKey(), new Share(Math.floor(rps * 1000) / 1000, e.getValue().inFlight()));
    }
    return shares;
  }

  /**
   * @param backlogs by consumer id; negative backlogs count as zero
   */
  public static Map<String, Share> divide(
      double maxRequestsPerSecond, int maxInFlight, Map<String, Long> backlogs) {
    Map<String, Share> shares = new TreeMap<>();
    int n = backlogs.size();
    if (n == 0) {
      return shares;
    }
    double total = 0;
    for (long b : backlogs.values()) {
      total += Math.max(0, b);
    }
    Map<String, Double> weights = new TreeMap<>();
    for (Map.Entry<String, Long> e : backlogs.entrySet()) {
      double w =
          total == 0
              ? 1.0 / n
              : EVEN_PART / n + (1 - EVEN_PART) * Math.max(0, e.getValue()) / total;
      weights.put(e.getKey(), w);
    }
    Map<String, Integer> inFlight = divideWhole(maxInFlight, weights);
    for (Map.Entry<String, Double> e : weights.entrySet()) {
      // Rounded down to a thousandth of a call per second, so the sum stays within the limit.
      double rps = Math.floor(maxRequestsPerSecond * e.getValue() * 1000) / 1000;
      shares.put(e.getKey(), new Share(rps, inFlight.get(e.getKey())));
    }
    return shares;
  }

  /**
   * Whole in-flight slots: one each first while there are enough, the rest by weight with the
   * largest remainders rounded up.
   */
  static Map<String, Integer> divideWhole(int slots, Map<String, Double> weights) {
    Map<String, Integer> result = new TreeMap<>();
    List<String> byWeight = new ArrayList<>(weights.keySet());
    byWeight.sort(
        Comparator.comparing((String id) -> weights.get(id)).reversed().thenComparing(id -> id));
    if (slots < weights.size()) {
      for (int i = 0; i < byWeight.size(); i++) {
        result.put(byWeight.get(i), i < slots ? 1 : 0);
      }
      return result;
    }
    int rest = slots - weights.size();
    int given = 0;
    Map<String, Double> remainders = new TreeMap<>();
    for (String id : byWeight) {
      double exact = rest * weights.get(id);
      int whole = (int) Math.floor(exact);
      result.put(id, 1 + whole);
      given += whole;
      remainders.put(id, exact - whole);
    }
    List<String> byRemainder = new ArrayList<>(byWeight);
    byRemainder.sort(
        Comparator.comparing((String id) -> remainders.get(id)).reversed().thenComparing(id -> id));
    for (int i = 0; given < rest; i++, given++) {
      String id = byRemainder.get(i % byRemainder.size());
      result.put(id, result.get(id) + 1);
    }
    return result;
  }
}
