package io.txgw.consumer.nodes;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.TokensInheritanceStrategy;
import io.txgw.common.budget.Share;
import io.txgw.consumer.rpc.CallGate;
import io.txgw.consumer.rpc.RpcException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This consumer's gate to one node: a token bucket at its share's rate, at most one second's worth
 * of calls in any second, a cap on unanswered calls, the chain's pause switch, and AIMD on top.
 * Overload signals (HTTP 429, JSON-RPC -32005, a timeout, latency far above its usual level) halve
 * the rate at most once a second; each second without one gives back a tenth of the share, as TCP
 * does with its window.
 */
public final class NodeLimiter implements CallGate {
  private static final Logger log = LoggerFactory.getLogger(NodeLimiter.class);

  /**
   * Tokens that may pile up, in seconds of rate. The one-second window below keeps any second
   * within the share however they are spent.
   */
  static final double BURST_SECONDS = 0.15;

  static final long WINDOW_NANOS = 1_000_000_000L;

  /**
   * The part of a second's worth of the rate started in any second. A call is counted here when it
   * starts and at the node when it arrives a moment later, so a window kept exactly at the share
   * shows the node a call or two over it now and then; a node refusing that one call (HTTP 429)
   * halves this consumer's rate for seconds.
   */
  static final double WINDOW_MARGIN = 0.98;

  /** Above this rate (an unbudgeted node) calls are not noted one by one. */
  static final double WINDOWED_UP_TO = 100_000;

  static final double MIN_FACTOR = 0.05;
  static final double INCREASE = 0.1;
  static final long ADJUST_INTERVAL_NANOS = 1_000_000_000L;

  /** A call this many times slower than the node's usual latency counts as overload. */
  static final double SLOW_FACTOR = 4;

  /** Latency below this never counts as overload: a fast node's jitter is not a signal. */
  static final long SLOW_FLOOR_NANOS = 200_000_000L;

  private final String name;
  private final BooleanSupplier paused;
  private final Duration maxWait;
  private final LongSupplier nanoTime;
  private final Bucket bucket;
  private final AtomicLong calls = new AtomicLong();
  private final java.util.ArrayDeque<Long> recent = new java.util.ArrayDeque<>();
  private volatile boolean waited;
  private long reportedCalls;
  private long reportedAt;
  private double usedRate = -1;
  private long lastWaited;

  /** A consumer that waited for its share this recently counts as wanting more. */
  static final long SATURATED_NANOS = 2_000_000_000L;

  private Share share;
  private double factor = 1.0;
  private double appliedRate = -1;
  private int inFlight;
  private long lastAdjust;
  private double usualLatencyNanos = -1;
  private volatile NodeMeters meters = NodeMeters.NONE;

  /**
   * @param paused true while the node's chain is paused: no call goes out
   * @param maxWait how long a call waits for a token or an in-flight slot before HELD_BACK
   */
  public NodeLimiter(
      String name, Share initial, BooleanSupplier paused, Duration maxWait, LongSupplier nanoTime) {
    this.name = name;
    this.paused = paused;
    this.maxWait = maxWait;
    this.nanoTime = nanoTime;
    this.share = initial;
    this.lastAdjust = nanoTime.getAsLong();
    this.countingSince = lastAdjust;
    this.bucket = Bucket.builder().addLimit(limit(1)).withNanosecondPrecision().build();
    bucket.tryConsumeAsMuchAsPossible();
    applyRate();
  }

  public NodeLimiter(String name, Share initial, BooleanSupplier paused, Duration maxWait) {
    this(name, initial, paused, maxWait, System::nanoTime);
  }

  /** Reports calls, waits and shares to {@code meters} from now on. */
  public NodeLimiter instrument(NodeMeters meters) {
    this.meters = meters;
    meters.bind(this);
    return this;
  }

  /** When the table of the share in force was computed; 0 for a share from no table. */
  private long tableAt;

  /** Since when every call started is counted; {@code Long.MAX_VALUE} while none are. */
  private long countingSince;

  /** A report sooner than this after the last one keeps the last period's rate. */
  static final long MIN_PERIOD_NANOS = 250_000_000L;

  /** A new share from the budget leader (or NONE when cut off from ZooKeeper). */
  public synchronized void setShare(Share share) {
    setShare(share, 0);
  }

