package io.txgw.gateway.status;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The batches written or updated most recently, for the dashboard: at most {@code capacity}. */
final class RecentBatches {
  private final Map<String, Boolean> keys;

  RecentBatches(int capacity) {
    // In access order: a touched key moves to the newest end, the eldest goes past capacity.
    this.keys =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > capacity;
          }
        };
  }

  /** The batch was written or one of its payouts changed. */
  void touch(String batchKey) {
    synchronized (keys) {
      keys.put(batchKey, Boolean.TRUE);
    }
  }

  /** Up to {@code limit} keys, the most recently touched first. */
  List<String> newestFirst(int limit) {
    List<String> oldestFirst;
    synchronized (keys) {
      oldestFirst = new ArrayList<>(keys.keySet());
    }
    List<String> newest = new ArrayList<>(Math.min(limit, oldestFirst.size()));
    for (int i = oldestFirst.size() - 1; i >= 0 && newest.size() < limit; i--) {
      newest.add(oldestFirst.get(i));
    }
    return newest;
  }
}
