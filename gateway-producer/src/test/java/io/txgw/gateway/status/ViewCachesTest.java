package io.txgw.gateway.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.model.BatchRecord;
import io.txgw.common.model.Chain;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ViewCachesTest {

  private static BatchRecord batch(String id, int acceptedEarlier) {
    Map<String, String> earlier = new HashMap<>();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < acceptedEarlier; i++) {
      earlier.put(id + "-" + i, "older");
      ids.add(id + "-" + i);
    }
    ids.add(id + "-new");
    return new BatchRecord(
        "acme", id, Chain.ETH, "test", "fp-" + id, ids, Instant.EPOCH, null, earlier);
  }

  @Test
  void headersAreReadOnceAndKeptWithinTheirCountAndWeight() {
    AtomicInteger reads = new AtomicInteger();
    BatchHeaders headers =
        new BatchHeaders(
            key -> {
              reads.incrementAndGet();
              return Optional.of(batch(key, key.startsWith("heavy") ? 40 : 0));
            },
            10,
            100);

    assertThat(headers.get("b0")).map(BatchHeaders.Header::total).contains(1);
    assertThat(headers.get("b0")).isPresent();
    assertThat(reads).hasValue(1);

    for (int i = 0; i < 50; i++) {
      headers.get("b" + i);
      assertThat(headers.size()).isLessThanOrEqualTo(10);
    }
    for (int i = 0; i < 5; i++) {
      headers.get("heavy" + i);
      assertThat(headers.weight()).isLessThanOrEqualTo(100);
    }
    // The last two heavy headers (41 each): a third would pass the weight, so no light one is left.
    assertThat(headers.size()).isEqualTo(2);
    assertThat(headers.weight()).isEqualTo(82);
  }

  @Test
  void theLeastRecentlyUsedHeaderIsDroppedFirst() {
    List<String> reads = new ArrayList<>();
    BatchHeaders headers =
        new BatchHeaders(
            key -> {
              reads.add(key);
              return Optional.of(batch(key, 0));
            },
            3,
            100);
    headers.get("b0");
    headers.get("b1");
    headers.get("b2");
    headers.get("b0");

    headers.get("b3");
    headers.get("b0");
    headers.get("b1");

    // b0 was used after b1, so b1 made room for b3 and is read again; b0 never is.
    assertThat(reads).containsExactly("b0", "b1", "b2", "b3", "b1");
  }

  @Test
  void anUnknownBatchIsNotCachedAsMissing() {
    Map<String, BatchRecord> stored = new HashMap<>();
    BatchHeaders headers = new BatchHeaders(key -> Optional.ofNullable(stored.get(key)));

    assertThat(headers.get("b1")).isEmpty();
    stored.put("b1", batch("b1", 0));
    assertThat(headers.get("b1")).isPresent();
    assertThat(headers.size()).isEqualTo(1);
  }

  @Test
  void recentBatchesListTheMostRecentlyTouchedFirstWithinCapacity() {
    RecentBatches recent = new RecentBatches(3);
    recent.touch("a");
    recent.touch("b");
    recent.touch("c");
    recent.touch("a");
    recent.touch("d");

    assertThat(recent.newestFirst(10)).containsExactly("d", "a", "c");
    assertThat(recent.newestFirst(2)).containsExactly("d", "a");
  }

  @Test
  void aBatchIsForgottenOnceItsLastWatcherStops() throws Exception {
    BatchWatchers watchers = new BatchWatchers();
    List<String> seen = new ArrayList<>();
    AutoCloseable first = watchers.add("b1", (id, s) -> seen.add("first " + id));
    AutoCloseable second = watchers.add("b1", (id, s) -> seen.add("second " + id));
    PayoutState state = null;

    watchers.changed("b1", "p1", state);
    watchers.changed("b2", "p9", state);
    first.close();
    watchers.changed("b1", "p2", state);
    second.close();

    assertThat(seen).containsExactly("first p1", "second p1", "second p2");
    assertThat(watchers.batches()).isZero();
  }

  @Test
  void aWatcherAddedWhileAnotherStopsIsStillTold() throws Exception {
    // Streams of one batch opening and closing at once (a client reconnecting): each new watcher
    // must hear the next change, never land in a list the last close has just dropped.
    BatchWatchers watchers = new BatchWatchers();
    int threads = 4;
    int rounds = 20_000;
    AtomicInteger missed = new AtomicInteger();
    java.util.concurrent.atomic.AtomicReference<Throwable> failed =
        new java.util.concurrent.atomic.AtomicReference<>();
    List<Thread> running = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread thread =
          new Thread(
              () -> {
                for (int i = 0; i < rounds; i++) {
                  AtomicInteger heard = new AtomicInteger();
                  AutoCloseable watch = watchers.add("b1", (id, s) -> heard.incrementAndGet());
                  watchers.changed("b1", "p", null);
                  if (heard.get() == 0) {
                    missed.incrementAndGet();
                  }
                  try {
                    watch.close();
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                }
              });
      // A thread that throws must fail the test, not just stop counting.
      thread.setUncaughtExceptionHandler((dead, e) -> failed.compareAndSet(null, e));
      thread.start();
      running.add(thread);
    }
    for (Thread thread : running) {
      thread.join();
    }

    assertThat(failed.get()).isNull();
    assertThat(missed).hasValue(0);
    assertThat(watchers.batches()).isZero();
  }
}
