package io.txgw.gateway.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.txgw.common.json.Json;
import io.txgw.common.model.BatchRecord;
import io.txgw.common.validation.Violation;
import io.txgw.gateway.BatchService;
import io.txgw.gateway.SubmitOutcome;
import io.txgw.gateway.kafka.BatchWriteException;
import io.txgw.gateway.status.BatchView;
import io.txgw.gateway.status.PayoutIndex;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one error policy of the HTTP API, and how every answer is written: client mistakes are 4xx
 * problems naming what is wrong, conditions of the gateway's own that pass are 503 with a retry,
 * anything else is a 500 with an incident id in the log and no detail to the client.
 */
final class Responses {
  private static final Logger log = LoggerFactory.getLogger(Responses.class);
  static final String PROBLEM_JSON = "application/problem+json";

  private Responses() {}

  static void failure(RoutingContext ctx, Throwable error) {
    Throwable cause = error;
    while (cause.getCause() != null && !isClientFacing(cause)) {
      cause = cause.getCause();
    }
    if (cause instanceof MalformedRequestException) {
      problem(ctx, Problem.of(400, "malformed-body", "Bad Request", cause.getMessage()));
    } else if (cause instanceof UnsupportedMediaTypeException) {
      problem(
          ctx,
          Problem.of(
              415,
              "unsupported-media-type",
              "Unsupported Media Type",
              "send application/json or text/csv, not " + cause.getMessage()));
    } else if (cause instanceof BatchView.ViewUnavailableException) {
      log.warn("batch status view unavailable: {}", cause.getMessage());
      retrySoon(ctx, "status-unavailable", "batch status is being rebuilt; retry shortly");
    } else if (cause instanceof BatchService.BatchNotWrittenException
        && cause.getCause() instanceof BatchWriteException tooLarge
        && tooLarge.reason() == BatchWriteException.Reason.TOO_LARGE) {
      problem(
          ctx,
          Problem.of(
              413,
              "batch-too-large",
              "Payload Too Large",
              tooLarge.getMessage() + "; nothing was written: split the batch"));
    } else if (cause instanceof BatchService.BatchNotWrittenException
        && cause.getCause() instanceof BatchWriteException write
        && write.mayBeWritten()) {
      // Not "not written": the commit may yet land. A re-post of the same batch is recognised once
      // the status view has read it, and the consumers skip payout ids they have journaled.
      log.warn("batch write not confirmed: {}", cause.getMessage());
      retrySoon(
          ctx,
          "write-unconfirmed",
          "the batch's write was not confirmed in time, so it is not known to be written;"
              + " re-post it with the same batchId and content, which is safe");
    } else if (cause instanceof io.txgw.gateway.ApprovalDesk.DecisionNotConfirmedException) {
      log.warn("approvals record not confirmed: {}", cause.getMessage());
      retrySoon(
          ctx,
          "approval-unconfirmed",
          "the hold or decision was not confirmed in time; it may count: the batch's status says,"
              + " and asking again is safe");
    } else if (cause instanceof io.txgw.gateway.ApprovalDesk.WriteNotConfirmedException) {
      log.warn("approved batch's write not confirmed");
      retrySoon(
          ctx,
          "write-unconfirmed",
          "the batch is approved; its write was not confirmed in time: its status shows whether it"
              + " was written, and approving again is safe");
    } else if (cause
        instanceof io.txgw.gateway.approval.ApprovalBook.ProposalNotWrittenException busy) {
      retrySoon(ctx, "approvals-busy", busy.getMessage() + "; nothing was written, retry is safe");
    } else if (cause instanceof java.util.concurrent.RejectedExecutionException) {
      retrySoon(ctx, "approvals-busy", "approvals are busy; nothing was done, retry is safe");
    } else if (cause
        instanceof io.txgw.gateway.approval.ApprovalBook.HeldContentUnavailableException held) {
      log.warn("held content: {}", held.getMessage());
      if (held.gone()) {
        problem(
            ctx,
            Problem.of(
                409,
                "held-content-gone",
                "Conflict",
                "the held batch's content is no longer kept; post it again under a new batchId"));
      } else {
        retrySoon(ctx, "held-content-unavailable", "the held batch cannot be read now; retry");
      }
    } else if (cause instanceof BatchService.BatchNotWrittenException) {
      log.warn("batch not written to Kafka: {}", cause.getMessage());
      retrySoon(
          ctx, "not-written", "the batch was not written; nothing of it was kept, retry is safe");
    } else {
      ctx.fail(error);
    }
  }

