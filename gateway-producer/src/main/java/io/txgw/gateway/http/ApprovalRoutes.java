package io.txgw.gateway.http;

import static io.txgw.gateway.http.Responses.failure;
import static io.txgw.gateway.http.Responses.json;
import static io.txgw.gateway.http.Responses.problem;

import io.txgw.common.validation.BatchSubmission;
import io.txgw.gateway.ApiKeys;
import io.txgw.gateway.ApprovalDesk;
import io.txgw.gateway.SubmitOutcome;
import io.txgw.gateway.approval.ApprovalState;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The routes of four-eyes approval: the batches waiting, one with its payouts, approve, reject. All
 * need the {@code approve} scope; each decision is answered and audited whatever its outcome.
 */
final class ApprovalRoutes {
  /** A rejection's reason is kept, logged and answered: bounded, and plain text. */
  static final int MAX_REASON_CHARS = 200;

  /** Letters, digits, punctuation, symbols and plain spaces: no controls, no direction marks. */
  private static final java.util.regex.Pattern PLAIN =
      java.util.regex.Pattern.compile("[\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}\\x20]*");

  /** Writes one audit line for a decision or an attempt. */
  @FunctionalInterface
  interface Audit {
    void write(RoutingContext ctx, String event, String reason, int status, ApprovalState held);
  }

  private final Vertx vertx;
  private final ApprovalDesk desk;
  private final Audit audit;
  private final String callerKey;

  private final java.util.function.Supplier<Optional<io.txgw.gateway.monitor.Backpressure.Refusal>>
      backpressure;

  ApprovalRoutes(
      Vertx vertx,
      ApprovalDesk desk,
      Audit audit,
      String callerKey,
      java.util.function.Supplier<Optional<io.txgw.gateway.monitor.Backpressure.Refusal>>
          backpressure) {
    this.backpressure = backpressure;
    this.vertx = vertx;
    this.desk = desk;
    this.audit = audit;
    this.callerKey = callerKey;
  }

  /**
   * No desk, or one that cannot decide now (its topic not read; for a decision, the gateway not
   * ready to write, or the consumers too far behind): answered here.
   */
  private boolean absent(RoutingContext ctx, boolean decision) {
    if (desk == null) {
      problem(ctx, Problem.of(404, "not-found", "Not Found", "this gateway holds no approvals"));
      return true;
    }
    String batchId = ctx.pathParam("batchId");
    if (batchId != null) {
      ctx.put(GatewayHttp.BATCH_ID, batchId);
    }
    if (!(decision ? desk.isReady() : desk.decides())) {
      Responses.retrySoon(
          ctx, "not-ready", "the gateway is starting, or its Kafka readers are recovering");
      return true;
    }
    Optional<io.txgw.gateway.monitor.Backpressure.Refusal> busy =
        decision ? backpressure.get() : Optional.empty();
    if (busy.isPresent()) {
      ctx.response().putHeader("Retry-After", Long.toString(busy.get().retryAfter().toSeconds()));
      problem(
          ctx,
          Problem.of(
              429,
              "backpressure",
              "Too Many Requests",
              busy.get().lag() + " payouts are waiting for the consumers; decide again later"));
      return true;
    }
    return false;
  }

  /** Approval work one client may have running or queued at once. */
  static final int MAX_WORK_PER_CLIENT = 4;

