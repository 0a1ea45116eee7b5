package io.txgw.consumer.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.txgw.common.json.Json;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.Call;
import okhttp3.ConnectionPool;
import okhttp3.Credentials;
import okhttp3.EventListener;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A JSON-RPC 1.0/2.0 client over HTTP for one node. Failures are classified once into {@link
 * RpcException.Kind}. Only calls the node never saw are retried; OkHttp's own silent retry is off,
 * because a payment call resent after a broken connection can pay twice.
 */
public final class JsonRpcClient implements Rpc {
  private static final Logger log = LoggerFactory.getLogger(JsonRpcClient.class);
  private static final MediaType JSON = MediaType.get("application/json");

  /** JSON-RPC "limit exceeded", used by Ethereum nodes and providers for rate limiting. */
  private static final int LIMIT_EXCEEDED = -32005;

  private final RpcEndpoint endpoint;
  private final OkHttpClient http;
  private final RetryPolicy retry;
  private final String authorization;
  private final AtomicLong ids = new AtomicLong();
  private final CallGate gate;

  public JsonRpcClient(RpcEndpoint endpoint, RetryPolicy retry) {
    this(endpoint, retry, httpClient());
  }

  /** Shares {@code base}'s connection pool and threads; settings are this endpoint's. */
  public JsonRpcClient(RpcEndpoint endpoint, RetryPolicy retry, OkHttpClient base) {
    this(endpoint, retry, base, CallGate.OPEN);
  }

  /** Every attempt, retries included, passes {@code gate} first. */
  public JsonRpcClient(RpcEndpoint endpoint, RetryPolicy retry, OkHttpClient base, CallGate gate) {
    this.gate = gate;
    this.endpoint = endpoint;
    this.retry = retry;
    this.http =
        base.newBuilder()
            .retryOnConnectionFailure(false)
            .followRedirects(false)
            .followSslRedirects(false)
            .connectTimeout(Math.min(endpoint.timeout().toMillis(), 5_000), TimeUnit.MILLISECONDS)
            .readTimeout(endpoint.timeout().toMillis(), TimeUnit.MILLISECONDS)
            .writeTimeout(endpoint.timeout().toMillis(), TimeUnit.MILLISECONDS)
            // The whole call too: a node trickling its answer just inside each read's timeout
            // would otherwise hold the poll thread for ever. A call cut off after it was sent is
            // in doubt like any timeout, and looked up on the chain.
            .callTimeout(endpoint.timeout().toMillis() * 4, TimeUnit.MILLISECONDS)
            .eventListenerFactory(call -> new SentTracker(call.request().tag(Sent.class)))
            .build();
    this.authorization =
        endpoint.user() == null || endpoint.password() == null
            ? null
            : Credentials.basic(endpoint.user(), endpoint.password().reveal());
  }

  public RpcEndpoint endpoint() {
    return endpoint;
  }

  @Override
  public String name() {
    return endpoint.name();
  }

  @Override
  public JsonNode call(String method, ArrayNode params) throws RpcException, InterruptedException {
    return withRetries(
        method,
        () -> {
          ObjectNode request = Json.mapper().createObjectNode();
          if (endpoint.jsonRpc2()) {
            request.put("jsonrpc", "2.0");
          }
          request.put("id", ids.incrementAndGet());
          request.put("method", method);
          request.set("params", params);
          return exchange(
              method,
              new Request.Builder()
                  .url(endpoint.url())
                  .post(RequestBody.create(request.toString(), JSON)),
              response -> read(method, response));
        });
  }

  @Override
  public JsonNode rest(String httpMethod, String path, JsonNode body)
      throws RpcException, InterruptedException {
    String what = httpMethod + " " + path;
    return withRetries(
        what,
        () ->
            exchange(
                what,
                new Request.Builder()
                    .url(endpoint.url().replaceAll("/+$", "") + path)
                    .method(
                        httpMethod,
                        body == null && httpMethod.equals("GET")
                            ? null
                            : RequestBody.create(body == null ? "{}" : body.toString(), JSON)),
                response -> readRest(what, response)));
  }