  /**
   * 409 naming each payout whose id an earlier batch accepted for another payment, with that batch
   * and what differs: payout ids are the client's forever, so each needs a new id (or, if it is
   * that earlier payout, the content it was accepted with).
   */
  static void payoutIdsTaken(RoutingContext ctx, SubmitOutcome.PayoutIdsTaken taken) {
    List<PayoutIndex.Conflict> conflicts = taken.conflicts();
    problem(
        ctx,
        new Problem(
            "urn:txgw:problem:payout-id-conflict",
            "Conflict",
            409,
            conflicts.size()
                + " payout id(s) were accepted earlier in other batches for other payments;"
                + " nothing was written",
            null,
            conflicts,
            null));
  }

  /**
   * 503 naming each payout whose id is in a batch of this gateway whose write is not confirmed: the
   * id is that batch's if the batch was written, and free if not, which is not known yet.
   */
  static void payoutIdsUnconfirmed(RoutingContext ctx, SubmitOutcome.PayoutIdsUnconfirmed held) {
    List<PayoutIndex.InDoubt> ids = held.ids();
    PayoutIndex.InDoubt first = ids.get(0);
    String detail =
        "payout id "
            + first.id()
            + " is in batch "
            + first.batchId()
            + " whose write is not confirmed; re-post batch "
            + first.batchId()
            + " with the same content, or retry later"
            + (ids.size() > 1 ? " (" + (ids.size() - 1) + " more such payout ids listed)" : "")
            + "; nothing was written";
    ctx.response().putHeader("Retry-After", "1");
    problem(
        ctx,
        new Problem(
            "urn:txgw:problem:payout-id-unconfirmed",
            "Service Unavailable",
            503,
            detail,
            null,
            null,
            ids));
  }

  /** 503 for a batch refused by a bound on what the gateway holds; it passes by itself. */
  static void heldLimit(RoutingContext ctx, PayoutIndex.Full full) {
    retrySoon(
        ctx,
        "payout-ids-held",
        (full.gateway() ? "this gateway holds " : "this gateway holds, for your batches, ")
            + full.held()
            + " payout ids and batches whose write is not confirmed or that the status view has"
            + " not read back yet (limit "
            + full.limit()
            + "); nothing was written, retry shortly");
  }

  /**
   * The payouts of an accepted batch that earlier batches had accepted with the same content, in
   * the batch's order: not written again, they are those batches' payments.
   */
  static List<Map<String, Object>> acceptedEarlier(BatchRecord batch) {
    List<Map<String, Object>> items = new ArrayList<>(batch.acceptedEarlier().size());
    List<String> ids = batch.payoutIds();
    for (int i = 0; i < ids.size() && items.size() < batch.acceptedEarlier().size(); i++) {
      String earlier = batch.acceptedEarlier().get(ids.get(i));
      if (earlier != null) {
        Map<String, Object> item = new LinkedHashMap<>();
        item.put("index", i);
        item.put("id", ids.get(i));
        item.put("batchId", earlier);
        items.add(item);
      }
    }
    return items;
  }

