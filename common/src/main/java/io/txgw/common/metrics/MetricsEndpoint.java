package io.txgw.common.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.txgw.common.concurrent.Daemons;
import io.txgw.common.http.JdkHttpServers;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /metrics} for a process without an HTTP API of its own (the consumer): the JDK's
 * server on one thread is enough for a scrape every few seconds.
 */
public final class MetricsEndpoint implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(MetricsEndpoint.class);
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  static {
    // The JDK server reads this once, when its first instance is made in the process: without it
    // every small answer waits out the client's delayed ACK (40 ms), and so would any other JDK
    // server made later in the same process.
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
  }

  private final HttpServer server;
  private final ExecutorService executor;

  private MetricsEndpoint(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /** Serves the registry at {@code http://host:port/metrics}; port 0 picks a free one. */
  public static MetricsEndpoint start(PrometheusMeterRegistry registry, String host, int port) {
    HttpServer server;
    try {
      server = JdkHttpServers.create(new InetSocketAddress(host, port), 16);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot bind metrics on " + host + ":" + port, e);
    }
    server.createContext("/metrics", exchange -> answer(exchange, registry));
    ExecutorService executor = Executors.newSingleThreadExecutor(Daemons.named("metrics-http"));
    server.setExecutor(executor);
    server.start();
    MetricsEndpoint endpoint = new MetricsEndpoint(server, executor);
    log.info("metrics on {}", endpoint.url());
    return endpoint;
  }

  private static void answer(HttpExchange exchange, PrometheusMeterRegistry registry)
      throws IOException {
    try (exchange) {
      if (!"GET".equals(exchange.getRequestMethod())) {
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  public int port() {
    return server.getAddress().getPort();
  }

  public String url() {
    return "http://" + server.getAddress().getHostString() + ":" + port() + "/metrics";
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
