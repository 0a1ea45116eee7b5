package io.txgw.gateway.kafka;

import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.BatchRecord;
import io.txgw.common.model.Payout;
import java.io.Closeable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes each accepted batch (its batch record and one {@code sendto} record per payout) in one
 * Kafka transaction, so a batch is either wholly visible to read_committed consumers or not at all.
 * Batches that arrive together share a transaction (group commit): one transaction per request
 * would cap the gateway at the ~100 transactions/s a broker manages.
 *
 * <p>Several lanes, each a transactional producer of its own, take groups from one queue: while one
 * lane waits for its commit (most of a transaction's time), another gathers and sends the next
 * group, so a request waits for about one commit rather than for the one before it too.
 */
public final class BatchWriter implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(BatchWriter.class);

  /** Bounds one transaction so that a burst cannot build one larger than the broker accepts. */
  private static final int MAX_RECORDS_PER_TRANSACTION = 50_000;

  private static final JsonSerde<Payout> PAYOUTS = new JsonSerde<>(Payout.class);
  private static final JsonSerde<BatchRecord> BATCHES = new JsonSerde<>(BatchRecord.class);

  /** A batch's records, serialized by the thread that accepted it, ready to send. */
  private record Pending(
      List<ProducerRecord<String, byte[]>> records, CompletableFuture<Void> done) {}

  private final List<Producer<String, byte[]>> producers;
  private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final List<Thread> lanes = new ArrayList<>();
  private final Object gathering = new Object();
  private volatile boolean closed;

  /**
   * @param transactionalId the gateway instance's id; lane i uses {@code transactionalId-i}, so a
   *     restart with the same id and lane count fences every lane of its predecessor
   */
  public BatchWriter(String bootstrap, String transactionalId, int lanes) {
    this(createProducers(bootstrap, transactionalId, lanes));
  }

  /** The lanes' producers, for their client metrics. */
  public List<Producer<String, byte[]>> producers() {
    return producers;
  }

  /** For tests with {@code MockProducer}s: one lane per producer. */
  public BatchWriter(List<Producer<String, byte[]>> producers) {
    this.producers = List.copyOf(producers);
    for (int i = 0; i < producers.size(); i++) {
      Producer<String, byte[]> producer = producers.get(i);
      producer.initTransactions();
      Thread lane = new Thread(() -> run(producer), "batch-writer-" + i);
      lane.setDaemon(true);
      lanes.add(lane);
    }
    lanes.forEach(Thread::start);
  }

  private static List<Producer<String, byte[]>> createProducers(
      String bootstrap, String transactionalId, int lanes) {
    List<Producer<String, byte[]>> producers = new ArrayList<>();
    for (int i = 0; i < lanes; i++) {
      producers.add(createProducer(bootstrap, transactionalId + "-" + i));
    }
    return producers;
  }

  /**
   * How the gateway's producers write, transactions aside: durable (acks=all, idempotent) and in
   * large batches. Public so that a benchmark's bare producer writes exactly as the gateway does.
   */
  public static Map<String, Object> writeSettings(String bootstrap) {
    Map<String, Object> props = new HashMap<>();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    props.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.MAX_MESSAGE_BYTES);
    return props;
  }

  static Producer<String, byte[]> createProducer(String bootstrap, String transactionalId) {
    Map<String, Object> props = writeSettings(bootstrap);
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    // Back-to-back transactions meet CONCURRENT_TRANSACTIONS; the 100 ms default backoff
    // makes small transactions several times slower.
    props.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 10);
    props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 60_000);
    return new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
  }

  /**
   * Completes when the batch is committed; fails if it was not written (nothing is then). The
   * records are serialized here, on the caller's thread: the writer lanes would otherwise spend
   * most of their time in JSON and cap the gateway at what one core serializes.
   */
  public CompletableFuture<Void> write(BatchRecord batch, List<Payout> payouts) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    if (closed) {
      done.completeExceptionally(new IllegalStateException("batch writer is closed"));
      return done;
    }
    List<ProducerRecord<String, byte[]>> records = new ArrayList<>(payouts.size() + 1);
    try {
      for (Payout payout : payouts) {
        records.add(
            new ProducerRecord<>(
                Topics.SENDTO, payout.accountKey(), PAYOUTS.serialize(Topics.SENDTO, payout)));
      }
      records.add(
          new ProducerRecord<>(
              Topics.BATCHES, batch.key(), BATCHES.serialize(Topics.BATCHES, batch)));
    } catch (SerializationException e) {
      done.completeExceptionally(e);
      return done;
    }
    queue.add(new Pending(records, done));
    return done;
  }

  private void run(Producer<String, byte[]> producer) {
    while (!closed) {
      List<Pending> group;
      try {
        group = nextGroup();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      if (!group.isEmpty()) {
        commit(producer, group);
      }
    }
    failAll(new IllegalStateException("batch writer is closed"));
  }

  /**
   * The next transaction's batches: whatever is queued, up to the size bound. One lane gathers at a
   * time, so that the others find the queue as it left it and the bound holds.
   */
  private List<Pending> nextGroup() throws InterruptedException {
    synchronized (gathering) {
      List<Pending> group = new ArrayList<>();
      Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
      if (first == null) {
        return group;
      }
      group.add(first);
      int records = first.records().size();
      Pending next;
      while ((next = queue.peek()) != null
          && records + next.records().size() <= MAX_RECORDS_PER_TRANSACTION) {
        group.add(queue.remove());
        records += next.records().size();
      }
      return group;
    }
  }

  private void commit(Producer<String, byte[]> producer, List<Pending> group) {
    try {
      producer.beginTransaction();
      for (Pending p : group) {
        for (ProducerRecord<String, byte[]> record : p.records()) {
          producer.send(record);
        }
      }
      // commitTransaction flushes and fails if any send of the transaction failed.
      producer.commitTransaction();
      group.forEach(p -> p.done().complete(null));
    } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException e) {
      log.error("batch writer cannot continue: {}", e.toString());
      group.forEach(p -> p.done().completeExceptionally(e));
      closed = true;
    } catch (KafkaException e) {
      log.warn("transaction of {} batches aborted: {}", group.size(), e.toString());
      abortQuietly(producer);
      group.forEach(p -> p.done().completeExceptionally(e));
    }
  }

  private static void abortQuietly(Producer<String, byte[]> producer) {
    try {
      producer.abortTransaction();
    } catch (KafkaException e) {
      log.warn("abort failed, the broker will time the transaction out: {}", e.toString());
    }
  }

  private void failAll(Exception cause) {
    Pending p;
    while ((p = queue.poll()) != null) {
      p.done().completeExceptionally(cause);
    }
  }

  public boolean isOpen() {
    return !closed;
  }

  @Override
  public void close() {
    closed = true;
    for (Thread lane : lanes) {
      try {
        lane.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    producers.forEach(p -> p.close(Duration.ofSeconds(5)));
  }
}