  /** 503 with a retry in a second: the condition is the gateway's, and passes by itself. */
  /** Per asset symbol, the sum of a batch's amounts, as exact decimal strings. */
  static Map<String, String> totals(BatchRecord batch) {
    Map<String, io.txgw.common.model.Amount> sums = new java.util.TreeMap<>();
    if (batch.lines() != null) {
      for (BatchRecord.Line line : batch.lines()) {
        String asset =
            line.asset() == null ? batch.chain().nativeAsset().symbol() : line.asset().symbol();
        sums.merge(asset, line.amount(), io.txgw.common.model.Amount::plus);
      }
    }
    Map<String, String> out = new java.util.TreeMap<>();
    sums.forEach((asset, sum) -> out.put(asset, sum.toString()));
    return out;
  }

  static String sha256(byte[] bytes) {
    try {
      return java.util.HexFormat.of()
          .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java runtime", e);
    }
  }

  /**
   * 422 listing a batch's violations: the first {@link GatewayHttp#MAX_VIOLATIONS_LISTED}, and how
   * many more there are of {@code total}, so that the answer is bounded whatever the body.
   */
  static void invalidBatch(
      RoutingContext ctx, List<Violation> violations, int total, String nothingDone) {
    int all = Math.max(total, violations.size());
    int shown = Math.min(violations.size(), GatewayHttp.MAX_VIOLATIONS_LISTED);
    problem(
        ctx,
        new Problem(
            "urn:txgw:problem:invalid-batch",
            "Unprocessable Content",
            422,
            all
                + " problem(s)"
                + (shown < all ? ", the first " + shown + " listed" : "")
                + "; "
                + nothingDone,
            List.copyOf(violations.subList(0, shown)),
            null,
            null,
            all - shown));
  }

  static void retrySoon(RoutingContext ctx, String type, String detail) {
    ctx.response().putHeader("Retry-After", "1");
    problem(ctx, Problem.of(503, type, "Service Unavailable", detail));
  }

  private static boolean isClientFacing(Throwable t) {
    return t instanceof MalformedRequestException
        || t instanceof UnsupportedMediaTypeException
        || t instanceof BatchService.BatchNotWrittenException
        || t instanceof io.txgw.gateway.ApprovalDesk.DecisionNotConfirmedException
        || t instanceof io.txgw.gateway.ApprovalDesk.WriteNotConfirmedException
        || t instanceof io.txgw.gateway.approval.ApprovalBook.ProposalNotWrittenException
        || t instanceof io.txgw.gateway.approval.ApprovalBook.HeldContentUnavailableException
        || t instanceof java.util.concurrent.RejectedExecutionException
        || t instanceof BatchView.ViewUnavailableException;
  }

  static void internalError(RoutingContext ctx) {
    String incident = UUID.randomUUID().toString();
    Throwable failure = ctx.failure();
    log.error(
        "internal error {} on {} {}",
        incident,
        ctx.request().method(),
        ctx.request().path(),
        failure);
    problem(
        ctx,
        Problem.of(
            500, "internal", "Internal Server Error", "incident " + incident + " is logged"));
  }

  static void problem(RoutingContext ctx, Problem problem) {
    write(ctx, problem.status(), PROBLEM_JSON, problem);
  }

  static void json(RoutingContext ctx, int status, Object body) {
    write(ctx, status, "application/json", body);
  }

  private static void write(RoutingContext ctx, int status, String type, Object body) {
    if (ctx.response().ended()) {
      return;
    }
    byte[] bytes;
    try {
      bytes = Json.mapper().writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      log.error("cannot write a response body", e);
      status = 500;
      bytes = "{\"title\":\"Internal Server Error\",\"status\":500}".getBytes();
    }
    ctx.response().setStatusCode(status).putHeader("Content-Type", type).end(Buffer.buffer(bytes));
  }

  /** A body in a format the API does not read: answered with 415. */
  static final class UnsupportedMediaTypeException extends RuntimeException {
    UnsupportedMediaTypeException(String contentType) {
      super(contentType);
    }
  }
}
