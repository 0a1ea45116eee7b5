package io.txgw.deploy.infra;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.txgw.common.concurrent.Daemons;
import io.txgw.common.json.Json;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A loopback HTTP pass-through in front of a node that notes when each request arrives: what the
 * node sees, counted outside every consumer. Each exchange gets its own thread, so a client frozen
 * in the middle of a request cannot hold up the others.
 */
public final class CountingProxy implements Closeable {
  static {
    // Without it the JDK server's header and body writes meet delayed ACKs: 40 ms a call.
    System.setProperty("sun.net.httpserver.nodelay", "true");
  }

  private static final Set<String> HOP_BY_HOP =
      Set.of(
          "connection",
          "content-length",
          "host",
          "transfer-encoding",
          "keep-alive",
          "upgrade",
          "expect");

  private final URI target;
  private final HttpServer server;
  private final ExecutorService workers =
      Executors.newCachedThreadPool(Daemons.named("counting-proxy"));
  private final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .executor(workers)
          .build();
  private final long origin = System.nanoTime();
  private final int capacityPerSecond;
  private final ArrayDeque<Long> forwardedInLastSecond = new ArrayDeque<>();
  private long[] arrivals = new long[1 << 16];
  private int count;
  private int refused;

  public CountingProxy(String targetUrl) throws IOException {
    this(targetUrl, Integer.MAX_VALUE);
  }

  /**
   * A proxy that also stands for the node's capacity, as a rate-limited RPC provider does: a
   * request that would make more than {@code capacityPerSecond} forwarded within one second is
   * refused with HTTP 429 and JSON-RPC error -32005, and never reaches the node.
   */
  public CountingProxy(String targetUrl, int capacityPerSecond) throws IOException {
    this.capacityPerSecond = capacityPerSecond;
    this.target = URI.create(targetUrl.replaceAll("/+$", ""));
    this.server =
        io.txgw.common.http.JdkHttpServers.create(new InetSocketAddress("127.0.0.1", 0), 256);
    server.setExecutor(workers);
    server.createContext("/", this::forward);
    server.start();
  }

  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  private void forward(HttpExchange exchange) throws IOException {
    boolean admitted = note();
    try (exchange) {
      byte[] body;
      try (InputStream in = exchange.getRequestBody()) {
        body = in.readAllBytes();
      }
      if (!admitted) {
        refuse(exchange, body);
        return;
      }
      HttpRequest.Builder request =
          HttpRequest.newBuilder(URI.create(target + exchange.getRequestURI().toString()))
              .timeout(Duration.ofSeconds(120))
              .method(exchange.getRequestMethod(), HttpRequest.BodyPublishers.ofByteArray(body));
      exchange
          .getRequestHeaders()
          .forEach(
              (name, values) -> {
                if (!HOP_BY_HOP.contains(name.toLowerCase(java.util.Locale.ROOT))) {
                  values.forEach(v -> request.header(name, v));
                }
              });
      HttpResponse<byte[]> response;
      try {
        response = client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
      } catch (IOException e) {
        exchange.sendResponseHeaders(502, -1);
        return;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        exchange.sendResponseHeaders(502, -1);
        return;
      }
      response
          .headers()
          .map()
          .forEach(
              (name, values) -> {
                if (!HOP_BY_HOP.contains(name.toLowerCase(java.util.Locale.ROOT))
                    && !name.startsWith(":")) {
                  exchange.getResponseHeaders().put(name, values);
                }
              });
      byte[] answer = response.body();
      exchange.sendResponseHeaders(response.statusCode(), answer.length == 0 ? -1 : answer.length);
      if (answer.length > 0) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(answer);
        }
      }
    }
  }

  /** Notes an arrival; false when the node is at capacity and the request is to be refused. */
  private synchronized boolean note() {
    long now = System.nanoTime() - origin;
    if (count == arrivals.length) {
      arrivals = Arrays.copyOf(arrivals, count * 2);
    }
    arrivals[count++] = now;
    while (!forwardedInLastSecond.isEmpty()
        && now - forwardedInLastSecond.peekFirst() >= 1_000_000_000L) {
      forwardedInLastSecond.removeFirst();
    }
    if (forwardedInLastSecond.size() >= capacityPerSecond) {
      refused++;
      return false;
    }
    forwardedInLastSecond.addLast(now);
    return true;
  }

  private static void refuse(HttpExchange exchange, byte[] request) throws IOException {
    JsonNode id = NullNode.getInstance();
    try {
      id = Json.mapper().readTree(request).path("id");
    } catch (IOException | RuntimeException e) {
      // Not JSON-RPC: the refusal carries a null id.
    }
    ObjectNode answer = Json.mapper().createObjectNode();
    answer.put("jsonrpc", "2.0");
    answer.set("id", id.isMissingNode() ? NullNode.getInstance() : id);
    answer.putObject("error").put("code", -32005).put("message", "request rate exceeded");
    byte[] bytes = Json.mapper().writeValueAsBytes(answer);
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    exchange.getResponseHeaders().add("Retry-After", "1");
    exchange.sendResponseHeaders(429, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  /** Requests refused because the node was at capacity (never forwarded). */
  public synchronized int refused() {
    return refused;
  }

  /** Requests seen so far. */
  public synchronized int count() {
    return count;
  }

  /** Nanoseconds since this proxy started, on the clock arrivals are noted with. */
  public long now() {
    return System.nanoTime() - origin;
  }

  /** Requests that arrived in [{@code fromNanos}, {@code toNanos}). */
  public synchronized int countBetween(long fromNanos, long toNanos) {
    int n = 0;
    for (int i = 0; i < count; i++) {
      if (arrivals[i] >= fromNanos && arrivals[i] < toNanos) {
        n++;
      }
    }
    return n;
  }

  /**
   * The most requests in any window of {@code window} that lies within [{@code fromNanos}, {@code
   * toNanos}), sliding from arrival to arrival.
   */
  public synchronized int maxInWindow(Duration window, long fromNanos, long toNanos) {
    long w = window.toNanos();
    long[] in =
        Arrays.stream(arrivals, 0, count)
            .filter(t -> t >= fromNanos && t < toNanos)
            .sorted()
            .toArray();
    int best = 0;
    int start = 0;
    for (int end = 0; end < in.length; end++) {
      while (in[end] - in[start] >= w) {
        start++;
      }
      best = Math.max(best, end - start + 1);
    }
    return best;
  }

  /** Requests per whole second since {@code fromNanos}, one entry per second up to now. */
  public synchronized List<Integer> perSecond(long fromNanos, long toNanos) {
    List<Integer> series = new ArrayList<>();
    for (long s = fromNanos; s + 1_000_000_000L <= toNanos; s += 1_000_000_000L) {
      series.add(countBetween(s, s + 1_000_000_000L));
    }
    return series;
  }

  @Override
  public void close() {
    server.stop(0);
    workers.shutdownNow();
    try {
      workers.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
