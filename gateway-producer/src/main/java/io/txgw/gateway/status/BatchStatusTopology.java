package io.txgw.gateway.status;

import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.BatchRecord;
import io.txgw.common.model.PayoutResult;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The batch status view as a Kafka Streams topology. Four stores:
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
 *   <li>{@value #PAYOUT_IDS}: {@code client/payout} to the {@link PayoutClaim} of the batch that
 *       accepted it, for every payout a batch wrote: what a payout id posted again is checked
 *       against. Built from the batches topic, which is compacted and keeps every batch, so the
 *       index is exactly the committed batches and is rebuilt with them. It sits in the partition
 *       of the batch (the index entries and their batch change in one step), so a lookup reads the
 *       id in every partition.
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
  public static final String PAYOUT_IDS = "payout-ids";

  private static final Logger log = LoggerFactory.getLogger(BatchStatusTopology.class);
  private static final JsonSerde<BatchRecord> BATCH_JSON = new JsonSerde<>(BatchRecord.class);

  private BatchStatusTopology() {}

  /** A status change the view has just stored; called on the stream thread, so keep it short. */
  @FunctionalInterface
  public interface Listener {
    void changed(String batchKey, String payoutId, PayoutState state);

    /** The batch's payout ids are in the {@value #PAYOUT_IDS} store now. */
    default void batchIndexed(String batchKey) {}

    Listener NONE = (b, p, s) -> {};
  }

  public static Topology build(Listener listener) {
    StreamsBuilder builder = new StreamsBuilder();
    builder.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(PAYOUT_IDS),
            Serdes.String(),
            new JsonSerde<>(PayoutClaim.class)));
    builder
        .table(
            Topics.BATCHES,
            // Kept as the bytes on the topic: every accepted batch passes here, and only a lookup
            // (a status read, a re-post) needs it read.
            Consumed.with(Serdes.String(), Serdes.ByteArray()),
            Materialized.<String, byte[], KeyValueStore<Bytes, byte[]>>as(BATCHES)
                .withKeySerde(Serdes.String())
                .withValueSerde(Serdes.ByteArray())
                // Uncached, each batch goes on to the index as it is stored, not at the next
                // commit: the index is then behind the batches by no more than the batch itself.
                .withCachingDisabled())
        .toStream()
        .process(() -> new IndexProcessor(listener), PAYOUT_IDS);
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

  /** Indexes each accepted batch's payout ids under {@code client/payout}. */
  static final class IndexProcessor implements Processor<String, byte[], Void, Void> {
    private final Listener listener;
    private KeyValueStore<String, PayoutClaim> index;

    IndexProcessor(Listener listener) {
      this.listener = listener;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
      index = context.getStateStore(PAYOUT_IDS);
    }

    @Override
    public void process(Record<String, byte[]> record) {
      if (record.value() == null) {
        // Batches are never deleted; nor are the ids they accepted, which stay the client's.
        return;
      }
      BatchRecord batch;
      try {
        batch = BATCH_JSON.deserialize(Topics.BATCHES, record.value());
      } catch (SerializationException e) {
        // Status reads fail on this record too; the next batches must still be indexed.
        log.error("batch {} is not readable and its payout ids are not indexed", record.key(), e);
        return;
      }
      List<String> ids = batch.payoutIds();
      for (int i = 0; i < ids.size(); i++) {
        String id = ids.get(i);
        if (batch.acceptedEarlier().containsKey(id)) {
          continue;
        }
        String key = batch.clientId() + "/" + id;
        PayoutClaim claim = PayoutClaim.of(batch, i);
        PayoutClaim held = index.get(key);
        if (held == null || held.batchId().equals(claim.batchId()) || claim.precedes(held)) {
          index.put(key, claim);
        }
      }
      listener.batchIndexed(batch.key());
    }
  }
}
