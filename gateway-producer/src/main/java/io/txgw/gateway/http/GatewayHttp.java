package io.txgw.gateway.http;

import static io.txgw.gateway.http.Responses.failure;
import static io.txgw.gateway.http.Responses.json;
import static io.txgw.gateway.http.Responses.problem;
import static io.txgw.gateway.http.Responses.retrySoon;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.txgw.common.metrics.MetricsEndpoint;
import io.txgw.common.model.BatchRecord;
import io.txgw.gateway.ApiKeys;
import io.txgw.gateway.ApprovalDesk;
import io.txgw.gateway.BatchService;
import io.txgw.gateway.GatewayConfig;
import io.txgw.gateway.SubmitOutcome;
import io.txgw.gateway.approval.ApprovalState;
import io.txgw.gateway.kafka.LaneFault;
import io.txgw.gateway.monitor.Backpressure;
import io.txgw.gateway.monitor.ConsumerLagWatch;
import io.txgw.gateway.monitor.NodeUseWatch;
import io.txgw.gateway.status.PayoutIndex;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The HTTP API: a route table over {@link BatchService}, and one error policy. */
public final class GatewayHttp {
  private static final Logger log = LoggerFactory.getLogger(GatewayHttp.class);
  private static final String CLIENT = Admission.CLIENT;
  private static final String CALLER = Admission.CALLER;
  static final String BATCH_ID = "txgw.batchId";
  private static final String BODY_DIGEST = "txgw.bodyDigest";
  private static final int INLINE_BODY_BYTES = 16 * 1024;

  private final Vertx vertx;
  private final BatchService service;
  private final int maxBodyBytes;
  private final HttpGuards guards;
  private final Admission admission;
  private final AuditLog audit;
  private final PrometheusMeterRegistry meters;
  private final Backpressure backpressure;
  private final Supplier<List<LaneFault>> writerFaults;
  private final StatusRoutes status;
  private final ApprovalDesk desk;
  private final ApprovalRoutes approvals;
  private EventRoutes events = new EventRoutes(null, null, CLIENT);

  /**
   * What the routes answer from, besides the batch service.
   *
   * @param writerFaults the Kafka writer's lanes that cannot write now, for readiness
   */
  public record Monitoring(
      PrometheusMeterRegistry meters,
      ConsumerLagWatch lag,
      NodeUseWatch nodes,
      Backpressure backpressure,
      long maxLag,
      Supplier<List<LaneFault>> writerFaults) {}

  /**
   * @param audit where accepted and refused batches are recorded; null records nothing (tests)
   */
  public GatewayHttp(
      Vertx vertx,
      BatchService service,
      Supplier<ApiKeys> apiKeys,
      int maxBodyBytes,
      GatewayConfig.HttpLimits limits,
      AuditLog audit,
      Monitoring monitoring) {
    this(vertx, service, null, apiKeys, maxBodyBytes, limits, audit, monitoring);
  }

  /**
   * @param desk holds batches that need approval, and decides them; null holds none (a batch that
   *     needs approval is then refused)
   * @param audit where accepted and refused batches are recorded; null records nothing (tests)
   */
  public GatewayHttp(
      Vertx vertx,
      BatchService service,
      ApprovalDesk desk,
      Supplier<ApiKeys> apiKeys,
      int maxBodyBytes,
      GatewayConfig.HttpLimits limits,
      AuditLog audit,
      Monitoring monitoring) {
    this.desk = desk;
    this.vertx = vertx;
    this.service = service;
    this.maxBodyBytes = maxBodyBytes;
    this.guards = new HttpGuards(limits, System::nanoTime);
    this.admission = new Admission(vertx, apiKeys, guards, maxBodyBytes, this::refused);
    this.audit = audit;
    this.meters = monitoring.meters();
    this.backpressure = monitoring.backpressure();
    this.writerFaults = monitoring.writerFaults();
    this.status =
        new StatusRoutes(
            vertx,
            service,
            new BatchEvents(
                vertx, service.view(), limits.maxStreamsPerClient(), limits.maxStreams()),
            new Dashboard(
                service.view(), monitoring.lag(), monitoring.nodes(), monitoring.maxLag()),
            CLIENT,
            desk);
    this.approvals =
        new ApprovalRoutes(vertx, desk, this::auditDecision, CALLER, backpressure::check);
  }