  /**
   * A new share from the budget table computed at {@code tableAt}, reported back once in force: the
   * leader may then count this consumer at what it can still start, not at its larger shares of the
   * last second.
   */
  public synchronized void setShare(Share share, long tableAt) {
    this.tableAt = tableAt;
    if (!share.equals(this.share)) {
      log.debug(
          "{}: share now {} req/s, {} in flight",
          name,
          round(share.requestsPerSecond()),
          share.inFlight());
      this.share = share;
      applyRate();
      notifyAll();
    }
  }

  public synchronized Share share() {
    return share;
  }

  public synchronized long tableAt() {
    return tableAt;
  }

  /**
   * Calls started in the last second, -1 when they are not counted (an unbudgeted rate). No call
   * starts while this count is at the share's rate, so from now on no second sees more than the
   * larger of the two.
   */
  public synchronized long windowCalls() {
    long now = nanoTime.getAsLong();
    if (effectiveRate() > WINDOWED_UP_TO || now - countingSince < WINDOW_NANOS) {
      // Not every call of the last second was counted (new, or above the counted rates).
      return -1;
    }
    while (!recent.isEmpty() && now - recent.peekFirst() >= WINDOW_NANOS) {
      recent.pollFirst();
    }
    return recent.size();
  }

  /** The rate this consumer allows itself now: its share, less what overload took away. */
  public synchronized double effectiveRate() {
    return share.requestsPerSecond() * factor;
  }

  public long calls() {
    return calls.get();
  }

  @Override
  public Permit enter(String method) throws RpcException, InterruptedException {
    if (paused.getAsBoolean()) {
      throw heldBack(method, "its chain is paused");
    }
    long entered = nanoTime.getAsLong();
    long deadline = entered + maxWait.toNanos();
    boolean slot = false;
    boolean granted = false;
    try {
      takeSlot(method, deadline);
      slot = true;
      awaitRate(method, deadline);
      if (!bucket.tryConsume(1)) {
        // This consumer could use more than its share: the leader may move spare rate here.
        waited = true;
        long left = Math.max(0, deadline - nanoTime.getAsLong());
        if (!bucket.asBlocking().tryConsume(1, left)) {
          throw heldBack(method, "no share of its budget came free in time");
        }
      }
      awaitWindow(method, deadline);
      // A pause that came while this call waited for its token still stops it.
      if (paused.getAsBoolean()) {
        throw heldBack(method, "its chain is paused");
      }
      granted = true;
    } finally {
      if (slot && !granted) {
        releaseSlot();
      }
      meters.waited(nanoTime.getAsLong() - entered, granted);
    }
    calls.incrementAndGet();
    NodeMeters reportTo = meters;
    return (failure, nanos) -> {
      releaseSlot();
      observe(failure, nanos);
      reportTo.call(method, failure, nanos);
    };
  }

  /**
   * Waits until fewer calls than one second's worth of the rate (less {@link #WINDOW_MARGIN}) were
   * started in the last second, then notes this one. With it the bucket may bank a sixth of a
   * second of tokens while the loop is busy elsewhere (a Kafka commit) and spend them after, and
   * still no second sees more than the share.
   */
  private synchronized void awaitWindow(String method, long deadline)
      throws RpcException, InterruptedException {
    while (true) {
      long now = nanoTime.getAsLong();
      // Read again after every wait: a smaller share that came meanwhile holds this call too.
      double rate = effectiveRate();
      if (rate > WINDOWED_UP_TO) {
        countingSince = Long.MAX_VALUE;
        return;
      }
      if (countingSince == Long.MAX_VALUE) {
        countingSince = now;
      }
      long allowed = Math.max(1, (long) Math.floor(rate * WINDOW_MARGIN));
      while (!recent.isEmpty() && now - recent.peekFirst() >= WINDOW_NANOS) {
        recent.pollFirst();
      }
      if (recent.size() < allowed) {
        recent.addLast(now);
        return;
      }
      long left = deadline - now;
      if (left <= 0) {
        throw heldBack(method, "its share of this second is spent");
      }
      long until = recent.peekFirst() + WINDOW_NANOS - now;
      wait(Math.max(1, Math.min(left, until) / 1_000_000));
    }
  }

  /** Waits for a share with a rate: a new consumer has none until the leader counts it in. */
  private synchronized void awaitRate(String method, long deadline)
      throws RpcException, InterruptedException {
    while (appliedRate <= 0) {
      waited = true;
      long left = deadline - nanoTime.getAsLong();
      if (left <= 0) {
        throw heldBack(method, "it holds no share of the node's budget");
      }
      wait(Math.max(1, left / 1_000_000));
    }
  }

