package io.txgw.gateway.status;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;

/**
 * Who is told of each stored change of a batch's payouts (the live event streams). A batch's entry
 * lives only while someone watches it: a stream watches its batch and each earlier batch that first
 * accepted one of its payouts, so the map holds at most the open streams (which the HTTP layer
 * bounds) times one more than a batch's largest size.
 */
final class BatchWatchers {
  private final Map<String, List<BiConsumer<String, PayoutState>>> watchers =
      new ConcurrentHashMap<>();

  /**
   * @return closing it stops the calls, and forgets the batch once nobody else watches it
   */
  AutoCloseable add(String batchKey, BiConsumer<String, PayoutState> onChange) {
    // Added inside the map's compute, as the close below removes: an add outside it could land in
    // a list the last watcher's close has just emptied and dropped, and that stream hear nothing.
    watchers.compute(
        batchKey,
        (k, list) -> {
          List<BiConsumer<String, PayoutState>> to =
              list == null ? new CopyOnWriteArrayList<>() : list;
          to.add(onChange);
          return to;
        });
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
