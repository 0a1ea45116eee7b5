package io.txgw.gateway.status;

import io.micrometer.core.instrument.MeterRegistry;
import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.BatchRecord;
import io.txgw.common.model.FailureCode;
import io.txgw.common.model.PayoutStatus;
import io.txgw.gateway.BatchStatus;
import java.io.Closeable;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's view of batches and their results: a Kafka Streams application ({@link
 * BatchStatusTopology}) whose RocksDB stores survive restarts and are rebuilt from Kafka when lost,
 * queried in place (interactive queries).
 *
 * <p>Every gateway instance runs its own application id and so holds every partition: any instance
 * can answer for any batch, and recognise any re-posted batch, without forwarding requests.
 */
public final class BatchView implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(BatchView.class);

  /** How many recently active batches the view remembers for the dashboard. */
  public static final int RECENT = 200;

  /** Null when the stores are given ({@link #BatchView(ViewStores.Source, int, ViewTail)}). */
  private final StatusStreams app;

  private final ViewStores stores;
  private static final JsonSerde<BatchRecord> BATCH_JSON = new JsonSerde<>(BatchRecord.class);

  /**
   * Batches this gateway committed that the view has not read back yet: each leaves when the view
   * indexes it, so the map holds no more than the batches in flight between the two.
   */
  private final Map<String, BatchRecord> written = new ConcurrentHashMap<>();

  private final BatchWatchers watchers = new BatchWatchers();
  private final RecentBatches recent = new RecentBatches(RECENT);
  private final BatchHeaders headers = new BatchHeaders(this::batchByKey);
  private final PayoutIndex payoutIndex = new PayoutIndex(this::storedClaim);
  private final ViewTail tail;

  public BatchView(KafkaConnection kafka, String instanceId, Path stateDir) {
    this(kafka, instanceId, stateDir, null);
  }

  /**
   * @param topics the replicas and {@code min.insync.replicas} of the view's own changelog and
   *     repartition topics, as of txgw's; null leaves them to the brokers' defaults
   */
  public BatchView(
      KafkaConnection kafka,
      String instanceId,
      Path stateDir,
      io.txgw.common.kafka.TopicSettings topics) {
    this.app = new StatusStreams(kafka, instanceId, stateDir, topics, listener());
    this.tail = app.tail();
    this.stores = new ViewStores(app.stores());
  }

  /**
   * A view over stores that something else fills, such as a test driver running {@link
   * BatchStatusTopology} with {@link #listener()}: every topic with {@code partitions} partitions,
   * and {@code tail} telling when it has read what was written.
   */
  BatchView(ViewStores.Source stores, int partitions, ViewTail tail) {
    this.app = null;
    this.tail = tail;
    this.stores = new ViewStores(stores);
    this.stores.partitions(partitions, partitions);
  }

  /** What the topology tells the view of: stored status changes, indexed batches. */
  BatchStatusTopology.Listener listener() {
    return new BatchStatusTopology.Listener() {
      @Override
      public void changed(String batchKey, String payoutId, PayoutState state) {
        BatchView.this.changed(batchKey, payoutId, state);
      }

      @Override
      public void batchIndexed(String batchKey) {
        payoutIndex.indexed(batchKey);
        // The batches store has had it since just before: the copy is not needed any longer.
        written.remove(batchKey);
      }
    };
  }

  /** Starts the application; {@link #awaitCaughtUp} tells when it has read what existed before. */
  public void start() {
    app.start(stores);
  }

  /** The Streams application's client metrics. */
  public void bindMetrics(MeterRegistry meters) {
    app.bindMetrics(meters);
  }

  public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
    return app == null || app.awaitCaughtUp(timeout);
  }

  /** Ready to answer: caught up once, and its stores queryable now. */
  public boolean isCaughtUp() {
    return app == null || app.isCaughtUp();
  }

  /**
   * Completes once the view has read the batches topic past its end as of now: a batch whose
   * transaction was over by now is then in the view if it committed.
   */
  public CompletableFuture<Void> readPastEnd() {
    return tail.readPastEnd();
  }

  /** The client's payout ids, for the accept path to check and take. */
  public PayoutIndex payoutIndex() {
    return payoutIndex;
  }

  /**
   * The stored claim on a payout id: the index is kept in the partitions of the batches, so the id
   * is read in each; of two claims (ids taken before the index, or by two gateways racing) the
   * earlier wins, on every gateway alike.
   */
  private Optional<PayoutClaim> storedClaim(String clientId, String payoutId) {
    List<PayoutClaim> claims =
        stores.getAll(BatchStatusTopology.PAYOUT_IDS, clientId + "/" + payoutId);
    PayoutClaim first = null;
    for (PayoutClaim claim : claims) {
      if (first == null || claim.precedes(first)) {
        first = claim;
      }
    }
    return Optional.ofNullable(first);
  }

  /** The batch, whether the view has read it yet or this gateway has just written it. */
  public Optional<BatchRecord> batch(String clientId, String batchId) {
    String key = BatchRecord.key(clientId, batchId);
    BatchRecord stored = storedBatch(key);
    if (stored != null) {
      written.remove(key);
      return Optional.of(stored);
    }
    return Optional.ofNullable(written.get(key));
  }

  /** Records a batch this gateway has just committed, until the view reads it back. */
  public void remember(BatchRecord batch) {
    written.put(batch.key(), batch);
    // The view may have read the batch already (its commit returns before this runs): then
    // nothing would ever take it out of the map again.
    if (storedBatch(batch.key()) != null) {
      written.remove(batch.key());
    }
    recent.touch(batch.key());
  }

  /** The batch with every payout's latest state; payouts without a result are ACCEPTED. */
  public Optional<BatchStatus> status(String clientId, String batchId) {
    return batch(clientId, batchId).map(this::statusOf);
  }

  private BatchStatus statusOf(BatchRecord batch) {
    Map<PayoutStatus, Integer> counts = new EnumMap<>(PayoutStatus.class);
    List<BatchStatus.Item> items = new ArrayList<>(batch.payoutIds().size());
    Instant first = null;
    Instant last = null;
    for (String id : batch.payoutIds()) {
      String key = batch.clientId() + "/" + id;
      // A payout id is one payment, whichever batches name it: an id accepted earlier with the
      // same content shows that payment, and no other content can come back under the id.
      PayoutState s = stores.get(BatchStatusTopology.PAYOUTS, key);
      String acceptedIn = batch.acceptedEarlier().get(id);
      BatchStatus.Item item =
          s == null
              ? new BatchStatus.Item(
                  id, PayoutStatus.ACCEPTED, null, null, null, batch.acceptedAt(), acceptedIn)
              : new BatchStatus.Item(
                  id,
                  s.status(),
                  s.txid(),
                  s.node(),
                  // Clients see a stable code; the node's own words stay in the results topic.
                  FailureCode.of(s.error()),
                  s.updatedAt(),
                  acceptedIn);
      if (s != null) {
        first = first == null || s.updatedAt().isBefore(first) ? s.updatedAt() : first;
        last = last == null || s.updatedAt().isAfter(last) ? s.updatedAt() : last;
      }
      counts.merge(item.status(), 1, Integer::sum);
      items.add(item);
    }
    return new BatchStatus(
        batch.batchId(),
        batch.chain(),
        batch.source(),
        batch.acceptedAt(),
        items.size(),
        counts,
        first,
        last,
        items);
  }

  /** The batch's counts alone, from the per-partition progress: cheap for any batch size. */
  public Optional<BatchStatus> summary(String clientId, String batchId) {
    return summaryByKey(BatchRecord.key(clientId, batchId));
  }

  /** The counts of the batch stored under a key from {@link #recentBatchKeys}. */
  public Optional<BatchStatus> summaryByKey(String key) {
    return headers.get(key).map(h -> summaryOf(key, h));
  }

  private BatchStatus summaryOf(String key, BatchHeaders.Header batch) {
    BatchProgress total = BatchProgress.NONE;
    for (BatchProgress part : stores.<BatchProgress>getAll(BatchStatusTopology.PROGRESS, key)) {
      total = total.plus(part);
    }
    for (String id : batch.acceptedEarlier().keySet()) {
      PayoutState s = stores.get(BatchStatusTopology.PAYOUTS, batch.clientId() + "/" + id);
      if (s != null) {
        total = total.moved(null, s);
      }
    }
    Map<PayoutStatus, Integer> counts = new EnumMap<>(PayoutStatus.class);
    counts.putAll(total.counts());
    int waiting = batch.total() - total.handled() + counts.getOrDefault(PayoutStatus.ACCEPTED, 0);
    counts.remove(PayoutStatus.ACCEPTED);
    if (waiting > 0) {
      counts.put(PayoutStatus.ACCEPTED, waiting);
    }
    return new BatchStatus(
        batch.batchId(),
        batch.chain(),
        batch.source(),
        batch.acceptedAt(),
        batch.total(),
        counts,
        total.firstUpdate(),
        total.lastUpdate(),
        null);
  }

  /**
   * Calls {@code onChange} with the payout id and its new state (on the view's thread: hand the
   * work elsewhere) after each stored change of the batch's payouts.
   *
   * @return closing it stops the calls
   */
  public AutoCloseable watch(
      String clientId, String batchId, BiConsumer<String, PayoutState> onChange) {
    String key = BatchRecord.key(clientId, batchId);
    List<AutoCloseable> watches = new ArrayList<>();
    watches.add(watchers.add(key, onChange));
    // The results of payouts accepted earlier name the batch that accepted them.
    Map<String, String> earlier;
    try {
      earlier = headers.get(key).map(BatchHeaders.Header::acceptedEarlier).orElse(Map.of());
    } catch (RuntimeException e) {
      // Not left watching for a caller that never gets the handle to stop it.
      for (AutoCloseable w : watches) {
        try {
          w.close();
        } catch (Exception closing) {
          e.addSuppressed(closing);
        }
      }
      throw e;
    }
    Map<String, Set<String>> idsByBatch = new HashMap<>();
    earlier.forEach((id, b) -> idsByBatch.computeIfAbsent(b, x -> new HashSet<>()).add(id));
    idsByBatch.forEach(
        (earlierBatch, ids) ->
            watches.add(
                watchers.add(
                    BatchRecord.key(clientId, earlierBatch),
                    (id, state) -> {
                      if (ids.contains(id)) {
                        onChange.accept(id, state);
                      }
                    })));
    return () -> {
      for (AutoCloseable w : watches) {
        w.close();
      }
    };
  }

  /** Keys of the batches written or updated most recently, newest first. */
  public List<String> recentBatchKeys(int limit) {
    return recent.newestFirst(limit);
  }

  /** The batch stored under a key from {@link #recentBatchKeys}. */
  private Optional<BatchRecord> batchByKey(String key) {
    BatchRecord stored = storedBatch(key);
    return Optional.ofNullable(stored != null ? stored : written.get(key));
  }

  private void changed(String batchKey, String payoutId, PayoutState state) {
    recent.touch(batchKey);
    watchers.changed(batchKey, payoutId, state);
  }

  private BatchRecord storedBatch(String key) {
    byte[] json = stores.get(BatchStatusTopology.BATCHES, key);
    return json == null ? null : BATCH_JSON.deserialize(Topics.BATCHES, json);
  }

  /** The view's stores cannot be read now (rebalancing, restoring, stopped): try again shortly. */
  public static final class ViewUnavailableException extends RuntimeException {
    ViewUnavailableException(Throwable cause) {
      super("batch status view unavailable: " + cause.getMessage(), cause);
    }

    ViewUnavailableException(String reason) {
      super(reason);
    }
  }

  @Override
  public void close() {
    tail.close();
    if (app != null) {
      app.close();
    }
  }
}
