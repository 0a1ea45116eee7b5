package io.txgw.bench;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.io.Closeable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * A closed-loop HTTP load: {@code concurrency} requests in flight on as many keep-alive
 * connections, each answered request replaced by the next, until every body has been posted.
 * Asynchronous (Vert.x), so that the load itself takes as little of the machine as it can.
 */
final class HttpLoad implements Closeable {
  private final Vertx vertx = Vertx.vertx();
  private final HttpClientAgent client;
  private final int port;
  private final String apiKey;

  /** What one load measured. */
  record Result(
      int requests, double seconds, Histogram latencyMicros, Map<Integer, Integer> statuses) {
    double perSecond() {
      return requests / seconds;
    }

    double percentileMillis(double p) {
      return latencyMicros.getValueAtPercentile(p) / 1000.0;
    }

    int answered(int status) {
      return statuses.getOrDefault(status, 0);
    }
  }

  HttpLoad(int port, String apiKey, int connections) {
    this.port = port;
    this.apiKey = apiKey;
    this.client =
        vertx.createHttpClient(
            new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true).setIdleTimeout(0),
            new PoolOptions().setHttp1MaxSize(connections).setMaxWaitQueueSize(-1));
  }

  /** Posts every body to {@code path}, {@code concurrency} at a time; waits for every answer. */
  Result post(String path, List<byte[]> bodies, int concurrency) throws InterruptedException {
    Histogram latency = new ConcurrentHistogram(3_600_000_000L, 3);
    Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
    AtomicInteger next = new AtomicInteger();
    AtomicLong failures = new AtomicLong();
    CountDownLatch done = new CountDownLatch(bodies.size());
    RequestOptions options =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setHost("127.0.0.1")
            .setPort(port)
            .setURI(path)
            .putHeader("Content-Type", "application/json")
            .putHeader("X-Api-Key", apiKey);
    Runnable[] sendNext = new Runnable[1];
    sendNext[0] =
        () -> {
          int i = next.getAndIncrement();
          if (i >= bodies.size()) {
            return;
          }
          Buffer body = Buffer.buffer(bodies.get(i));
          long start = System.nanoTime();
          client
              .request(options)
              .compose(request -> request.send(body))
              .compose(response -> response.body().map(b -> response.statusCode()))
              .onComplete(
                  answer -> {
                    latency.recordValue((System.nanoTime() - start) / 1000);
                    if (answer.succeeded()) {
                      statuses.merge(answer.result(), 1, Integer::sum);
                    } else {
                      failures.incrementAndGet();
                      statuses.merge(-1, 1, Integer::sum);
                    }
                    done.countDown();
                    sendNext[0].run();
                  });
        };
    long start = System.nanoTime();
    for (int c = 0; c < Math.min(concurrency, bodies.size()); c++) {
      sendNext[0].run();
    }
    if (!done.await(10, TimeUnit.MINUTES)) {
      throw new IllegalStateException("load did not finish within 10 minutes");
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    return new Result(bodies.size(), seconds, latency, Map.copyOf(statuses));
  }

  @Override
  public void close() {
    client.close().toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join();
    vertx.close().toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join();
  }
}
