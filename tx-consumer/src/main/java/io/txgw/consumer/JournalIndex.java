package io.txgw.consumer;

import io.txgw.common.model.JournalEntry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the journal of one partition says: which payouts are taken (prepared or recorded, so never
 * prepared again) and which units are journaled but not yet recorded (to re-broadcast before any
 * new work).
 */
final class JournalIndex {
  private final Map<String, JournalEntry.State> payoutState = new HashMap<>();
  private final Map<String, JournalEntry> pending = new LinkedHashMap<>();

  void apply(JournalEntry entry) {
    for (JournalEntry.Item item : entry.payouts()) {
      payoutState.put(item.resultKey(), entry.state());
    }
    if (entry.state() == JournalEntry.State.PREPARED) {
      pending.put(entry.unitId(), entry);
    } else {
      pending.remove(entry.unitId());
    }
  }

  /**
   * True when the payout is in a unit that was prepared or recorded: it must not be prepared again.
   */
  boolean isTaken(String resultKey) {
    JournalEntry.State state = payoutState.get(resultKey);
    return state != null && state != JournalEntry.State.ABANDONED;
  }

  /** Units journaled and not recorded, in journal order. */
  List<JournalEntry> pending() {
    return new ArrayList<>(pending.values());
  }

  int pendingCount() {
    return pending.size();
  }

  boolean hasPending() {
    return !pending.isEmpty();
  }
}
