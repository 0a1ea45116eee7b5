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
    // Two heavy headers (41 each) and what room is left for light ones.
    assertThat(headers.size()).isLessThanOrEqualTo(10);
    assertThat(headers.weight()).isBetween(82, 100);
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
}