  /**
   * The rate of calls since the last report and whether any had to wait for its share; starts a new
   * period. Called by the one thread that reports.
   */
  public synchronized Usage usage() {
    long now = nanoTime.getAsLong();
    if (reportedAt != 0 && now - reportedAt < MIN_PERIOD_NANOS) {
      // An extra report (new shares in force): a period this short would only make the rate jump.
      long seen = waited ? now : lastWaited;
      return new Usage(Math.max(0, usedRate), seen != 0 && now - seen < SATURATED_NANOS);
    }
    long total = calls.get();
    double seconds = reportedAt == 0 ? 0 : (now - reportedAt) / 1e9;
    if (seconds > 0) {
      double rate = (total - reportedCalls) / seconds;
      // Smoothed over a few reports: a health check a second must not look like bursts.
      usedRate = usedRate < 0 ? rate : usedRate * 0.7 + rate * 0.3;
    }
    if (waited) {
      lastWaited = now;
    }
    Usage usage =
        new Usage(Math.max(0, usedRate), lastWaited != 0 && now - lastWaited < SATURATED_NANOS);
    reportedAt = now;
    reportedCalls = total;
    waited = false;
    return usage;
  }

  /** How much of its share this consumer used in the last period. */
  public record Usage(double requestsPerSecond, boolean saturated) {}

  private synchronized void takeSlot(String method, long deadline)
      throws RpcException, InterruptedException {
    while (inFlight >= share.inFlight()) {
      long left = deadline - nanoTime.getAsLong();
      if (left <= 0) {
        throw heldBack(
            method,
            share.inFlight() == 0
                ? "it holds no share of the node's budget"
                : "its in-flight share is taken");
      }
      wait(Math.max(1, left / 1_000_000));
    }
    inFlight++;
  }

  private synchronized void releaseSlot() {
    inFlight--;
    notifyAll();
  }

  /** AIMD: a multiplicative cut on overload, an additive climb while the node keeps up. */
  synchronized void observe(RpcException.Kind failure, long nanos) {
    long now = nanoTime.getAsLong();
    boolean slow =
        failure == null
            && usualLatencyNanos > 0
            && nanos > SLOW_FLOOR_NANOS
            && nanos > SLOW_FACTOR * usualLatencyNanos;
    boolean overload =
        failure == RpcException.Kind.RATE_LIMITED || failure == RpcException.Kind.TIMEOUT || slow;
    if (failure == null && !slow) {
      usualLatencyNanos = usualLatencyNanos < 0 ? nanos : usualLatencyNanos * 0.95 + nanos * 0.05;
    }
    if (now - lastAdjust < ADJUST_INTERVAL_NANOS) {
      return;
    }
    if (overload && factor > MIN_FACTOR) {
      factor = Math.max(MIN_FACTOR, factor / 2);
      lastAdjust = now;
      log.warn(
          "{}: overload ({}), backing off to {} req/s",
          name,
          slow ? "slow answer " + nanos / 1_000_000 + " ms" : failure,
          round(effectiveRate()));
      applyRate();
    } else if (!overload && factor < 1.0) {
      factor = Math.min(1.0, factor + INCREASE);
      lastAdjust = now;
      if (factor == 1.0) {
        log.info(
            "{}: recovered, back to its full share of {} req/s",
            name,
            round(share.requestsPerSecond()));
      }
      applyRate();
    }
  }

  private synchronized void applyRate() {
    double rate = effectiveRate();
    if (rate == appliedRate) {
      return;
    }
    appliedRate = rate;
    if (rate > 0) {
      bucket.replaceConfiguration(
          BucketConfiguration.builder().addLimit(limit(rate)).build(),
          TokensInheritanceStrategy.AS_IS);
    }
  }

  /** One token per call, refilled one at a time so that a fractional rate stays exact. */
  private static Bandwidth limit(double rate) {
    long capacity = Math.max(1, (long) Math.floor(rate * BURST_SECONDS));
    long nanosPerToken = Math.max(1, (long) (1e9 / rate));
    return Bandwidth.builder()
        .capacity(capacity)
        .refillGreedy(1, Duration.ofNanos(nanosPerToken))
        .initialTokens(0)
        .build();
  }

  private RpcException heldBack(String method, String why) {
    return new RpcException(
        RpcException.Kind.HELD_BACK, null, 0, method + " on " + name + " held back: " + why, null);
  }

  private static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }
}
