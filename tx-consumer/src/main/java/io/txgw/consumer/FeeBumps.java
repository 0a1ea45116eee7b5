package io.txgw.consumer;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * When a stuck transaction is due for a replacement at a higher fee, and which units wait at their
 * chain's fee ceiling ({@code txgw.fee.ceiling.units}, per chain). A unit counts at the ceiling
 * while it was last seen there within {@link #SEEN_WITHIN}: one settled, or whose partition moved
 * to another consumer, drops out by itself. Bounded: {@link #MAX_TRACKED} units.
 */
final class FeeBumps {
  static final Duration SEEN_WITHIN = Duration.ofMinutes(5);
  static final int MAX_TRACKED = 100_000;

  private final Function<Chain, Duration> bumpAfter;
  private final Clock clock;
  private final Map<String, Seen> atCeiling = new ConcurrentHashMap<>();

  /** When each unit was last asked for a replacement: asked again a wait later, not each round. */
  private final Map<String, Instant> asked = new ConcurrentHashMap<>();

  private final MeterRegistry meters;

  private record Seen(Chain chain, Instant at) {}

  FeeBumps(Function<Chain, Duration> bumpAfter, Clock clock, MeterRegistry meters) {
    this.bumpAfter = bumpAfter;
    this.clock = clock;
    this.meters = meters;
    if (meters != null) {
      for (Chain chain : Chain.values()) {
        Gauge.builder("txgw.fee.ceiling.units", this, b -> b.atCeiling(chain))
            .description("transactions not mined whose fee is at the chain's ceiling")
            .tag("chain", chain.name())
            .register(meters);
      }
    }
  }

  static FeeBumps never() {
    return new FeeBumps(c -> null, Clock.systemUTC(), null);
  }

  /**
   * Whether {@code unit}, sent and not mined, has waited long enough since its current transaction
   * was journaled to be replaced.
   */
  boolean due(JournalEntry unit) {
    Duration after = bumpAfter.apply(unit.chain());
    if (after == null || after.isZero() || unit.updatedAt() == null) {
      return false;
    }
    Instant now = clock.instant();
    Instant last = asked.get(unit.unitId());
    Instant from = last != null && last.isAfter(unit.updatedAt()) ? last : unit.updatedAt();
    if (now.isBefore(from.plus(after))) {
      return false;
    }
    if (asked.size() >= MAX_TRACKED) {
      asked.clear();
    }
    asked.put(unit.unitId(), now);
    return true;
  }

  /** A replacement signed (counted once journaled or not: it is a fee offered). */
  void bumped(JournalEntry unit) {
    notAtCeiling(unit);
    if (meters != null) {
      meters.counter("txgw.fee.bumps", "chain", unit.chain().name()).increment();
    }
  }

  void atCeiling(JournalEntry unit) {
    if (atCeiling.size() >= MAX_TRACKED) {
      atCeiling.clear();
    }
    atCeiling.put(unit.unitId(), new Seen(unit.chain(), clock.instant()));
  }

  void notAtCeiling(JournalEntry unit) {
    atCeiling.remove(unit.unitId());
  }

  /** Settled: nothing more to ask for it. */
  void settled(JournalEntry unit) {
    atCeiling.remove(unit.unitId());
    asked.remove(unit.unitId());
  }

  double atCeiling(Chain chain) {
    // Seen again once per wait at most: counted for two waits, and never less than five minutes.
    Duration after = bumpAfter.apply(chain);
    Duration within =
        after == null || after.multipliedBy(2).compareTo(SEEN_WITHIN) < 0
            ? SEEN_WITHIN
            : after.multipliedBy(2);
    Instant since = clock.instant().minus(within);
    atCeiling.values().removeIf(s -> s.chain() == chain && s.at().isBefore(since));
    return atCeiling.values().stream().filter(s -> s.chain() == chain).count();
  }
}
