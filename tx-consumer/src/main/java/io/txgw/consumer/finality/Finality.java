package io.txgw.consumer.finality;

import io.micrometer.core.instrument.MeterRegistry;
import io.txgw.common.model.Chain;
import io.txgw.consumer.chain.ChainSender;
import java.time.Clock;
import java.util.EnumMap;
import java.util.Map;

/**
 * The confirmation trackers of this consumer's chains. A chain without one (its depth set to 0)
 * takes a broadcast as final, as before depths existed: only for tests and benchmarks that measure
 * something else.
 */
public final class Finality {
  private final Map<Chain, ChainFollower> followers;

  /** Per chain, how long a transaction may wait unmined before it is replaced at a higher fee. */
  private final Map<Chain, java.time.Duration> bumpAfter;

  private Finality(Map<Chain, ChainFollower> followers, Map<Chain, java.time.Duration> bumpAfter) {
    this.followers = followers;
    this.bumpAfter = Map.copyOf(bumpAfter);
  }

  /** No chain followed: a broadcast is final. */
  public static Finality none() {
    return new Finality(Map.of(), Map.of());
  }

  /** These trackers, and stuck transactions of the chains named replaced after their wait. */
  public Finality withBumps(Map<Chain, java.time.Duration> after) {
    return new Finality(followers, after);
  }

  /**
   * How long a transaction of {@code chain} may wait unmined before it is replaced; null: never.
   */
  public java.time.Duration bumpAfter(Chain chain) {
    return bumpAfter.get(chain);
  }

  /** A tracker per chain that has settings, reading blocks through that chain's sender. */
  public static Finality of(
      Map<Chain, ChainSender> senders,
      Map<Chain, ChainFollower.Settings> settings,
      Clock clock,
      MeterRegistry meters) {
    Map<Chain, ChainFollower> followers = new EnumMap<>(Chain.class);
    settings.forEach(
        (chain, s) -> {
          ChainSender sender = senders.get(chain);
          if (sender != null && sender.blocks() != null) {
            followers.put(chain, new ChainFollower(chain, sender.blocks(), s, clock, meters));
          }
        });
    return new Finality(followers, Map.of());
  }

  /** True when units of {@code chain} are followed to a depth after broadcast. */
  public boolean follows(Chain chain) {
    return followers.containsKey(chain);
  }

  /** The tracker of {@code chain}, or null. */
  public ChainFollower follower(Chain chain) {
    return followers.get(chain);
  }

  /**
   * Reads the heads of {@code chains} only, when due: a chain none of whose units is followed has
   * nothing to judge, and its first read walks a whole window of blocks back. The others' windows
   * go stale ({@link ChainFollower#idle}).
   */
  public boolean refresh(java.util.Set<Chain> chains) throws InterruptedException {
    boolean changed = false;
    for (Map.Entry<Chain, ChainFollower> f : followers.entrySet()) {
      if (chains.contains(f.getKey())) {
        changed |= f.getValue().refresh();
      } else {
        f.getValue().idle();
      }
    }
    return changed;
  }

  public boolean isEmpty() {
    return followers.isEmpty();
  }
}
