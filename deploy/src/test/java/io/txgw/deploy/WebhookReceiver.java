package io.txgw.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A client's webhook receiver, as docs/api.md shows one: it checks every delivery's signature (its
 * own HMAC code, not the gateway's) and timestamp, refuses what fails with 401, fails every {@code
 * failEvery}-th delivery on purpose with 500, and can be taken down and brought up again on its
 * port. It keeps each event once, by id, in the order first taken.
 */
final class WebhookReceiver implements AutoCloseable {
  static final long MAX_AGE_SECONDS = 300;

  private final byte[] secret;
  private final int failEvery;
  private final ObjectMapper json = new ObjectMapper();
  private final Map<String, JsonNode> events = new LinkedHashMap<>();
  private final AtomicInteger deliveries = new AtomicInteger();
  private final AtomicInteger refused = new AtomicInteger();
  private final AtomicInteger failedOnPurpose = new AtomicInteger();
  private final AtomicInteger duplicates = new AtomicInteger();
  private volatile String lastSignature;
  private volatile byte[] lastBody;
  private HttpServer server;
  private int port;

  WebhookReceiver(String secret, int failEvery) {
    this.secret = secret.getBytes(StandardCharsets.UTF_8);
    this.failEvery = failEvery;
  }

  /**
   * Listens again on its port. The first time, a free port below the ephemeral range: while it is
   * down, no outgoing connection (the gateway's own attempts included) can be given its port.
   */
  synchronized WebhookReceiver up() throws IOException {
    if (port == 0) {
      server = firstFree();
    } else {
      server =
          io.txgw.common.http.JdkHttpServers.create(
              new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
    }
    server.createContext("/hooks/txgw", this::handle);
    server.start();
    port = server.getAddress().getPort();
    return this;
  }

  private static HttpServer firstFree() throws IOException {
    int start = 20_000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(10_000);
    for (int p = start; p < start + 2_000; p++) {
      try {
        return io.txgw.common.http.JdkHttpServers.create(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), p), 50);
      } catch (java.net.BindException e) {
        // Taken: the next.
      }
    }
    throw new IOException("no free port from " + start);
  }

  synchronized void down() {
    server.stop(0);
  }

  String url() {
    return "http://127.0.0.1:" + port + "/hooks/txgw";
  }

  private void handle(HttpExchange exchange) throws IOException {
    byte[] body;
    try (InputStream in = exchange.getRequestBody()) {
      body = in.readAllBytes();
    }
    String signature = exchange.getRequestHeaders().getFirst("Txgw-Signature");
    int status;
    if (!verify(signature, body, System.currentTimeMillis() / 1000)) {
      refused.incrementAndGet();
      status = 401;
    } else if (deliveries.incrementAndGet() % failEvery == 0) {
      failedOnPurpose.incrementAndGet();
      status = 500;
    } else {
      lastSignature = signature;
      lastBody = body;
      take(json.readTree(body));
      status = 200;
    }
    exchange.sendResponseHeaders(status, -1);
    exchange.close();
  }

  private synchronized void take(JsonNode delivery) {
    for (JsonNode event : delivery.path("events")) {
      if (events.putIfAbsent(event.path("id").asText(), event) != null) {
        duplicates.incrementAndGet();
      }
    }
  }

  /**
   * The check a receiver makes: t fresh, and one v1 equal to HMAC-SHA256(secret, t + "." + body).
   */
  boolean verify(String header, byte[] body, long nowSeconds) {
    if (header == null) {
      return false;
    }
    long t = -1;
    List<String> signatures = new ArrayList<>();
    for (String part : header.split(",")) {
      if (part.startsWith("t=")) {
        try {
          t = Long.parseLong(part.substring(2));
        } catch (NumberFormatException e) {
          return false;
        }
      } else if (part.startsWith("v1=")) {
        signatures.add(part.substring(3));
      }
    }
    if (t < 0 || Math.abs(nowSeconds - t) > MAX_AGE_SECONDS) {
      return false;
    }
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      mac.update((t + ".").getBytes(StandardCharsets.US_ASCII));
      byte[] expected = mac.doFinal(body);
      for (String s : signatures) {
        byte[] given;
        try {
          given = HexFormat.of().parseHex(s);
        } catch (IllegalArgumentException e) {
          continue;
        }
        if (MessageDigest.isEqual(expected, given)) {
          return true;
        }
      }
      return false;
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  synchronized Map<String, JsonNode> events() {
    return new LinkedHashMap<>(events);
  }

  int refused() {
    return refused.get();
  }

  int failedOnPurpose() {
    return failedOnPurpose.get();
  }

  int duplicates() {
    return duplicates.get();
  }

  String lastSignature() {
    return lastSignature;
  }

  byte[] lastBody() {
    return lastBody;
  }

  @Override
  public synchronized void close() {
    if (server != null) {
      server.stop(0);
    }
  }
}
