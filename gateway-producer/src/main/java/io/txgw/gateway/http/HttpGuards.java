package io.txgw.gateway.http;

import io.txgw.gateway.GatewayConfig;
import io.vertx.core.http.HttpConnection;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What keeps one client or one address from taking the server: a cap on connections in all and per
 * address, a request rate per client, and a growing delay before each failed authentication from an
 * address. Every map here is bounded: by the open connections, the configured clients, and a fixed
 * number of addresses remembered.
 */
final class HttpGuards {
  private static final Logger log = LoggerFactory.getLogger(HttpGuards.class);

  /** Addresses whose failed attempts are remembered; the oldest is forgotten first. */
  static final int MAX_ADDRESSES_REMEMBERED = 10_000;

  /** Clients whose request rate is tracked; past it the table starts again (keys are few). */
  static final int MAX_CLIENTS_TRACKED = 10_000;

  static final Duration FAILURE_WINDOW = Duration.ofMinutes(10);
  static final Duration FIRST_DELAY = Duration.ofMillis(100);

  private final GatewayConfig.HttpLimits limits;
  private final LongSupplier nanos;
  private final AtomicInteger open = new AtomicInteger();
  private final Map<String, AtomicInteger> openByAddress = new ConcurrentHashMap<>();
  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
  private final Map<String, Failures> failures =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Failures> eldest) {
          return size() > MAX_ADDRESSES_REMEMBERED;
        }
      };

  private final BodyBudget bodies;

  HttpGuards(GatewayConfig.HttpLimits limits, LongSupplier nanos) {
    this.limits = limits;
    this.nanos = nanos;
    this.bodies = new BodyBudget(limits.bodyBytesInFlight(), limits.bodyBytesInFlightPerClient());
  }

  BodyBudget bodies() {
    return bodies;
  }

  /**
   * Bytes of request bodies being received, per client and in all: a body is read whole before it
   * is parsed, so this is what bodies can take of the heap at once.
   */
  static final class BodyBudget {
    private final long total;
    private final long perClient;
    private long used;
    private final Map<String, Long> usedBy = new java.util.HashMap<>();

    BodyBudget(long total, long perClient) {
      this.total = total;
      this.perClient = perClient;
    }

    /** What is held for one body; released once its answer is sent. */
    interface Held {
      void release();
    }

    synchronized Optional<Held> take(String client, long bytes) {
      long mine = usedBy.getOrDefault(client, 0L);
      // One body always fits when nothing else is being received: a lone large batch is served.
      if ((used > 0 && used + bytes > total) || (mine > 0 && mine + bytes > perClient)) {
        return Optional.empty();
      }
      used += bytes;
      usedBy.put(client, mine + bytes);
      boolean[] released = new boolean[1];
      return Optional.of(
          () -> {
            synchronized (this) {
              if (released[0]) {
                return;
              }
              released[0] = true;
              used -= bytes;
              long left = usedBy.getOrDefault(client, 0L) - bytes;
              if (left <= 0) {
                usedBy.remove(client);
              } else {
                usedBy.put(client, left);
              }
            }
          });
    }

    synchronized long used() {
      return used;
    }
  }

  /** Admits a new connection or closes it at once when a cap is reached. */
  void admit(HttpConnection connection) {
    String address =
        connection.remoteAddress() == null ? "?" : connection.remoteAddress().hostAddress();
    AtomicInteger mine = openByAddress.computeIfAbsent(address, a -> new AtomicInteger());
    int all = open.incrementAndGet();
    int own = mine.incrementAndGet();
    connection.closeHandler(v -> release(address, mine));
    if (all > limits.maxConnections() || own > limits.maxConnectionsPerAddress()) {
      log.warn(
          "connection from {} closed: {} open in all (cap {}), {} from it (cap {})",
          address,
          all,
          limits.maxConnections(),
          own,
          limits.maxConnectionsPerAddress());
      connection.close();
    }
  }

  private void release(String address, AtomicInteger mine) {
    open.decrementAndGet();
    if (mine.decrementAndGet() <= 0) {
      openByAddress.remove(address, mine);
    }
  }

  int openConnections() {
    return open.get();
  }

  /** Takes one request from the client's allowance, or says how long until there is one. */
  Optional<Duration> takeRequest(String client) {
    int rate = limits.rateLimit();
    if (rate <= 0) {
      return Optional.empty();
    }
    if (buckets.size() > MAX_CLIENTS_TRACKED) {
      buckets.clear();
    }
    return buckets
        .computeIfAbsent(client, c -> new Bucket(rate, nanos.getAsLong()))
        .take(nanos.getAsLong());
  }

  /** Records a failed authentication and returns how long to wait before answering it. */
  Duration failedAuthentication(String address) {
    long now = nanos.getAsLong();
    int count;
    synchronized (failures) {
      Failures f = failures.get(address);
      if (f == null || now - f.since > FAILURE_WINDOW.toNanos()) {
        f = new Failures(now);
        failures.put(address, f);
      }
      count = ++f.count;
    }
    long delay = FIRST_DELAY.toMillis() << Math.min(count - 1, 16);
    return Duration.ofMillis(Math.min(delay, limits.authFailureMaxDelayMillis()));
  }

  int addressesRemembered() {
    synchronized (failures) {
      return failures.size();
    }
  }

  private static final class Failures {
    final long since;
    int count;

    Failures(long since) {
      this.since = since;
    }
  }

  /** A token bucket: {@code rate} per second, holding at most twice as many. */
  private static final class Bucket {
    private final double rate;
    private final double capacity;
    private double tokens;
    private long last;

    Bucket(int rate, long now) {
      this.rate = rate;
      this.capacity = 2.0 * rate;
      this.tokens = capacity;
      this.last = now;
    }

    synchronized Optional<Duration> take(long now) {
      tokens = Math.min(capacity, tokens + (now - last) / 1e9 * rate);
      last = now;
      if (tokens >= 1) {
        tokens -= 1;
        return Optional.empty();
      }
      long waitMs = (long) Math.ceil((1 - tokens) / rate * 1000);
      return Optional.of(Duration.ofMillis(Math.max(waitMs, 1)));
    }
  }
}
