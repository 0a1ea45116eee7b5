package io.txgw.gateway.status;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;

/**
 * Who is told of each stored change of a batch's payouts (the live event streams). A batch's entry
 * lives only while someone watches it, so the map holds no more than the open streams, which the
 * HTTP layer bounds.
 */
final class BatchWatchers {
  private final Map<String, List<BiConsumer<String, PayoutState>>> watchers =
      new ConcurrentHashMap<>();

  /**
   * @return closing it stops the calls, and forgets the batch once nobody else watches it
   */
  AutoCloseable add(String batchKey, BiConsumer<String, PayoutState> onChange) {
    watchers.computeIfAbsent(batchKey, k -> new CopyOnWriteArrayList<>()).add(onChange);
    return () ->
        watchers.computeIfPresent(
            batchKey,
            (k, list) -> {
              list.remove(onChange);
              return list.isEmpty() ? null : list;
            });
  }

  void changed(String batchKey, String payoutId, PayoutState state) {
    List<BiConsumer<String, PayoutState>> list = watchers.get(batchKey);
    if (list != null) {
      list.forEach(w -> w.accept(payoutId, state));
    }
  }

  int batches() {
    return watchers.size();
  }
}
