package io.txgw.gateway.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.txgw.common.json.Json;
import io.txgw.common.model.FailureCode;
import io.txgw.gateway.BatchStatus;
import io.txgw.gateway.status.BatchView;
import io.txgw.gateway.status.PayoutState;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /v1/batches/{id}/events}: a batch's status changes as server-sent events. The stream
 * opens with the batch's counts, then sends, at most every {@value #FLUSH_MS} ms, the payouts that
 * changed ({@code payouts}) and the new counts ({@code progress}); once every payout is final
 * (CONFIRMED, FAILED or UNKNOWN) it sends {@code complete} and ends. A comment line every {@value
 * #KEEP_ALIVE_MS} ms keeps idle proxies from closing the stream.
 *
 * <p>Every stream of one batch shares one feed: one watch on the status view, one set of changes,
 * one read of the counts and one encoded flush, written to each stream {@link #SLICE} at a time. A
 * change costs the same whether one client or thousands follow the batch; a flush writes at most
 * {@link #BYTES_PER_FLUSH} to all of them together (past it, the counts without each payout's
 * details); an open stream costs its connection and at most {@link #MAX_QUEUED_BYTES} not yet sent.
 */
final class BatchEvents {
  private static final Logger log = LoggerFactory.getLogger(BatchEvents.class);
  static final long FLUSH_MS = 250;
  static final long KEEP_ALIVE_MS = 15_000;

  /** Changed payouts sent per flush at most; past it only the counts tell. */
  static final int MAX_PAYOUTS_PER_EVENT = 1_000;

  /**
   * Bytes an open stream may have waiting to be sent; a client that reads slower has its stream
   * closed (it reconnects and starts from the counts).
   */
  static final int MAX_QUEUED_BYTES = 256 * 1024;

  /**
   * What one flush of one batch may write to all its streams together; past it the streams get the
   * counts without each payout's details.
   */
  static final long BYTES_PER_FLUSH = 4L * 1024 * 1024;

  /** Streams written in one turn of the event loop. */
  static final int SLICE = 64;

  private final Vertx vertx;
  private final BatchView view;
  private final int maxPerClient;
  private final int maxStreams;
  private final AtomicInteger open = new AtomicInteger();
  private final Map<String, AtomicInteger> openByClient = new ConcurrentHashMap<>();

  /** One feed per batch followed, by batch key; touched on the event loop only. */
  private final Map<String, Feed> feeds = new LinkedHashMap<>();

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
    Stream stream = new Stream(response, batchId, () -> release(client, mine));
    response.closeHandler(v -> stream.end());
    stream.send("progress", progress(first.get()), 1);
    if (first.get().complete()) {
      stream.send("complete", progress(first.get()), 2);
      stream.finish();
      return true;
    }
    String key = client + "/" + batchId;
    Feed feed = feeds.get(key);
    if (feed == null) {
      feed = new Feed(vertx.getOrCreateContext(), key, client, batchId);
      try {
        feed.start();
      } catch (RuntimeException e) {
        // No feed half-built for the next stream to join: this one ends, the client reconnects.
        feed.close();
        stream.finish();
        log.warn("event stream of {} ended at its start: {}", batchId, e.toString());
        return true;
      }
      feeds.put(key, feed);
    }
    feed.join(stream);
    return true;
  }

  private void release(String client, AtomicInteger mine) {
    open.decrementAndGet();
    if (mine.decrementAndGet() <= 0) {
      openByClient.remove(client, mine);
    }
  }

  /** Everything one batch's streams are sent; all but the view's callback runs on its context. */
  private final class Feed {
    private final Context context;
    private final String key;
    private final String client;
    private final String batchId;
    private final Set<Stream> streams = new LinkedHashSet<>();

    /** Written by the view's thread, taken by the flush: guarded by itself. */
    private final Map<String, PayoutState> changed = new LinkedHashMap<>();

    private int dropped;
    private boolean flushDue;
    private long sequence = 1;
    private long keepAlive = -1;
    private AutoCloseable watch;
    private boolean closed;
    private boolean delivering;
    private boolean retrying;

    Feed(Context context, String key, String client, String batchId) {
      this.context = context;
      this.key = key;
      this.client = client;
      this.batchId = batchId;
    }

    void start() {
      watch = view.watch(client, batchId, this::changed);
      keepAlive =
          vertx.setPeriodic(
              KEEP_ALIVE_MS,
              t -> {
                if (!delivering) {
                  deliver(Buffer.buffer(": keep-alive\n\n"), false);
                }
              });
      // A result stored between the first read and the watch would otherwise wait for the next.
      schedule();
    }

    void join(Stream stream) {
      streams.add(stream);
      stream.feed = this;
    }

    void leave(Stream stream) {
      streams.remove(stream);
      if (streams.isEmpty()) {
        close();
      }
    }

    /** On the view's thread: O(1) whatever the number of streams. */
    private void changed(String payoutId, PayoutState state) {
      boolean first;
      synchronized (changed) {
        if (changed.size() < MAX_PAYOUTS_PER_EVENT || changed.containsKey(payoutId)) {
          changed.put(payoutId, state);
        } else {
          dropped++;
        }
        first = !flushDue;
        flushDue = true;
      }
      if (first) {
        context.runOnContext(v -> schedule());
      }
    }

    private void schedule() {
      if (!closed) {
        vertx.setTimer(FLUSH_MS, t -> flush());
      }
    }

    private void flush() {
      if (closed) {
        return;
      }
      if (delivering) {
        // The last flush is still being written: its changes wait for the next.
        vertx.setTimer(FLUSH_MS, t -> flush());
        return;
      }
      List<Map<String, Object>> payouts;
      int more;
      synchronized (changed) {
        payouts = new ArrayList<>(changed.size());
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
        more = dropped;
        changed.clear();
        dropped = 0;
        flushDue = false;
      }
      Buffer out = Buffer.buffer();
      if (!payouts.isEmpty()) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("payouts", payouts);
        if (more > 0) {
          body.put("more", more);
        }
        Buffer detail = event("payouts", body);
        if ((long) detail.length() * streams.size() > BYTES_PER_FLUSH) {
          // Followed by so many that the details would flood the gateway: the counts tell, and
          // GET /v1/batches/{id} has every payout.
          detail = event("payouts", Map.of("payouts", List.of(), "more", payouts.size() + more));
        }
        out.appendBuffer(detail);
      }
      Optional<BatchStatus> now;
      try {
        now = view.summary(client, batchId);
      } catch (BatchView.ViewUnavailableException e) {
        // Rebalancing or restoring: the next change (or this one retry) sends the counts.
        if (!retrying) {
          retrying = true;
          vertx.setTimer(
              1_000,
              t -> {
                retrying = false;
                flush();
              });
        }
        now = Optional.empty();
      }
      boolean complete = now.isPresent() && now.get().complete();
      if (now.isPresent()) {
        out.appendBuffer(event("progress", progress(now.get())));
        if (complete) {
          out.appendBuffer(event("complete", progress(now.get())));
        }
      }
      if (out.length() > 0) {
        deliver(out, complete);
      }
    }

    /**
     * Writes one flush to every stream, {@link #SLICE} streams at a time with the event loop's
     * other work in between: a batch followed by thousands delays a post by one slice, not by
     * thousands of writes.
     */
    private void deliver(Buffer out, boolean complete) {
      delivering = true;
      deliverFrom(List.copyOf(streams), 0, out, complete);
    }

    private void deliverFrom(List<Stream> targets, int from, Buffer out, boolean complete) {
      int to = Math.min(targets.size(), from + SLICE);
      for (int i = from; i < to; i++) {
        Stream s = targets.get(i);
        s.write(out);
        if (complete) {
          s.finish();
        }
      }
      if (to < targets.size()) {
        context.runOnContext(v -> deliverFrom(targets, to, out, complete));
      } else {
        delivering = false;
      }
    }

    private Buffer event(String name, Object data) {
      return BatchEvents.event(++sequence, name, data, batchId);
    }

    private void close() {
      if (closed) {
        return;
      }
      closed = true;
      feeds.remove(key, this);
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
  }

  /** One client's open stream. */
  private static final class Stream {
    private final HttpServerResponse response;
    private final String batchId;
    private final Runnable onEnd;
    private Feed feed;
    private boolean ended;

    Stream(HttpServerResponse response, String batchId, Runnable onEnd) {
      this.response = response;
      this.batchId = batchId;
      this.onEnd = onEnd;
    }

    void send(String event, Object data, long id) {
      Buffer encoded = BatchEvents.event(id, event, data, batchId);
      if (encoded.length() > 0) {
        write(encoded);
      }
    }

    void write(Buffer buffer) {
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
      response.write(buffer);
    }

    void finish() {
      if (!ended && !response.ended()) {
        response.end();
      }
      end();
    }

    void end() {
      if (ended) {
        return;
      }
      ended = true;
      onEnd.run();
      if (feed != null) {
        feed.leave(this);
      }
    }
  }

  /** One server-sent event, encoded once whatever the number of streams it goes to. */
  private static Buffer event(long id, String name, Object data, String batchId) {
    try {
      return Buffer.buffer(
          "id: "
              + id
              + "\nevent: "
              + name
              + "\ndata: "
              + Json.mapper().writeValueAsString(data)
              + "\n\n");
    } catch (JsonProcessingException e) {
      log.error("cannot write a {} event of batch {}", name, batchId, e);
      return Buffer.buffer();
    }
  }

  static Map<String, Object> progress(BatchStatus status) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("batchId", status.batchId());
    body.put("total", status.total());
    body.put("handled", status.handled());
    body.put("settled", status.settled());
    body.put("counts", status.counts());
    body.put("complete", status.complete());
    if (status.firstUpdate() != null) {
      body.put("firstUpdate", status.firstUpdate());
      body.put("lastUpdate", status.lastUpdate());
    }
    return body;
  }
}
