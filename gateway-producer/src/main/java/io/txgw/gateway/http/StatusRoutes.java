package io.txgw.gateway.http;

import static io.txgw.gateway.http.Responses.failure;
import static io.txgw.gateway.http.Responses.json;
import static io.txgw.gateway.http.Responses.problem;

import io.txgw.gateway.ApprovalDesk;
import io.txgw.gateway.BatchService;
import io.txgw.gateway.status.BatchView;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import java.util.Optional;

/** The routes that read batches: status, live events, the dashboard's data. */
final class StatusRoutes {
  private final Vertx vertx;
  private final BatchService service;
  private final BatchEvents events;
  private final Dashboard dashboard;
  private final String clientKey;
  private final ApprovalDesk desk;

  /**
   * @param desk where a batch not written may be held for approval; null when none is
   */
  StatusRoutes(
      Vertx vertx,
      BatchService service,
      BatchEvents events,
      Dashboard dashboard,
      String clientKey,
      ApprovalDesk desk) {
    this.desk = desk;
    this.vertx = vertx;
    this.service = service;
    this.events = events;
    this.dashboard = dashboard;
    this.clientKey = clientKey;
  }

  void getBatch(RoutingContext ctx) {
    String client = ctx.get(clientKey);
    String batchId = ctx.pathParam("batchId");
    boolean withPayouts = !"false".equals(ctx.request().getParam("payouts"));
    // Reading 10,000 payouts' states takes milliseconds of store reads: off the event loop.
    vertx
        .executeBlocking(() -> service.status(client, batchId, withPayouts), false)
        .onSuccess(
            status ->
                status.ifPresentOrElse(
                    s -> json(ctx, 200, s),
                    () -> {
                      // Not written: held for approval, or decided unwritten, or nothing.
                      var held = desk == null ? null : desk.state(client, batchId).orElse(null);
                      if (held != null) {
                        json(ctx, 200, desk.describe(held));
                      } else {
                        // Another client's batch is answered like a missing one: ids do not leak.
                        notFound(ctx, batchId);
                      }
                    }))
        .onFailure(error -> failure(ctx, error));
  }

  void batchEvents(RoutingContext ctx) {
    String batchId = ctx.pathParam("batchId");
    Optional<String> full = events.refusal(ctx.get(clientKey));
    if (full.isPresent()) {
      ctx.response().putHeader("Retry-After", "5");
      problem(ctx, Problem.of(429, "too-many-streams", "Too Many Requests", full.get()));
      return;
    }
    try {
      if (!events.open(ctx, ctx.get(clientKey), batchId)) {
        notFound(ctx, batchId);
      }
    } catch (BatchView.ViewUnavailableException e) {
      failure(ctx, e);
    }
  }

  void dashboard(RoutingContext ctx) {
    String client = ctx.get(clientKey);
    vertx
        .executeBlocking(() -> dashboard.of(client), false)
        .onSuccess(body -> json(ctx, 200, body))
        .onFailure(error -> failure(ctx, error));
  }

  private static void notFound(RoutingContext ctx, String batchId) {
    problem(ctx, Problem.of(404, "batch-not-found", "Not Found", "no batch " + batchId));
  }
}
