package io.txgw.gateway.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

/**
 * Headers every answer carries so that a browser neither frames the dashboard, guesses a type, runs
 * a script from elsewhere, nor leaks the page's address, and so that no proxy or browser cache
 * keeps a batch's status.
 */
final class SecurityHeaders {
  /** The dashboard's page and script come from the jar; it fetches only this origin's API. */
  static final String CONTENT_SECURITY_POLICY =
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
          + " connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

  private SecurityHeaders() {}

  static void add(RoutingContext ctx, boolean tls) {
    HttpServerResponse r = ctx.response();
    r.putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("X-Frame-Options", "DENY")
        .putHeader("Referrer-Policy", "no-referrer")
        .putHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        .putHeader("Cross-Origin-Opener-Policy", "same-origin")
        .putHeader("Cross-Origin-Resource-Policy", "same-origin");
    if (!ctx.request().path().startsWith("/ui")) {
      r.putHeader(HttpHeaders.CACHE_CONTROL, "no-store");
    }
    if (tls) {
      r.putHeader("Strict-Transport-Security", "max-age=31536000");
    }
    ctx.next();
  }
}
