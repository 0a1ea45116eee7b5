package io.txgw.gateway.http;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.RoutingContext;

/**
 * Counts every request by route template (not path: batch ids would make a series each), method and
 * status, with its latency.
 */
final class HttpMetrics {
  private final MeterRegistry meters;

  HttpMetrics(MeterRegistry meters) {
    this.meters = meters;
  }

  void handle(RoutingContext ctx) {
    Timer.Sample sample = Timer.start(meters);
    ctx.addEndHandler(
        done -> {
          Route route = ctx.currentRoute();
          String template = route == null || route.getPath() == null ? "other" : route.getPath();
          String method = ctx.request().method().name();
          String status = Integer.toString(ctx.response().getStatusCode());
          meters
              .counter("txgw.http.requests", "route", template, "method", method, "status", status)
              .increment();
          sample.stop(
              Timer.builder("txgw.http.request")
                  .description("HTTP request latency, to the end of the response")
                  .tags("route", template, "method", method, "status", status)
                  .register(meters));
        });
    ctx.next();
  }
}
