package io.txgw.consumer.rpc;

import java.time.Duration;

/**
 * How long to keep retrying calls the node did not see (connection refused, rate limited), with
 * exponential backoff. Calls the node may have acted on are never retried here.
 */
public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
  public static final RetryPolicy NONE = new RetryPolicy(1, Duration.ZERO, Duration.ZERO);

  public static RetryPolicy standard() {
    return new RetryPolicy(8, Duration.ofMillis(100), Duration.ofSeconds(5));
  }

  Duration backoff(int attempt) {
    long millis = initialBackoff.toMillis() << Math.min(attempt - 1, 20);
    return Duration.ofMillis(Math.min(millis, maxBackoff.toMillis()));
  }
}