  private final java.util.concurrent.ConcurrentHashMap<
          String, java.util.concurrent.atomic.AtomicInteger>
      working = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * Runs blocking approval work on the desk's threads and answers on the request's context; a
   * client with {@link #MAX_WORK_PER_CLIENT} pieces under way is told to wait, so that one client
   * cannot take the desk's threads from the others.
   */
  private <T> io.vertx.core.Future<T> blocking(
      RoutingContext ctx, java.util.concurrent.Callable<T> task) {
    ApiKeys.Caller who = ctx.get(callerKey);
    java.util.concurrent.atomic.AtomicInteger mine =
        working.computeIfAbsent(who.client(), c -> new java.util.concurrent.atomic.AtomicInteger());
    if (mine.incrementAndGet() > MAX_WORK_PER_CLIENT) {
      mine.decrementAndGet();
      return io.vertx.core.Future.failedFuture(
          new java.util.concurrent.RejectedExecutionException("client busy"));
    }
    try {
      return io.vertx.core.Future.fromCompletionStage(
          desk.run(task).whenComplete((r, e) -> mine.decrementAndGet()),
          vertx.getOrCreateContext());
    } catch (java.util.concurrent.RejectedExecutionException e) {
      mine.decrementAndGet();
      return io.vertx.core.Future.failedFuture(e);
    }
  }

  void approvals(RoutingContext ctx) {
    if (absent(ctx, false)) {
      return;
    }
    ApiKeys.Caller who = ctx.get(callerKey);
    List<Map<String, Object>> waiting =
        desk.pending(who.client()).stream().map(desk::describe).toList();
    json(ctx, 200, Map.of("pending", waiting));
  }

  /** One held batch with every payout, as posted: what an approver looks at before deciding. */
  void heldBatch(RoutingContext ctx) {
    if (absent(ctx, false)) {
      return;
    }
    ApiKeys.Caller who = ctx.get(callerKey);
    String batchId = ctx.pathParam("batchId");
    Optional<ApprovalState> held = desk.state(who.client(), batchId);
    if (held.isEmpty()) {
      notHeld(ctx, batchId);
      return;
    }
    blocking(
            ctx,
            () -> {
              Map<String, Object> body = new LinkedHashMap<>(desk.describe(held.get()));
              BatchSubmission content = desk.content(held.get());
              body.put("lines", content.payouts());
              return body;
            })
        .onSuccess(body -> json(ctx, 200, body))
        .onFailure(error -> failure(ctx, error));
  }

  void approve(RoutingContext ctx) {
    if (absent(ctx, true)) {
      return;
    }
    ApiKeys.Caller who = ctx.get(callerKey);
    String batchId = ctx.pathParam("batchId");
    String content = ctx.request().getParam("contentSha256");
    blocking(ctx, () -> desk.approve(who, batchId, content))
        .onSuccess(decision -> answer(ctx, "APPROVED", decision))
        .onFailure(
            error -> {
              failure(ctx, error);
              audit.write(ctx, "APPROVE_FAILED", "error", ctx.response().getStatusCode(), null);
            });
  }

  void reject(RoutingContext ctx) {
    if (absent(ctx, true)) {
      return;
    }
    ApiKeys.Caller who = ctx.get(callerKey);
    String batchId = ctx.pathParam("batchId");
    String reason = ctx.request().getParam("reason");
    if (reason != null
        && (reason.length() > MAX_REASON_CHARS || !PLAIN.matcher(reason).matches())) {
      problem(
          ctx,
          Problem.of(
              400,
              "bad-reason",
              "Bad Request",
              "reason: at most " + MAX_REASON_CHARS + " letters, digits, punctuation and spaces"));
      return;
    }
    blocking(ctx, () -> desk.reject(who, batchId, reason))
        .onSuccess(decision -> answer(ctx, "REJECTED", decision))
        .onFailure(
            error -> {
              failure(ctx, error);
              audit.write(ctx, "REJECT_FAILED", "error", ctx.response().getStatusCode(), null);
            });
  }

  private void answer(RoutingContext ctx, String event, ApprovalDesk.Decision decision) {
    if (decision instanceof ApprovalDesk.Decision.Done done) {
      Map<String, Object> body = new LinkedHashMap<>(desk.describe(done.state()));
      int status = 200;
      if (done.written() instanceof SubmitOutcome.Accepted accepted) {
        body.put("status", "ACCEPTED");
        body.put("acceptedAt", accepted.batch().acceptedAt());
        body.put("location", "/v1/batches/" + accepted.batch().batchId());
        if (!accepted.batch().acceptedEarlier().isEmpty()) {
          body.put("acceptedEarlier", Responses.acceptedEarlier(accepted.batch()));
        }
        status = 202;
      } else if (done.written() != null) {
        notWritten(ctx, event, done);
        return;
      }
      json(ctx, status, body);
      audit.write(ctx, eventOf(ctx, event, done.state()), null, status, done.state());
    } else if (decision instanceof ApprovalDesk.Decision.Refused refused) {
      if (refused.status() == 503) {
        ctx.response().putHeader("Retry-After", "30");
      }
      problem(
          ctx,
          Problem.of(refused.status(), refused.type(), title(refused.status()), refused.detail()));
      audit.write(ctx, "REFUSED", refused.type(), refused.status(), null);
    } else if (decision instanceof ApprovalDesk.Decision.Invalid invalid) {
      Responses.invalidBatch(
          ctx,
          invalid.violations(),
          invalid.violations().size(),
          "the batch breaks the rules or its client's policy as they are now: it was not"
              + " approved, nothing was written");
      audit.write(ctx, "REFUSED", "invalid-now", 422, null);
    }
  }

  /**
   * An approval that counted whose write is held back for now (payout ids in doubt, a bound): the
   * claim lapses and a later one writes it. A write refused for good comes as a refusal instead.
   */
  private void notWritten(RoutingContext ctx, String event, ApprovalDesk.Decision.Done done) {
    ctx.response().putHeader("Retry-After", "30");
    problem(
        ctx,
        Problem.of(
            503,
            "write-held-back",
            "Service Unavailable",
            "batch "
                + done.state().batchId()
                + " was approved by "
                + done.state().decidedBy()
                + "; "
                + heldBack(done.written())
                + ": it is written once that passes (its status shows when)"));
    audit.write(ctx, eventOf(ctx, event, done.state()), "not-written", 503, done.state());
  }

  /** APPROVED only for the caller whose approval counted; a repeated call is audited as such. */
  private String eventOf(RoutingContext ctx, String event, ApprovalState state) {
    ApiKeys.Caller who = ctx.get(callerKey);
    return who != null && who.keyId().equals(state.decidedKey()) ? event : event + "_SEEN";
  }

  private static String heldBack(SubmitOutcome outcome) {
    if (outcome instanceof SubmitOutcome.PayoutIdsUnconfirmed) {
      return "payout ids of it are in batches whose write is not confirmed yet";
    }
    if (outcome instanceof SubmitOutcome.Conflict) {
      return "a write of its batch id is not confirmed yet";
    }
    return "the gateway holds as many unconfirmed payout ids as it may";
  }

  private static String title(int status) {
    return switch (status) {
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 400 -> "Bad Request";
      case 422 -> "Unprocessable Content";
      case 503 -> "Service Unavailable";
      default -> "Conflict";
    };
  }

  private static void notHeld(RoutingContext ctx, String batchId) {
    problem(
        ctx, Problem.of(404, "batch-not-found", "Not Found", "no batch " + batchId + " is held"));
  }
}