  /** Serves {@code GET /v1/events} and the webhook delivery log from {@code log}; before listen. */
  public GatewayHttp withEventLog(io.txgw.gateway.events.EventLog log) {
    this.events = new EventRoutes(vertx, log, CLIENT);
    return this;
  }

  /**
   * Serves the API on {@code host:port}, over TLS when {@code tls} is given.
   *
   * @param idleTimeoutSeconds a connection that sends and receives nothing this long is closed
   */
  public Future<HttpServer> listen(
      String host, int port, PemKeyCertOptions tls, int idleTimeoutSeconds) {
    HttpServerOptions options =
        new HttpServerOptions()
            .setHost(host)
            .setPort(port)
            .setIdleTimeout(idleTimeoutSeconds)
            .setIdleTimeoutUnit(TimeUnit.SECONDS)
            // Headers bounded: a request's first line and headers are read before any handler.
            // The first line may carry an event cursor: a few kilobytes for 1,000 partitions.
            .setMaxInitialLineLength(16 * 1024)
            .setMaxHeaderSize(16 * 1024)
            // HTTP/1.1 only: an h2c connection carries 100 requests at once past the caps here.
            .setHttp2ClearTextEnabled(false);
    if (tls != null) {
      options.setSsl(true).setKeyCertOptions(tls);
    }
    Router router = router(tls != null);
    this.routes = router.getRoutes();
    return vertx
        .createHttpServer(options)
        .connectionHandler(guards::admit)
        .requestHandler(router)
        .listen();
  }

  /** The API server's routes, once it listens. */
  private volatile List<io.vertx.ext.web.Route> routes = List.of();

  /**
   * The API's operations as {@code METHOD /path} ({@code /v1/batches/{batchId}}), what {@code
   * /openapi.json} must describe: the dashboard page's files and the handlers every request passes
   * through (no path, or no method) are not operations.
   */
  public java.util.SortedSet<String> operations() {
    java.util.SortedSet<String> operations = new java.util.TreeSet<>();
    for (io.vertx.ext.web.Route route : routes) {
      String path = route.getPath();
      if (path == null || route.methods() == null || path.startsWith("/ui")) {
        continue;
      }
      String templated = path.replaceAll(":([A-Za-z]+)", "{$1}");
      route.methods().forEach(m -> operations.add(m.name() + " " + templated));
    }
    return operations;
  }

  /** The API described in OpenAPI 3.1, as the jar holds it: read once. */
  private static final io.vertx.core.buffer.Buffer OPENAPI = openApi();

