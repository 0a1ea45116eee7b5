package io.txgw.gateway.http;

import static io.txgw.gateway.http.Responses.failure;
import static io.txgw.gateway.http.Responses.json;
import static io.txgw.gateway.http.Responses.problem;

import io.txgw.common.validation.Violation;
import io.txgw.gateway.events.EventCursor;
import io.txgw.gateway.events.EventLog;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code GET /v1/events?after=<cursor>&limit=<n>}: the calling client's events, every state change
 * of every payout still kept in the results topic, after a cursor, in order per payout; and {@code
 * GET /v1/webhooks/deliveries}: its last webhook delivery attempts. Reads go to Kafka off the event
 * loop, a few at a time; past that the client is told to retry.
 */
final class EventRoutes {
  static final int DEFAULT_LIMIT = 100;
  static final int MAX_DELIVERIES = 200;

  private final Vertx vertx;
  private final EventLog log;
  private final String clientKey;

  EventRoutes(Vertx vertx, EventLog log, String clientKey) {
    this.vertx = vertx;
    this.log = log;
    this.clientKey = clientKey;
  }

  void events(RoutingContext ctx) {
    String client = ctx.get(clientKey);
    List<Violation> bad = new ArrayList<>();
    EventCursor.Parsed after = EventCursor.parse(ctx.request().getParam("after"));
    after.problemText().ifPresent(p -> bad.add(Violation.ofBatch("after", "the cursor " + p)));
    Optional<Integer> limit = limit(ctx, EventLog.MAX_LIMIT, DEFAULT_LIMIT, bad);
    if (!bad.isEmpty()) {
      invalid(ctx, bad);
      return;
    }
    if (log == null) {
      problem(ctx, Problem.of(404, "not-found", "Not Found", "this gateway keeps no event log"));
      return;
    }
    vertx
        .executeBlocking(() -> log.read(client, after.cursor(), limit.orElseThrow()), false)
        .onSuccess(
            page -> {
              if (page.isEmpty()) {
                busy(ctx);
                return;
              }
              Map<String, Object> body = new LinkedHashMap<>();
              body.put("events", page.get().events());
              body.put("next", page.get().next().encode());
              body.put("more", page.get().more());
              if (page.get().gap()) {
                // Said, not hidden: events after the cursor were removed by retention.
                body.put("gap", true);
              }
              json(ctx, 200, body);
            })
        .onFailure(
            error -> {
              if (error instanceof EventLog.BadCursor) {
                invalid(
                    ctx, List.of(Violation.ofBatch("after", "the cursor " + error.getMessage())));
              } else {
                failure(ctx, error);
              }
            });
  }

  void deliveries(RoutingContext ctx) {
    String client = ctx.get(clientKey);
    List<Violation> bad = new ArrayList<>();
    Optional<Integer> limit = limit(ctx, MAX_DELIVERIES, 50, bad);
    if (!bad.isEmpty()) {
      invalid(ctx, bad);
      return;
    }
    if (log == null) {
      problem(ctx, Problem.of(404, "not-found", "Not Found", "this gateway keeps no event log"));
      return;
    }
    vertx
        .executeBlocking(() -> log.deliveries(client, limit.orElseThrow()), false)
        .onSuccess(
            found -> {
              if (found.isEmpty()) {
                busy(ctx);
              } else {
                json(ctx, 200, Map.of("deliveries", found.get()));
              }
            })
        .onFailure(error -> failure(ctx, error));
  }

  private static Optional<Integer> limit(
      RoutingContext ctx, int max, int otherwise, List<Violation> bad) {
    String text = ctx.request().getParam("limit");
    if (text == null || text.isEmpty()) {
      return Optional.of(otherwise);
    }
    try {
      int n = Integer.parseInt(text);
      if (n >= 1 && n <= max) {
        return Optional.of(n);
      }
    } catch (NumberFormatException e) {
      // Answered below like any other out of range.
    }
    bad.add(Violation.ofBatch("limit", "must be a whole number from 1 to " + max));
    return Optional.empty();
  }

  private static void invalid(RoutingContext ctx, List<Violation> bad) {
    problem(
        ctx,
        new Problem(
            "urn:txgw:problem:invalid-query",
            "Unprocessable Content",
            422,
            "the query names what cannot be read",
            bad));
  }

  private static void busy(RoutingContext ctx) {
    ctx.response().putHeader("Retry-After", "1");
    problem(
        ctx,
        Problem.of(
            429, "event-readers-busy", "Too Many Requests", "every event reader is busy; retry"));
  }
}
