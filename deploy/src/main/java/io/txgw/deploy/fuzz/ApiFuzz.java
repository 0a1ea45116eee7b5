package io.txgw.deploy.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.json.Json;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * Requests to the HTTP API made to break it: valid batches mutated byte by byte and field by field,
 * JSON and CSV of odd shapes, wrong and missing headers and keys, ids, amounts and addresses at and
 * past their limits. {@link #send} checks each answer against what the API promises: a 2xx only for
 * a valid batch, otherwise a 4xx with a problem body naming the status, never a 5xx; and counts the
 * payouts accepted so that a caller can check that nothing else was written.
 */
public final class ApiFuzz {
  static final String SOURCE = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
  static final List<String> ADDRESSES =
      List.of(
          "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
          "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359",
          "0xFB6916095CA1DF60BB79CE92CE3EA74C37C5D359",
          "0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
          "0x0000000000000000000000000000000000000000",
          "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA",
          "rb1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080",
          "",
          "0x" + "g".repeat(40));
  static final List<String> AMOUNTS =
      List.of(
          "1",
          "0.000000000000000001",
          "0.0000000000000000001",
          "-1",
          "0",
          "-0",
          "1e18",
          "1E-3",
          "NaN",
          "Infinity",
          "999999999999999999999999999999",
          "1000",
          "1000.000000000000000001",
          " 1",
          "1 ",
          "0x10",
          "1,5",
          "١",
          "",
          "00.1",
          ".5",
          "5.");
  private static final byte[] OPENERS = {'[', '{', '"'};
  static final List<String> CONTENT_TYPES =
      List.of(
          "application/json",
          "application/json; charset=utf-8",
          "text/csv",
          "text/plain",
          "application/x-www-form-urlencoded",
          "",
          "application/problem+json",
          "APPLICATION/JSON");

  /** One request. {@code key} null sends none. */
  public record Case(
      String method, String path, String contentType, String key, byte[] body, String label) {}

  /** What the answers said so far. */
  public static final class Tally {
    public final AtomicLong cases = new AtomicLong();
    public final AtomicLong payoutsAccepted = new AtomicLong();
    final Set<String> acceptedBatches = new HashSet<>();
  }

  private ApiFuzz() {}

  /** The account fuzzed batches pay from: give the fuzzing client the right to spend from it. */
  public static String source() {
    return SOURCE;
  }

  /** Every kind of request, mixed. */
  public static Arbitrary<Case> cases(String key) {
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(4, mutatedBatches(key)),
        net.jqwik.api.Tuple.of(4, fieldBatches(key)),
        net.jqwik.api.Tuple.of(2, csvBatches(key)),
        net.jqwik.api.Tuple.of(2, oddJson(key)),
        net.jqwik.api.Tuple.of(1, oddHeaders(key)),
        net.jqwik.api.Tuple.of(1, oddReads(key)));
  }

  static Arbitrary<String> ids() {
    return Arbitraries.oneOf(
        Arbitraries.strings().withCharRange('a', 'z').numeric().ofMinLength(1).ofMaxLength(12),
        Arbitraries.strings().all().ofMaxLength(20),
        Arbitraries.of("", "a".repeat(129), "../x", "a b", "x\u0000y", "é", "a/b", "%2F"));
  }

  /** A valid batch's fields one at a time replaced by odd values. */
  static Arbitrary<Case> fieldBatches(String key) {
    Arbitrary<String> batchId = ids();
    Arbitrary<String> chain = Arbitraries.of("ETH", "eth", "BTC", "DOGE", "", "ETH ");
    Arbitrary<String> source = Arbitraries.of(SOURCE, SOURCE.toLowerCase(), "primary", "", "0x1");
    Arbitrary<List<String[]>> lines =
        Combinators.combine(ids(), Arbitraries.of(ADDRESSES), Arbitraries.of(AMOUNTS))
            .as((id, to, amount) -> new String[] {id, to, amount})
            .list()
            .ofMinSize(0)
            .ofMaxSize(8);
    return Combinators.combine(batchId, chain, source, lines)
        .as(
            (b, c, s, ls) -> {
              StringBuilder json = new StringBuilder();
              json.append("{\"batchId\":")
                  .append(quote(b))
                  .append(",\"chain\":")
                  .append(quote(c))
                  .append(",\"source\":")
                  .append(quote(s))
                  .append(",\"payouts\":[");
              for (int i = 0; i < ls.size(); i++) {
                String[] l = ls.get(i);
                json.append(i == 0 ? "" : ",")
                    .append("{\"id\":")
                    .append(quote(l[0]))
                    .append(",\"to\":")
                    .append(quote(l[1]))
                    .append(",\"amount\":")
                    .append(quote(l[2]))
                    .append('}');
              }
              json.append("]}");
              return post(key, "application/json", json.toString(), "fields");
            });
  }

  /** A valid batch with bytes flipped, cut, doubled or inserted. */
  static Arbitrary<Case> mutatedBatches(String key) {
    return Combinators.combine(
            Arbitraries.integers().between(0, 1_000_000),
            Arbitraries.integers().between(0, 4),
            Arbitraries.integers().between(1, 6),
            Arbitraries.bytes())
        .as(
            (seed, kind, times, b) -> {
              byte[] body = validBatch("m" + seed, 1 + seed % 5).getBytes(StandardCharsets.UTF_8);
              for (int t = 0; t < times; t++) {
                int at = Math.floorMod(seed * 31 + t * 17, Math.max(1, body.length));
                body =
                    switch (kind) {
                      case 0 -> flip(body, at, b);
                      case 1 -> cut(body, at);
                      case 2 -> insert(body, at, new byte[] {b});
                      case 3 -> insert(body, at, new byte[] {OPENERS[Math.floorMod(b, 3)]});
                      default -> insert(body, at, slice(body, at, 12));
                    };
              }
              return new Case("POST", "/v1/batches", "application/json", key, body, "mutated");
            });
  }

  static Arbitrary<Case> csvBatches(String key) {
    Arbitrary<String> cell =
        Arbitraries.oneOf(
            Arbitraries.of(ADDRESSES),
            Arbitraries.of(AMOUNTS),
            ids(),
            Arbitraries.of("\"a,b\"", "\"unterminated", "\"\"", "a\"b"));
    return Combinators.combine(
            ids(), Arbitraries.of("ETH", "BTC", "x"), cell.list().ofMaxSize(5).list().ofMaxSize(6))
        .as(
            (batchId, chain, rows) -> {
              StringBuilder csv = new StringBuilder("id,to,amount,memo\n");
              rows.forEach(r -> csv.append(String.join(",", r)).append('\n'));
              String path =
                  "/v1/batches?batchId="
                      + URLEncoder.encode(batchId, StandardCharsets.UTF_8)
                      + "&chain="
                      + chain
                      + "&source="
                      + SOURCE;
              return new Case(
                  "POST",
                  path,
                  "text/csv",
                  key,
                  csv.toString().getBytes(StandardCharsets.UTF_8),
                  "csv");
            });
  }

  static Arbitrary<Case> oddJson(String key) {
    return Arbitraries.oneOf(
            Arbitraries.integers().between(1, 200).map(n -> "[".repeat(n) + "]".repeat(n)),
            Arbitraries.integers()
                .between(1, 200)
                .map(n -> "{\"a\":".repeat(n) + "1" + "}".repeat(n)),
            Arbitraries.of(
                "",
                "null",
                "1",
                "\"s\"",
                "[]",
                "{}",
                "{\"batchId\":1}",
                "{\"payouts\":{}}",
                "{\"batchId\":\"a\",\"batchId\":\"b\"}",
                "{\"payouts\":[1,2,3]}",
                "{} {}",
                "{}x",
                "{\"payouts\":[null]}",
                "\uFEFF{}",
                "{\"chain\":\"ETH\",\"payouts\":[{\"amount\":1.5}]}"),
            Arbitraries.strings().all().ofMaxLength(200))
        .map(body -> post(key, "application/json", body, "odd-json"));
  }

  static Arbitrary<Case> oddHeaders(String key) {
    return Combinators.combine(
            Arbitraries.of(CONTENT_TYPES),
            Arbitraries.of(key, null, "", "x", key + "x", key.toUpperCase(), " " + key),
            Arbitraries.of("POST", "PUT", "DELETE", "PATCH"))
        .as(
            (type, k, method) ->
                new Case(
                    method,
                    "/v1/batches",
                    type,
                    k,
                    validBatch("h" + Math.abs((type + k + method).hashCode()), 1)
                        .getBytes(StandardCharsets.UTF_8),
                    "headers"));
  }

  static Arbitrary<Case> oddReads(String key) {
    return ids()
        .map(id -> URLEncoder.encode(id, StandardCharsets.UTF_8))
        .flatMap(
            id ->
                Arbitraries.of(
                    new Case("GET", "/v1/batches/" + id, "", key, new byte[0], "read"),
                    new Case(
                        "GET",
                        "/v1/batches/" + id + "?payouts=maybe",
                        "",
                        key,
                        new byte[0],
                        "read"),
                    new Case(
                        "GET", "/v1/batches/" + id + "/events", "", key + "x", new byte[0], "read"),
                    new Case("GET", "/v1/" + id, "", key, new byte[0], "read"),
                    new Case("GET", "/v1/approvals/" + id, "", key, new byte[0], "approval"),
                    new Case(
                        "POST", "/v1/batches/" + id + "/approve", "", key, new byte[0], "approval"),
                    new Case(
                        "POST",
                        "/v1/batches/" + id + "/reject?reason=" + id,
                        "",
                        key,
                        new byte[0],
                        "approval")));
  }

  static String validBatch(String batchId, int payouts) {
    StringBuilder json =
        new StringBuilder(
            "{\"batchId\":\""
                + batchId
                + "\",\"chain\":\"ETH\",\"source\":\""
                + SOURCE
                + "\",\"payouts\":[");
    for (int i = 0; i < payouts; i++) {
      json.append(i == 0 ? "" : ",")
          .append("{\"id\":\"")
          .append(batchId)
          .append('-')
          .append(i)
          .append("\",\"to\":\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\",\"amount\":\"0.001\"}");
    }
    return json.append("]}").toString();
  }

  /**
   * Sends one case and checks its answer.
   *
   * @return what is wrong with the answer, if anything
   */
  public static Optional<String> send(HttpClient http, String base, Case c, Tally tally)
      throws Exception {
    tally.cases.incrementAndGet();
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + c.path()))
            .timeout(Duration.ofSeconds(30))
            .method(c.method(), HttpRequest.BodyPublishers.ofByteArray(c.body()));
    if (!c.contentType().isEmpty()) {
      request.header("Content-Type", c.contentType());
    }
    if (c.key() != null && !c.key().isEmpty() && c.key().strip().equals(c.key())) {
      request.header("X-Api-Key", c.key());
    }
    HttpResponse<String> r;
    if (c.path().endsWith("/events")) {
      HttpResponse<java.io.InputStream> s =
          http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
      s.body().close();
      return s.statusCode() >= 500
          ? Optional.of(c.label() + ": " + s.statusCode())
          : Optional.empty();
    }
    r = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    int status = r.statusCode();
    if (status >= 500) {
      return Optional.of(c.label() + " answered " + status + ": " + r.body());
    }
    if (status >= 400) {
      String type = r.headers().firstValue("Content-Type").orElse("");
      if (!type.startsWith("application/problem+json")) {
        return Optional.of(c.label() + " answered " + status + " as " + type);
      }
      JsonNode problem = Json.mapper().readTree(r.body());
      if (problem.path("status").asInt() != status || r.body().contains("Exception")) {
        return Optional.of(c.label() + " answered " + status + " with " + r.body());
      }
      return Optional.empty();
    }
    if (status == 202) {
      JsonNode accepted = Json.mapper().readTree(r.body());
      synchronized (tally.acceptedBatches) {
        if (tally.acceptedBatches.add(accepted.path("batchId").asText())) {
          // Payouts an earlier batch accepted are that batch's: not written again.
          tally.payoutsAccepted.addAndGet(
              accepted.path("payouts").asLong() - accepted.path("acceptedEarlier").size());
        }
      }
      if (!c.method().equals("POST")) {
        return Optional.of(c.label() + ": a " + c.method() + " was accepted");
      }
    }
    return Optional.empty();
  }

  private static Case post(String key, String type, String body, String label) {
    return new Case("POST", "/v1/batches", type, key, body.getBytes(StandardCharsets.UTF_8), label);
  }

  private static String quote(String s) {
    try {
      return Json.mapper().writeValueAsString(s);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] flip(byte[] body, int at, byte b) {
    byte[] out = body.clone();
    if (out.length > 0) {
      out[at] ^= (byte) (b == 0 ? 1 : b);
    }
    return out;
  }

  private static byte[] cut(byte[] body, int at) {
    byte[] out = new byte[at];
    System.arraycopy(body, 0, out, 0, at);
    return out;
  }

  private static byte[] insert(byte[] body, int at, byte[] extra) {
    byte[] out = new byte[body.length + extra.length];
    System.arraycopy(body, 0, out, 0, at);
    System.arraycopy(extra, 0, out, at, extra.length);
    System.arraycopy(body, at, out, at + extra.length, body.length - at);
    return out;
  }

  private static byte[] slice(byte[] body, int at, int n) {
    int end = Math.min(body.length, at + n);
    byte[] out = new byte[end - at];
    System.arraycopy(body, at, out, 0, out.length);
    return out;
  }
}
