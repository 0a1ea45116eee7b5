package io.txgw.consumer;

import io.txgw.common.model.JournalEntry;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The payouts of one read that have neither a result nor a journaled unit yet, by {@code sendto}
 * offset: the committed offset may never pass the lowest of them. Bounded by one poll's records.
 */
final class OpenPayouts {
  private final Map<String, Long> byKey = new HashMap<>();
  private final TreeMap<Long, Integer> offsets = new TreeMap<>();

  /** The payout is read at {@code offset} and not handled yet (again, for an abandoned unit). */
  void open(String resultKey, long offset) {
    if (byKey.put(resultKey, offset) == null) {
      offsets.merge(offset, 1, Integer::sum);
    }
  }

  /** An abandoned unit's payouts are open again, at the offset its first payout was read at. */
  void reopen(JournalEntry abandoned) {
    for (JournalEntry.Item item : abandoned.payouts()) {
      open(item.resultKey(), abandoned.rereadFrom());
    }
  }

  /** The units' payouts are journaled or recorded: the offset may pass them now. */
  void settle(List<JournalEntry> units) {
    for (JournalEntry unit : units) {
      for (JournalEntry.Item item : unit.payouts()) {
        Long offset = byKey.remove(item.resultKey());
        if (offset != null) {
          offsets.computeIfPresent(offset, (k, n) -> n == 1 ? null : n - 1);
        }
      }
    }
  }

  /** The offset to commit: the lowest open payout's, or {@code next} when none is open. */
  long commitBelow(long next) {
    return offsets.isEmpty() ? next : offsets.firstKey();
  }
}
