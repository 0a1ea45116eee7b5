package io.txgw.gateway.http;

import static io.txgw.gateway.http.Responses.problem;

import io.txgw.gateway.ApiKeys;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who gets in and what they may hold: the API key and its scopes, the client's request rate, the
 * delay after a failed key, and the bytes of request bodies being received at once. Each refusal is
 * a problem answer, counted through {@code refused}.
 */
final class Admission {
  private static final Logger log = LoggerFactory.getLogger(Admission.class);

  /** Where the authenticated client's id and caller are kept in the routing context. */
  static final String CLIENT = "txgw.client";

  static final String CALLER = "txgw.caller";

  /** The request's share of the body budget ({@link HttpGuards.BodyBudget.Held}). */
  static final String BODY_HELD = "txgw.bodyHeld";

  /** Set once the body is handed on: its share is released when its batch is answered. */
  static final String BODY_HANDED_ON = "txgw.bodyHandedOn";

  /**
   * Marks the request's body as handed on, and releases its share of the body budget when {@code
   * done} completes.
   */
  static void holdBodyUntil(RoutingContext ctx, Future<?> done) {
    HttpGuards.BodyBudget.Held held = ctx.get(BODY_HELD);
    if (held == null) {
      return;
    }
    ctx.put(BODY_HANDED_ON, Boolean.TRUE);
    done.onComplete(r -> held.release());
  }

  /** A request body must be received in full within this, whatever its pace. */
  static final long BODY_DEADLINE_MS = 60_000;

  private final Vertx vertx;
  private final Supplier<ApiKeys> apiKeys;
  private final HttpGuards guards;
  private final int maxBodyBytes;
  private final Consumer<String> refused;

  Admission(
      Vertx vertx,
      Supplier<ApiKeys> apiKeys,
      HttpGuards guards,
      int maxBodyBytes,
      Consumer<String> refused) {
    this.vertx = vertx;
    this.apiKeys = apiKeys;
    this.guards = guards;
    this.maxBodyBytes = maxBodyBytes;
    this.refused = refused;
  }

  void authenticate(RoutingContext ctx) {
    String key = ctx.request().getHeader("X-Api-Key");
    String auth = ctx.request().getHeader("Authorization");
    if (key == null && auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
      key = auth.substring(7).trim();
    }
    Optional<ApiKeys.Caller> caller = apiKeys.get().callerFor(key);
    if (caller.isEmpty()) {
      String address = remote(ctx);
      // The key itself is never logged: a typo of a real key is nearly a real key.
      log.warn(
          "rejected {} {} from {}: {} API key",
          ctx.request().method(),
          ctx.request().path(),
          address,
          key == null ? "missing" : "unknown");
      refused.accept("unauthorized");
      // Each failure from an address waits longer for its answer: guessing keys gets slow, and the
      // connection cap per address bounds how many guesses wait at once.
      long delay = guards.failedAuthentication(address).toMillis();
      if (delay < 1) {
        unauthorized(ctx);
      } else {
        vertx.setTimer(delay, t -> unauthorized(ctx));
      }
      return;
    }
    ApiKeys.Caller who = caller.get();
    Optional<java.time.Duration> wait = guards.takeRequest(who.client());
    if (wait.isPresent()) {
      long seconds = Math.max(1, (wait.get().toMillis() + 999) / 1000);
      ctx.response().putHeader("Retry-After", Long.toString(seconds));
      refused.accept("rate-limit");
      problem(
          ctx,
          Problem.of(
              429,
              "rate-limit",
              "Too Many Requests",
              "client "
                  + who.client()
                  + " is over its request rate; retry after "
                  + seconds
                  + " s"));
      return;
    }
    ctx.put(CLIENT, who.client());
    ctx.put(CALLER, who);
    ctx.next();
  }

  /**
   * Holds back a body the gateway cannot afford to receive now: bodies are read whole before they
   * are parsed, so what is being received at once is bounded per client and in all. A body without
   * a length counts as the largest allowed.
   */
  void reserveBody(RoutingContext ctx) {
    long declared = maxBodyBytes;
    String length = ctx.request().getHeader("Content-Length");
    if (length != null) {
      try {
        declared = Math.min(Math.max(0, Long.parseLong(length.trim())), maxBodyBytes);
      } catch (NumberFormatException e) {
        declared = maxBodyBytes;
      }
    }
    String client = ctx.get(CLIENT);
    Optional<HttpGuards.BodyBudget.Held> held = guards.bodies().take(client, declared);
    if (held.isEmpty()) {
      ctx.response().putHeader("Retry-After", "1");
      refused.accept("receiving");
      problem(
          ctx,
          Problem.of(
              429,
              "too-much-in-flight",
              "Too Many Requests",
              "the gateway is receiving as many request bodies as it takes at once (from this"
                  + " client or in all); nothing was written, retry after 1 s"));
      return;
    }
    // A body trickled in a byte at a time would hold its share for ever: it has a deadline.
    long deadline =
        vertx.setTimer(
            BODY_DEADLINE_MS,
            t -> {
              if (!ctx.request().isEnded()) {
                log.warn(
                    "request body from {} not received in {} s; connection closed",
                    remote(ctx),
                    BODY_DEADLINE_MS / 1000);
                ctx.request().connection().close();
              }
            });
    ctx.put(BODY_HELD, held.get());
    ctx.addEndHandler(
        v -> {
          vertx.cancelTimer(deadline);
          // A body handed on is released when its batch is answered, not when its client goes:
          // a client that drops the connection must not free what the gateway still holds.
          if (ctx.get(BODY_HANDED_ON) == null) {
            held.get().release();
          }
        });
    ctx.next();
  }

  private static void unauthorized(RoutingContext ctx) {
    if (ctx.response().closed()) {
      return;
    }
    ctx.response().putHeader("WWW-Authenticate", "ApiKey");
    problem(
        ctx,
        Problem.of(
            401, "unauthorized", "Unauthorized", "send a valid API key in the X-Api-Key header"));
  }

  static void require(RoutingContext ctx, ApiKeys.Scope scope) {
    ApiKeys.Caller who = ctx.get(CALLER);
    if (!who.may(scope)) {
      problem(
          ctx,
          Problem.of(
              403,
              "forbidden",
              "Forbidden",
              "this key may not "
                  + scope.name().toLowerCase(Locale.ROOT)
                  + "; ask for a key that may"));
      return;
    }
    ctx.next();
  }

  static String remote(RoutingContext ctx) {
    return ctx.request().remoteAddress() == null
        ? "?"
        : ctx.request().remoteAddress().hostAddress();
  }
}
