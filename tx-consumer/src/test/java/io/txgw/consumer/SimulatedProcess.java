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
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;

/**
 * One consumer process as the fault simulation drives it: the real {@link PayoutProcessor}, one
 * pass of its loop at a time, with the journal read from wherever the simulation keeps it and the
 * pause detector replaced by the simulation's own word.
 */
public final class SimulatedProcess {
  private final PayoutProcessor processor;

  /**
   * @param journal the committed journal entries of one partition, in log order
   * @param quarantined true while the process should believe it stood still
   */
  public SimulatedProcess(
      Consumer<String, byte[]> consumer,
      Producer<String, Object> producer,
      Map<Chain, ChainSender> senders,
      Function<Integer, List<JournalEntry>> journal,
      AccountGuard guard,
      Clock clock,
      BooleanSupplier quarantined) {
    this.processor =
        new PayoutProcessor(
            consumer,
            producer,
            senders,
            partitions -> {
              Map<Integer, JournalIndex> indexes = new HashMap<>();
              for (Integer p : partitions) {
                JournalIndex index = new JournalIndex();
                journal.apply(p).forEach(index::apply);
                indexes.put(p, index);
              }
              return indexes;
            },
            guard,
            clock,
            true,
            new SimpleMeterRegistry(),
            quarantined);
  }

  public void start() {
    processor.start();
  }

  /** One pass of the loop; false once a fatal error has ended it. */
  public boolean pollOnce() throws InterruptedException {
    return processor.pollOnce();
  }
}