  /** One request and its classified answer. */
  private interface Attempt {
    JsonNode run() throws RpcException, InterruptedException;
  }

  /** Reads a response into a result, or the failure it tells of. */
  private interface Reader {
    JsonNode read(Response response) throws RpcException, IOException;
  }

  /** Retries only what the node never saw: refused connections and rate limiting. */
  private JsonNode withRetries(String what, Attempt attempt)
      throws RpcException, InterruptedException {
    for (int n = 1; ; n++) {
      try {
        return attempt.run();
      } catch (RpcException e) {
        boolean unseen =
            e.kind() == RpcException.Kind.CONNECT_FAILED
                || e.kind() == RpcException.Kind.RATE_LIMITED;
        if (!unseen || n >= retry.maxAttempts()) {
          throw e;
        }
        long backoff = retry.backoff(n).toMillis();
        log.debug(
            "{} {} failed ({}), retry {} in {} ms", endpoint.name(), what, e.kind(), n, backoff);
        Thread.sleep(backoff);
      }
    }
  }

  /**
   * Sends one request through the gate and classifies the outcome; the gate hears how it went (a
   * node's JSON-RPC error is an answer, not a failure).
   */
  private JsonNode exchange(String what, Request.Builder builder, Reader reader)
      throws RpcException, InterruptedException {
    Sent sent = new Sent();
    builder.tag(Sent.class, sent);
    if (authorization != null) {
      builder.header("Authorization", authorization);
    }
    Call call = http.newCall(builder.build());
    long entered = System.nanoTime();
    CallGate.Permit permit = gate.enter(what);
    long t0 = System.nanoTime();
    try (Response response = call.execute()) {
      JsonNode answer = reader.read(response);
      permit.done(null, System.nanoTime() - t0);
      if (log.isTraceEnabled()) {
        // Where a consumer's time goes: waiting for its budget, then the call itself.
        log.trace(
            "{}: waited {} ms for the budget, answered in {} ms",
            what,
            (t0 - entered) / 1_000_000,
            (System.nanoTime() - t0) / 1_000_000);
      }
      return answer;
    } catch (RpcException e) {
      permit.done(
          e.kind() == RpcException.Kind.NODE_ERROR ? null : e.kind(), System.nanoTime() - t0);
      throw e;
    } catch (IOException e) {
      RpcException classified = classify(what, e, sent.started);
      permit.done(classified.kind(), System.nanoTime() - t0);
      throw classified;
    }
  }

  private static JsonNode readRest(String what, Response response)
      throws RpcException, IOException {
    ResponseBody body = response.body();
    String text = bounded(body);
    JsonNode json;
    try {
      json = text.isEmpty() ? null : Json.mapper().readTree(text);
    } catch (IOException e) {
      json = null;
    }
    if (response.code() == 429) {
      throw new RpcException(RpcException.Kind.RATE_LIMITED, null, 429, what + ": HTTP 429", null);
    }
    JsonNode error = json == null ? null : json.get("error");
    if (error != null && !error.isNull()) {
      throw new RpcException(
          RpcException.Kind.NODE_ERROR,
          null,
          response.code(),
          error.path("message").asText(error.toString()),
          null);
    }
    if (!response.isSuccessful()) {
      throw new RpcException(
          RpcException.Kind.HTTP_ERROR,
          null,
          response.code(),
          what + ": HTTP " + response.code(),
          null);
    }
    if (json == null) {
      throw new RpcException(
          RpcException.Kind.MALFORMED, null, response.code(), what + ": answer is not JSON", null);
    }
    return json;
  }

