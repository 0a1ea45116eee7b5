package io.txgw.gateway.status;

import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.BatchRecord;
import io.txgw.common.model.PayoutResult;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The batch status view as a Kafka Streams topology. Three stores:
 *
 * <ul>
 *   <li>{@value #BATCHES}: the batches topic as a table, {@code client/batch} to the {@link
 *       BatchRecord}'s JSON (which payouts a batch has; what a re-post is compared with).
 *   <li>{@value #PAYOUTS}: {@code client/payout} (the results topic's key, so a payout's state sits
 *       in the partition its results arrive on) to the payout's latest {@link PayoutState}. A
 *       payout id posted again in a later batch is paid once; its state answers for every batch
 *       naming it.
 *   <li>{@value #PROGRESS}: {@code client/batch} to its {@link BatchProgress} in that partition,
 *       counting the results recorded for that batch.
 * </ul>
 *
 * Results are keyed by payout, so a batch's results spread over partitions; rather than shuffle
 * them through a repartition topic, each partition keeps the batch's progress of its own payouts,
 * and a query adds the partitions up.
 */
public final class BatchStatusTopology {
  public static final String BATCHES = "batch-records";
  public static final String PAYOUTS = "payout-states";
  public static final String PROGRESS = "batch-progress";

  private BatchStatusTopology() {}

  /** A status change the view has just stored; called on the stream thread, so keep it short. */
  @FunctionalInterface
  public interface Listener {
    void changed(String batchKey, String payoutId, PayoutState state);

    Listener NONE = (b, p, s) -> {};
  }

  public static Topology build(Listener listener) {
    StreamsBuilder builder = new StreamsBuilder();
    builder.table(
        Topics.BATCHES,
        // Kept as the bytes on the topic: every accepted batch passes here, and only a lookup
        // (a status read, a re-post) needs it read.
        Consumed.with(Serdes.String(), Serdes.ByteArray()),
        Materialized.<String, byte[], KeyValueStore<Bytes, byte[]>>as(BATCHES)
            .withKeySerde(Serdes.String())
            .withValueSerde(Serdes.ByteArray()));
    builder.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(PAYOUTS),
            Serdes.String(),
            new JsonSerde<>(PayoutState.class)));
    builder.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(PROGRESS),
            Serdes.String(),
            new JsonSerde<>(BatchProgress.class)));
    builder.stream(
            Topics.RESULTS, Consumed.with(Serdes.String(), new JsonSerde<>(PayoutResult.class)))
        .process(() -> new ResultProcessor(listener), PAYOUTS, PROGRESS);
    return builder.build();
  }

  /** Folds each result into its payout's state and its batch's progress. */
  static final class ResultProcessor implements Processor<String, PayoutResult, Void, Void> {
    private final Listener listener;
    private KeyValueStore<String, PayoutState> payouts;
    private KeyValueStore<String, BatchProgress> progress;

    ResultProcessor(Listener listener) {
      this.listener = listener;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
      payouts = context.getStateStore(PAYOUTS);
      progress = context.getStateStore(PROGRESS);
    }

    @Override
    public void process(Record<String, PayoutResult> record) {
      PayoutResult result = record.value();
      if (result == null) {
        return;
      }
      String batchKey = BatchRecord.key(result.clientId(), result.batchId());
      String key = result.resultKey();
      PayoutState next = PayoutState.of(result);
      PayoutState before = payouts.get(key);
      if (before != null && !before.isSupersededBy(next)) {
        return;
      }
      payouts.put(key, next);
      BatchProgress current = progress.get(batchKey);
      BatchProgress moved = (current == null ? BatchProgress.NONE : current).moved(before, next);
      progress.put(batchKey, moved);
      listener.changed(batchKey, result.payoutId(), next);
    }
  }
}