  private static io.vertx.core.buffer.Buffer openApi() {
    try (java.io.InputStream in = GatewayHttp.class.getResourceAsStream("/openapi.json")) {
      if (in == null) {
        throw new IllegalStateException("openapi.json is missing from the gateway's jar");
      }
      return io.vertx.core.buffer.Buffer.buffer(in.readAllBytes());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * Serves {@code /metrics}, {@code /healthz} and {@code /readyz} on a port of their own: the
   * scrape carries per-client figures that API clients have no business reading, and a network rule
   * can let the monitoring in there without letting it reach the API.
   */
  public Future<HttpServer> listenAdmin(String host, int port) {
    // Its own host: an API on all interfaces does not open the scrape with it.
    Router router = Router.router(vertx);
    router.get("/healthz").handler(ctx -> json(ctx, 200, Map.of("status", "UP")));
    router.get("/readyz").handler(ctx -> ready(ctx, true));
    router.get("/metrics").handler(this::metrics);
    router.errorHandler(404, ctx -> problem(ctx, Problem.of(404, "not-found", "Not Found", null)));
    router.errorHandler(500, Responses::internalError);
    return vertx
        .createHttpServer(new HttpServerOptions().setHost(host).setPort(port).setIdleTimeout(60))
        .requestHandler(router)
        .listen();
  }

  Router router() {
    return router(false);
  }

  Router router(boolean tls) {
    Router router = Router.router(vertx);
    router.route().handler(ctx -> SecurityHeaders.add(ctx, tls));
    router.route().handler(new HttpMetrics(meters)::handle);
    router.get("/healthz").handler(ctx -> json(ctx, 200, Map.of("status", "UP")));
    router.get("/readyz").handler(ctx -> ready(ctx, false));
    // What a client generates its code from: no key needed, as for the page of a public API.
    router
        .get("/openapi.json")
        .handler(
            ctx ->
                ctx.response().putHeader("Content-Type", "application/json").end(OPENAPI.copy()));
    router
        .get("/ui")
        .handler(
            ctx -> {
              // Vert.x matches /ui/ here too; only the bare path needs sending to the directory.
              if (ctx.request().path().equals("/ui")) {
                ctx.redirect("/ui/");
              } else {
                ctx.next();
              }
            });
    // The page and its script come from the jar: nothing is fetched from elsewhere.
    router.get("/ui/*").handler(StaticHandler.create("ui").setCachingEnabled(false));
    router.route("/v1/*").handler(admission::authenticate);
    // The scope is checked on a route of its own: a body handler must be a route's first.
    router.post("/v1/batches").handler(ctx -> Admission.require(ctx, ApiKeys.Scope.PAY));
    router.post("/v1/batches").handler(admission::reserveBody);
    router
        .post("/v1/batches")
        .handler(BodyHandler.create(false).setBodyLimit(maxBodyBytes))
        .handler(this::postBatch);
    scoped(router.get("/v1/batches/:batchId"), ApiKeys.Scope.READ, status::getBatch);
    scoped(router.get("/v1/batches/:batchId/events"), ApiKeys.Scope.READ, status::batchEvents);
    scoped(router.post("/v1/batches/:batchId/approve"), ApiKeys.Scope.APPROVE, approvals::approve);
    scoped(router.post("/v1/batches/:batchId/reject"), ApiKeys.Scope.APPROVE, approvals::reject);
    scoped(router.get("/v1/approvals"), ApiKeys.Scope.APPROVE, approvals::approvals);
    scoped(router.get("/v1/approvals/:batchId"), ApiKeys.Scope.APPROVE, approvals::heldBatch);
    scoped(
        router.get("/v1/limits"),
        ApiKeys.Scope.READ,
        ctx -> json(ctx, 200, service.limits(ctx.get(CLIENT))));
    scoped(router.get("/v1/dashboard"), ApiKeys.Scope.READ, status::dashboard);
    scoped(router.get("/v1/events"), ApiKeys.Scope.READ, ctx -> events.events(ctx));
    scoped(
        router.get("/v1/webhooks/deliveries"), ApiKeys.Scope.READ, ctx -> events.deliveries(ctx));
    router.errorHandler(404, ctx -> problem(ctx, Problem.of(404, "not-found", "Not Found", null)));
    router.errorHandler(
        405,
        ctx -> problem(ctx, Problem.of(405, "method-not-allowed", "Method Not Allowed", null)));
    router.errorHandler(
        413,
        ctx ->
            problem(
                ctx,
                Problem.of(
                    413,
                    "body-too-large",
                    "Payload Too Large",
                    "request body exceeds " + maxBodyBytes + " bytes")));
    router.errorHandler(500, Responses::internalError);
    return router;
  }

  /** A route for keys with {@code scope} only. */
  private static void scoped(
      io.vertx.ext.web.Route route,
      ApiKeys.Scope scope,
      io.vertx.core.Handler<RoutingContext> handler) {
    route.handler(ctx -> Admission.require(ctx, scope)).handler(handler);
  }

  private void ready(RoutingContext ctx, boolean detailed) {
    // Any lane that cannot write makes the gateway unready: the requests it takes fail or wait
    // for their deadline, and a balancer told so sends them to another gateway instead.
    // A full payout-id index refuses every new payout id: so does the gateway, to a balancer.
    // One client's bound does not: the others are served.
    List<LaneFault> faults = writerFaults.get();
    PayoutIndex.Holding holding = service.view().payoutIndex().holding();
    boolean ready = serviceReady() && faults.isEmpty() && !holding.full();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put(
        "status", ready ? "READY" : faults.isEmpty() && !holding.full() ? "STARTING" : "NOT_READY");
    // The API port says only whether to send traffic; the admin port says why not.
    if (detailed) {
      if (!faults.isEmpty()) {
        body.put("lanes", faults);
      }
      body.put("payoutIdsHeld", holding);
    }
    json(ctx, ready ? 200 : 503, body);
  }

  private void metrics(RoutingContext ctx) {
    ctx.response().putHeader("Content-Type", MetricsEndpoint.CONTENT_TYPE).end(meters.scrape());
  }

  private boolean serviceReady() {
    return desk == null ? service.isReady() : desk.isReady();
  }

  private void postBatch(RoutingContext ctx) {
    if (!serviceReady()) {
      refused("not-ready");
      audit(ctx, "REFUSED", "not-ready", 503, null);
      retrySoon(ctx, "not-ready", "gateway is starting, or its Kafka writer is recovering");
      return;
    }
    Optional<Backpressure.Refusal> busy = backpressure.check();
    if (busy.isPresent()) {
      Backpressure.Refusal r = busy.get();
      ctx.response().putHeader("Retry-After", Long.toString(r.retryAfter().toSeconds()));
      refused("backpressure");
      audit(ctx, "REFUSED", "backpressure", 429, null);
      problem(
          ctx,
          Problem.of(
              429,
              "backpressure",
              "Too Many Requests",
              r.lag()
                  + " payouts are waiting for the consumers (limit "
                  + r.limit()
                  + "); nothing was written, retry after "
                  + r.retryAfter().toSeconds()
                  + " s"));
      return;
    }
    String client = ctx.get(CLIENT);
    String contentType = Optional.ofNullable(ctx.request().getHeader("Content-Type")).orElse("");
    Buffer body = ctx.body().buffer();
    byte[] bytes = body == null ? new byte[0] : body.getBytes();
    // Parsing and validating 10,000 payouts takes milliseconds: off the event loop. A small body
    // is done in place, where the hand-off to a worker thread would cost more than the work.
    Future<CompletableFuture<SubmitOutcome>> accepted =
        bytes.length <= INLINE_BODY_BYTES
            ? Future.future(promise -> promise.complete(submit(ctx, client, contentType, bytes)))
            : vertx.executeBlocking(() -> submit(ctx, client, contentType, bytes), false);
    Future<SubmitOutcome> decided =
        accepted.compose(
            outcome -> Future.fromCompletionStage(outcome, vertx.getOrCreateContext()));
    Admission.holdBodyUntil(ctx, decided);
    decided
        .onSuccess(outcome -> answer(ctx, outcome))
        .onFailure(
            error -> {
              failure(ctx, error);
              int status = ctx.response().getStatusCode();
              // A 503 may be a batch in doubt (its write, or its hold, not confirmed): not refused.
              audit(ctx, status >= 500 ? "NOT_CONFIRMED" : "REFUSED", "error", status, null);
            });
  }

  /**
   * One audit line for a posted batch: the client and key, the batch id when the body named one, a
   * digest of the body as received (of the validated content when accepted), and for an accepted
   * batch its payouts and totals per asset.
   */
  private void audit(
      RoutingContext ctx, String event, String reason, int status, BatchRecord accepted) {
    audit(ctx, event, reason, status, accepted, null);
  }

  private void audit(
      RoutingContext ctx,
      String event,
      String reason,
      int status,
      BatchRecord accepted,
      ApprovalState held) {
    if (audit == null) {
      return;
    }
    ApiKeys.Caller who = ctx.get(CALLER);
    Map<String, Object> entry = new LinkedHashMap<>();
    entry.put("event", event);
    entry.put("client", who == null ? null : who.client());
    entry.put("key", who == null ? null : who.keyId());
    entry.put("remote", Admission.remote(ctx));
    entry.put("status", status);
    if (reason != null) {
      entry.put("reason", reason);
    }
    String batchId = accepted != null ? accepted.batchId() : ctx.get(BATCH_ID);
    // A refused body's batch id is whatever the client wrote: kept only if it is a valid id, so
    // that no request can write a large line or fill the log.
    entry.put(
        "batchId",
        batchId == null || io.txgw.common.validation.BatchValidator.isValidId(batchId)
            ? batchId
            : "(invalid, " + batchId.length() + " chars)");
    entry.put("bodySha256", ctx.get(BODY_DIGEST));
    if (accepted != null) {
      entry.put("contentSha256", accepted.fingerprint());
      entry.put("chain", accepted.chain());
      entry.put("source", accepted.source());
      entry.put("payouts", accepted.payoutIds().size());
      entry.put("totals", Responses.totals(accepted));
    }
    if (held != null) {
      entry.putAll(AuditLog.held(held));
    }
    audit.write(entry);
  }

  /** One audit line for an approval or a rejection, or an attempt at one. */
  private void auditDecision(
      RoutingContext ctx, String event, String reason, int status, ApprovalState held) {
    audit(ctx, event, reason, status, null, held);
  }

  private CompletableFuture<SubmitOutcome> submit(
      RoutingContext ctx, String client, String contentType, byte[] bytes) {
    ctx.put(BODY_DIGEST, Responses.sha256(bytes));
    BatchRequestParser.Parsed parsed = parse(ctx, contentType, bytes);
    if (parsed.submission() != null) {
      ctx.put(BATCH_ID, parsed.submission().batchId());
    }
    if (!parsed.typeViolations().isEmpty()) {
      return CompletableFuture.completedFuture(
          new SubmitOutcome.Rejected(parsed.typeViolations(), parsed.typeViolations().total()));
    }
    return desk == null
        ? service.submit(client, parsed.submission())
        : desk.submit(ctx.get(CALLER), parsed.submission());
  }

  private BatchRequestParser.Parsed parse(RoutingContext ctx, String contentType, byte[] bytes) {
    String type = contentType.toLowerCase(Locale.ROOT);
    if (type.startsWith("text/csv")) {
      java.util.Map<String, List<String>> query = new java.util.LinkedHashMap<>();
      ctx.queryParams().names().forEach(n -> query.put(n, ctx.queryParams().getAll(n)));
      return BatchRequestParser.csv(bytes, query, service.maxBatchPayouts());
    }
    if (type.isEmpty()) {
      // Guessing the format of money is not this API's business.
      throw new Responses.UnsupportedMediaTypeException("a body without Content-Type");
    }
    if (type.startsWith("application/json")) {
      if (bytes.length == 0) {
        throw new MalformedRequestException("body is empty");
      }
      return BatchRequestParser.json(bytes, service.maxBatchPayouts());
    }
    throw new Responses.UnsupportedMediaTypeException(contentType);
  }

  /** At most this many violations in one answer; {@code more} counts the rest. */
  static final int MAX_VIOLATIONS_LISTED = 100;

  private void refused(String reason) {
    meters.counter("txgw.batches.refused", "reason", reason).increment();
  }

  private void answer(RoutingContext ctx, SubmitOutcome outcome) {
    if (outcome instanceof SubmitOutcome.Accepted accepted) {
      BatchRecord b = accepted.batch();
      if (!accepted.replay()) {
        meters.counter("txgw.batches.accepted", "chain", b.chain().name()).increment();
        meters
            .counter("txgw.payouts.accepted", "chain", b.chain().name())
            .increment(b.payoutIds().size());
      }
      String location = "/v1/batches/" + b.batchId();
      ctx.response().putHeader("Location", location);
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("batchId", b.batchId());
      body.put("chain", b.chain());
      body.put("source", b.source());
      body.put("payouts", b.payoutIds().size());
      body.put("status", "ACCEPTED");
      body.put("acceptedAt", b.acceptedAt());
      body.put("location", location);
      if (!b.acceptedEarlier().isEmpty()) {
        body.put("acceptedEarlier", Responses.acceptedEarlier(b));
      }
      json(ctx, 202, body);
      audit(ctx, accepted.replay() ? "REPLAYED" : "ACCEPTED", null, 202, b);
    } else if (outcome instanceof SubmitOutcome.Rejected rejected) {
      refused("invalid");
      audit(ctx, "REFUSED", "invalid", 422, null);
      Responses.invalidBatch(ctx, rejected.violations(), rejected.total(), "nothing was written");
    } else if (outcome instanceof SubmitOutcome.Conflict conflict) {
      refused("conflict");
      audit(ctx, "REFUSED", "batch-id-conflict", 409, null);
      problem(
          ctx,
          Problem.of(
              409,
              "batch-id-conflict",
              "Conflict",
              "batch "
                  + conflict.existing().batchId()
                  + (conflict.unconfirmed()
                      ? " was posted at "
                          + conflict.existing().acceptedAt()
                          + " with other content, and its write is not confirmed (it may be"
                          + " written); use a new batchId, or re-post it with the same content"
                      : " was accepted at "
                          + conflict.existing().acceptedAt()
                          + " with other content; use a new batchId")));
    } else if (outcome instanceof SubmitOutcome.PayoutIdsTaken taken) {
      refused("payout-id-conflict");
      audit(ctx, "REFUSED", "payout-id-conflict", 409, null);
      Responses.payoutIdsTaken(ctx, taken);
    } else if (outcome instanceof SubmitOutcome.PayoutIdsUnconfirmed unconfirmed) {
      refused("payout-id-unconfirmed");
      audit(ctx, "REFUSED", "payout-id-unconfirmed", 409, null);
      Responses.payoutIdsUnconfirmed(ctx, unconfirmed);
    } else if (outcome instanceof SubmitOutcome.Held held) {
      ApprovalState state = held.state();
      ApprovalState.Status now = state.status();
      ApprovalState.Write write = state.write();
      if (now == ApprovalState.Status.APPROVED
          && write != null
          && write.outcome() == ApprovalState.Outcome.REFUSED) {
        refused("approved-not-written");
        audit(ctx, "REFUSED", "approved-not-written", 409, null, state);
        problem(
            ctx,
            Problem.of(
                409,
                "approved-not-written",
                "Conflict",
                "batch "
                    + state.batchId()
                    + " was approved and its write refused ("
                    + write.reason()
                    + "); nothing of it was written, nor will be: post it again under a new"
                    + " batchId (with the same payout ids)"));
      } else if (now == ApprovalState.Status.APPROVED) {
        // Approved: written (the view behind), or being written by the holder of its claim.
        String location = "/v1/batches/" + state.batchId();
        ctx.response().putHeader("Location", location);
        Map<String, Object> body = new LinkedHashMap<>(desk.describe(state));
        body.put("location", location);
        json(ctx, 202, body);
        audit(ctx, "HELD_REPLAYED", null, 202, null, state);
      } else if (now == ApprovalState.Status.PENDING_APPROVAL) {
        String location = "/v1/batches/" + state.batchId();
        ctx.response().putHeader("Location", location);
        Map<String, Object> body = new LinkedHashMap<>(desk.describe(state));
        body.put("location", location);
        json(ctx, 202, body);
        audit(ctx, held.replay() ? "HELD_REPLAYED" : "HELD", null, 202, null, state);
      } else {
        refused("held-" + now.name().toLowerCase(Locale.ROOT));
        audit(ctx, "REFUSED", "batch-" + now.name().toLowerCase(Locale.ROOT), 409, null);
        problem(
            ctx,
            Problem.of(
                409,
                now == ApprovalState.Status.REJECTED ? "batch-rejected" : "approval-expired",
                "Conflict",
                "batch "
                    + state.batchId()
                    + (now == ApprovalState.Status.REJECTED
                        ? " was rejected by " + state.decidedBy() + " at " + state.decidedAt()
                        : " waited for approval until " + state.expiresAt())
                    + "; nothing of it was written: post it again under a new batchId"));
      }
    } else if (outcome instanceof SubmitOutcome.HeldConflict conflict) {
      refused("conflict");
      audit(ctx, "REFUSED", "batch-id-conflict", 409, null);
      problem(
          ctx,
          Problem.of(
              409,
              "batch-id-conflict",
              "Conflict",
              "batch "
                  + conflict.existing().batchId()
                  + " was held for approval at "
                  + conflict.existing().postedAt()
                  + " with other content; use a new batchId"));
    } else if (outcome instanceof SubmitOutcome.ApprovalsFull full) {
      refused("approvals-full");
      audit(ctx, "REFUSED", "approvals-full", 429, null);
      ctx.response().putHeader("Retry-After", "60");
      problem(
          ctx,
          Problem.of(
              429,
              "approvals-full",
              "Too Many Requests",
              "this client has "
                  + full.maxPending()
                  + " batches waiting for approval, or held "
                  + full.maxPerDay()
                  + " in the last 24 hours; nothing was written: decide some, then post again"));
    } else if (outcome instanceof SubmitOutcome.HeldLimit limit) {
      refused(limit.full().gateway() ? "held-limit" : "client-held-limit");
      audit(ctx, "REFUSED", "held-limit", 429, null);
      Responses.heldLimit(ctx, limit.full());
    }
  }
}
