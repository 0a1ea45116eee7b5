package io.txgw.gateway.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.txgw.common.json.Json;
import io.txgw.gateway.BatchService;
import io.txgw.gateway.status.BatchView;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
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
    } else if (cause instanceof BatchService.BatchNotWrittenException) {
      log.warn("batch not written to Kafka: {}", cause.getMessage());
      retrySoon(
          ctx, "not-written", "the batch was not written; nothing of it was kept, retry is safe");
    } else {
      ctx.fail(error);
    }
  }

  /** 503 with a retry in a second: the condition is the gateway's, and passes by itself. */
  static void retrySoon(RoutingContext ctx, String type, String detail) {
    ctx.response().putHeader("Retry-After", "1");
    problem(ctx, Problem.of(503, type, "Service Unavailable", detail));
  }

  private static boolean isClientFacing(Throwable t) {
    return t instanceof MalformedRequestException
        || t instanceof UnsupportedMediaTypeException
        || t instanceof BatchService.BatchNotWrittenException
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
