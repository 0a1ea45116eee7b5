package io.txgw.gateway.monitor;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Refuses new batches while the consumers are further behind than a limit, instead of letting the
 * queue grow without bound. The client is told when to try again: the time the consumers need, at
 * their current rate, to work the lag down to the limit, between 1 s and 60 s.
 */
public final class Backpressure {
  private final long maxLag;
  private final Supplier<ConsumerLagWatch.Reading> lag;

  /**
   * @param maxLag payouts waiting above which batches are refused; 0 turns it off
   * @param lag the latest reading of the consumers' lag, null before the first
   */
  public Backpressure(long maxLag, Supplier<ConsumerLagWatch.Reading> lag) {
    this.maxLag = maxLag;
    this.lag = lag;
  }

  /** When to retry, if a batch is to be refused now. */
  public Optional<Refusal> check() {
    if (maxLag <= 0) {
      return Optional.empty();
    }
    ConsumerLagWatch.Reading reading = lag.get();
    if (reading == null || reading.total() <= maxLag) {
      return Optional.empty();
    }
    long excess = reading.total() - maxLag;
    double rate = reading.consumedPerSecond();
    long seconds = rate <= 0 ? 60 : (long) Math.ceil(excess / rate);
    return Optional.of(
        new Refusal(
            reading.total(), maxLag, Duration.ofSeconds(Math.max(1, Math.min(60, seconds)))));
  }

  /** The lag seen, the limit, and when to try again. */
  public record Refusal(long lag, long limit, Duration retryAfter) {}
}
