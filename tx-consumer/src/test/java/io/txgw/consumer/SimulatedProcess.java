package io.txgw.consumer;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.consumer.chain.ChainSender;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;

/**
 * One consumer process as the fault simulation drives it: the real {@link PayoutProcessor}, one
 * pass of its loop at a time, with the journal read from wherever the simulation keeps it and the
 * pause detector replaced by the simulation's own word.
 */
public final class SimulatedProcess {
  private final PayoutProcessor processor;
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

  /** A journal entry (null for a tombstone) at its offset. */
  public record Logged(long offset, JournalEntry entry) {}

  /**
   * @param producers a new producer with the process's transactional id at each call
   * @param journal the committed journal records of one partition, in log order
   * @param horizon settled payouts per journal generation
   * @param quarantined true while the process should believe it stood still
   */
  public SimulatedProcess(
      Consumer<String, byte[]> consumer,
      Supplier<? extends Producer<String, Object>> producers,
      Map<Chain, ChainSender> senders,
      RecordIntake intake,
      Function<Integer, List<Logged>> journal,
      int horizon,
      AccountGuard guard,
      Clock clock,
      BooleanSupplier quarantined,
      io.txgw.consumer.finality.Finality finality) {
    this.processor =
        new PayoutProcessor(
            consumer,
            producers,
            senders,
            intake,
            from -> {
              // As the journal reader does: from the checkpoint on, tombstones skipped.
              Map<Integer, JournalIndex> indexes = new HashMap<>();
              from.forEach(
                  (p, checkpoint) -> {
                    JournalIndex index = new JournalIndex(checkpoint);
                    for (Logged r : journal.apply(p)) {
                      if (r.offset() >= checkpoint.previousStart() && r.entry() != null) {
                        index.apply(r.entry(), r.offset());
                      }
                    }
                    indexes.put(p, index);
                  });
              return indexes;
            },
            horizon,
            guard,
            clock,
            true,
            meters,
            quarantined,
            finality);
  }

  /** Rounds prepared while earlier units of their partition were in flight. */
  public int roundsWhileInFlight() {
    return (int)
        meters.find(PayoutProcessor.ROUNDS_IN_FLIGHT).counters().stream()
            .mapToDouble(io.micrometer.core.instrument.Counter::count)
            .sum();
  }

  /** Rebalances through which the senders kept their memory. */
  public int sendersKept() {
    return (int)
        meters.find(PayoutProcessor.SENDERS_KEPT).counters().stream()
            .mapToDouble(io.micrometer.core.instrument.Counter::count)
            .sum();
  }

  public void start() {
    processor.start();
  }

  /** One pass of the loop; false once a fatal error has ended it. */
  public boolean pollOnce() throws InterruptedException {
    return processor.pollOnce();
  }
}
