package io.txgw.gateway.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.txgw.common.json.Json;
import io.txgw.common.model.FailureCode;
import io.txgw.gateway.BatchStatus;
import io.txgw.gateway.status.BatchView;
import io.txgw.gateway.status.PayoutState;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /v1/batches/{id}/events}: a batch's status changes as server-sent events. The stream
 * opens with the batch's counts, then sends, at most every {@value #FLUSH_MS} ms, the payouts that
 * changed ({@code payouts}) and the new counts ({@code progress}); once every payout has a result
 * it sends {@code complete} and ends. A comment line every {@value #KEEP_ALIVE_MS} ms keeps idle
 * proxies from closing the stream.
 */
final class BatchEvents {
  private static final Logger log = LoggerFactory.getLogger(BatchEvents.class);
  static final long FLUSH_MS = 250;
  static final long KEEP_ALIVE_MS = 15_000;

  /** Changed payouts sent per flush at most; past it only the counts tell. */
  static final int MAX_PAYOUTS_PER_EVENT = 1_000;

  /**
   * Bytes an open stream may have waiting to be sent; a client that reads slower has its stream
   * closed (it reconnects and starts from the counts), so an open stream costs at most this, its
   * {@link #MAX_PAYOUTS_PER_EVENT} changes and two timers.
   */
  static final int MAX_QUEUED_BYTES = 256 * 1024;

  private final Vertx vertx;
  private final BatchView view;
  private final int maxPerClient;
  private final int maxStreams;
  private final AtomicInteger open = new AtomicInteger();
  private final Map<String, AtomicInteger> openByClient = new ConcurrentHashMap<>();

  BatchEvents(Vertx vertx, BatchView view, int maxPerClient, int maxStreams) {
    this.vertx = vertx;
    this.view = view;
    this.maxPerClient = maxPerClient;
    this.maxStreams = maxStreams;
  }

  /** Streams open now, in all. */
  int openStreams() {
    return open.get();
  }

  /** Why a stream cannot be opened now, if it cannot. */
  Optional<String> refusal(String client) {
    AtomicInteger mine = openByClient.get(client);
    if (mine != null && mine.get() >= maxPerClient) {
      return Optional.of(
          "client " + client + " has " + maxPerClient + " event streams open, its most");
    }
    if (open.get() >= maxStreams) {
      return Optional.of("the gateway has " + maxStreams + " event streams open, its most");
    }
    return Optional.empty();
  }

  /**
   * Opens the stream, or answers empty when the client has no such batch.
   *
   * @return false when the batch is unknown
   */
  boolean open(RoutingContext ctx, String client, String batchId) {
    Optional<BatchStatus> first = view.summary(client, batchId);
    if (first.isEmpty()) {
      return false;
    }
    HttpServerResponse response = ctx.response();
    AtomicInteger mine = openByClient.computeIfAbsent(client, c -> new AtomicInteger());
    mine.incrementAndGet();
    open.incrementAndGet();
    response.setWriteQueueMaxSize(MAX_QUEUED_BYTES);
    response
        .setChunked(true)
        .putHeader("Content-Type", "text/event-stream; charset=utf-8")
        .putHeader("Cache-Control", "no-cache")
        .putHeader("X-Accel-Buffering", "no")
        .setStatusCode(200);
    new Stream(vertx.getOrCreateContext(), response, client, batchId, () -> release(client, mine))
        .begin(first.get());
    return true;
  }

  private void release(String client, AtomicInteger mine) {
    open.decrementAndGet();
    if (mine.decrementAndGet() <= 0) {
      openByClient.remove(client, mine);
    }
  }

  /** One open stream; everything but the view's callback runs on its event loop. */
  private final class Stream {
    private final Context context;
    private final HttpServerResponse response;
    private final String client;
    private final String batchId;
    private final Map<String, PayoutState> changed = new LinkedHashMap<>();
    private int dropped;
    private long sequence;
    private long flushTimer = -1;
    private long keepAlive = -1;
    private AutoCloseable watch;
    private boolean ended;
    private final Runnable onEnd;

    Stream(
        Context context,
        HttpServerResponse response,
        String client,
        String batchId,
        Runnable onEnd) {
      this.context = context;
      this.response = response;
      this.client = client;
      this.batchId = batchId;
      this.onEnd = onEnd;
    }

    void begin(BatchStatus first) {
      response.closeHandler(v -> end());
      send("progress", progress(first));
      if (first.complete()) {
        finish(first);
        return;
      }
      watch =
          view.watch(client, batchId, (id, state) -> context.runOnContext(v -> changed(id, state)));
      keepAlive = vertx.setPeriodic(KEEP_ALIVE_MS, t -> write(": keep-alive\n\n"));
      // A result stored between the first read and the watch would otherwise wait for the next.
      flushSoon();
    }

    private void changed(String payoutId, PayoutState state) {
      if (ended) {
        return;
      }
      if (changed.size() < MAX_PAYOUTS_PER_EVENT || changed.containsKey(payoutId)) {
        changed.put(payoutId, state);
      } else {
        dropped++;
      }
      flushSoon();
    }

    private void flushSoon() {
      if (flushTimer < 0) {
        flushTimer = vertx.setTimer(FLUSH_MS, t -> flush());
      }
    }

    private void flush() {
      flushTimer = -1;
      if (ended) {
        return;
      }
      if (!changed.isEmpty()) {
        List<Map<String, Object>> payouts = new ArrayList<>(changed.size());
        changed.forEach(
            (id, s) -> {
              Map<String, Object> item = new LinkedHashMap<>();
              item.put("id", id);
              item.put("status", s.status());
              if (s.txid() != null) {
                item.put("txid", s.txid());
              }
              if (s.error() != null) {
                item.put("error", FailureCode.of(s.error()));
              }
              item.put("updatedAt", s.updatedAt());
              payouts.add(item);
            });
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("payouts", payouts);
        if (dropped > 0) {
          body.put("more", dropped);
        }
        changed.clear();
        dropped = 0;
        send("payouts", body);
      }
      Optional<BatchStatus> now;
      try {
        now = view.summary(client, batchId);
      } catch (BatchView.ViewUnavailableException e) {
        // Rebalancing or restoring: the next change (or this retry) sends the counts.
        flushTimer = vertx.setTimer(1_000, t -> flush());
        return;
      }
      now.ifPresent(
          status -> {
            send("progress", progress(status));
            if (status.complete()) {
              finish(status);
            }
          });
    }

    private void finish(BatchStatus status) {
      send("complete", progress(status));
      response.end();
      end();
    }

    private void end() {
      if (ended) {
        return;
      }
      ended = true;
      onEnd.run();
      if (flushTimer >= 0) {
        vertx.cancelTimer(flushTimer);
      }
      if (keepAlive >= 0) {
        vertx.cancelTimer(keepAlive);
      }
      if (watch != null) {
        try {
          watch.close();
        } catch (Exception e) {
          log.debug("watch of {} not closed: {}", batchId, e.toString());
        }
      }
    }

    private void send(String event, Object data) {
      try {
        String json = Json.mapper().writeValueAsString(data);
        write("id: " + (++sequence) + "\nevent: " + event + "\ndata: " + json + "\n\n");
      } catch (JsonProcessingException e) {
        log.error("cannot write a {} event of batch {}", event, batchId, e);
      }
    }

    private void write(String text) {
      if (ended || response.ended() || response.closed()) {
        return;
      }
      if (response.writeQueueFull()) {
        // The client reads slower than the batch changes: its stream would grow without bound.
        log.debug("event stream of {} closed: its client does not keep up", batchId);
        end();
        response.reset();
        return;
      }
      response.write(text);
    }
  }

  static Map<String, Object> progress(BatchStatus status) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("batchId", status.batchId());
    body.put("total", status.total());
    body.put("handled", status.handled());
    body.put("counts", status.counts());
    body.put("complete", status.complete());
    if (status.firstUpdate() != null) {
      body.put("firstUpdate", status.firstUpdate());
      body.put("lastUpdate", status.lastUpdate());
    }
    return body;
  }
}
