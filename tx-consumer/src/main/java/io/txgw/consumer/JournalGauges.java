package io.txgw.consumer;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Collection;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What this consumer's partitions hold in the journal, for scrapes: units journaled and not yet
 * recorded, units the chain holds and that wait for their depth, and those units' payouts. Counted
 * once per pass from the indexes, read by scrapes from any thread.
 */
final class JournalGauges {
  private final AtomicInteger pendingUnits = new AtomicInteger();
  private final AtomicInteger followedUnits = new AtomicInteger();
  private final AtomicInteger followedPayouts = new AtomicInteger();

  JournalGauges(MeterRegistry meters) {
    Gauge.builder("txgw.journal.pending.units", pendingUnits, AtomicInteger::get)
        .description("transactions journaled and not yet recorded, to broadcast before new work")
        .register(meters);
    Gauge.builder("txgw.payouts.waiting.depth", followedPayouts, AtomicInteger::get)
        .description("payouts BROADCAST and waiting for their block to be deep enough")
        .register(meters);
    Gauge.builder("txgw.journal.followed.units", followedUnits, AtomicInteger::get)
        .description("transactions the chain holds, followed until their block is deep enough")
        .register(meters);
  }

  void count(Collection<JournalIndex> indexes) {
    int pending = 0;
    int followed = 0;
    int payouts = 0;
    for (JournalIndex index : indexes) {
      pending += index.pendingCount();
      followed += index.followedCount();
      payouts += index.followedPayouts();
    }
    pendingUnits.set(pending);
    followedUnits.set(followed);
    followedPayouts.set(payouts);
  }
}