  private JsonNode read(String method, Response response) throws RpcException, IOException {
    ResponseBody body = response.body();
    String text = bounded(body);
    if (response.code() == 429) {
      throw new RpcException(
          RpcException.Kind.RATE_LIMITED, null, 429, method + ": HTTP 429", null);
    }
    JsonNode json;
    try {
      json = text.isEmpty() ? null : Json.mapper().readTree(text);
    } catch (IOException e) {
      json = null;
    }
    boolean isRpc = json != null && json.isObject() && (json.has("result") || json.has("error"));
    if (!isRpc) {
      // Bitcoin Core answers errors with HTTP 500 and a JSON-RPC body; only a body without one
      // leaves the outcome open.
      RpcException.Kind kind =
          response.isSuccessful() ? RpcException.Kind.MALFORMED : RpcException.Kind.HTTP_ERROR;
      throw new RpcException(
          kind,
          null,
          response.code(),
          method + ": HTTP " + response.code() + " without JSON-RPC answer",
          null);
    }
    JsonNode error = json.get("error");
    if (error != null && !error.isNull()) {
      Integer code = error.path("code").isInt() ? error.path("code").intValue() : null;
      String message = error.path("message").asText(error.toString());
      RpcException.Kind kind =
          code != null && code == LIMIT_EXCEEDED
              ? RpcException.Kind.RATE_LIMITED
              : RpcException.Kind.NODE_ERROR;
      throw new RpcException(kind, code, response.code(), message, null);
    }
    return json.get("result");
  }

  private RpcException classify(String method, IOException e, boolean requestStarted) {
    String what = method + " on " + endpoint.name();
    if (!requestStarted
        && (e instanceof ConnectException
            || e instanceof NoRouteToHostException
            || e instanceof UnknownHostException
            || e instanceof SocketTimeoutException)) {
      return new RpcException(
          RpcException.Kind.CONNECT_FAILED,
          null,
          0,
          what + ": cannot connect: " + e.getMessage(),
          e);
    }
    if (e instanceof SocketTimeoutException || e instanceof InterruptedIOException) {
      return new RpcException(RpcException.Kind.TIMEOUT, null, 0, what + ": no answer in time", e);
    }
    if (!requestStarted) {
      return new RpcException(
          RpcException.Kind.CONNECT_FAILED, null, 0, what + ": " + e.getMessage(), e);
    }
    return new RpcException(
        RpcException.Kind.DISCONNECTED, null, 0, what + ": connection lost: " + e.getMessage(), e);
  }

  /** Set once OkHttp starts writing the request: from then on the node may have seen it. */
  private static final class Sent {
    volatile boolean started;
  }

  private static final class SentTracker extends EventListener {
    private final Sent sent;

    SentTracker(Sent sent) {
      this.sent = sent;
    }

    @Override
    public void requestHeadersStart(Call call) {
      if (sent != null) {
        sent.started = true;
      }
    }
  }

  /**
   * A base client whose pooled connections are dropped after 4 s idle: node servers close idle
   * keep-alive connections (Node.js, and so bcoin, after 5 s), and a request written onto a
   * connection the server is closing fails with its outcome unknown, which is never retried here.
   */
  public static OkHttpClient httpClient() {
    return new OkHttpClient.Builder()
        .connectionPool(new ConnectionPool(16, 4, TimeUnit.SECONDS))
        // A node answers; it does not send a request (a transaction, a wallet call) elsewhere.
        .followRedirects(false)
        .followSslRedirects(false)
        .build();
  }

  /** The largest answer read from a node: a node cannot make this process hold more. */
  static final long MAX_ANSWER_BYTES = 64L * 1024 * 1024;

  private static String bounded(ResponseBody body) throws IOException {
    if (body == null) {
      return "";
    }
    if (body.contentLength() > MAX_ANSWER_BYTES) {
      throw new IOException("answer of " + body.contentLength() + " bytes, over the limit");
    }
    okio.BufferedSource source = body.source();
    if (source.request(MAX_ANSWER_BYTES + 1)) {
      throw new IOException("answer over " + MAX_ANSWER_BYTES + " bytes");
    }
    return source.getBuffer().readUtf8();
  }

  /** Releases threads and pooled connections shared by every client made from one base. */
  public static void shutdown(OkHttpClient base) {
    base.dispatcher().executorService().shutdown();
    base.connectionPool().evictAll();
  }
}
