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
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes each accepted batch (its batch record and one {@code sendto} record per payout) in one
 * Kafka transaction, so a batch is either wholly visible to read_committed consumers or not at all.
 * Batches that arrive together share a transaction (group commit): one transaction per request
 * would cap the gateway at the ~100 transactions/s a broker manages.
 */
public final class BatchWriter implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(BatchWriter.class);

  /** Bounds one transaction so that a burst cannot build one larger than the broker accepts. */
  private static final int MAX_RECORDS_PER_TRANSACTION = 50_000;

  private record Pending(BatchRecord batch, List<Payout> payouts, CompletableFuture<Void> done) {}

  private final Producer<String, Object> producer;
  private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final Thread thread;
  private volatile boolean closed;

  public BatchWriter(String bootstrap, String transactionalId) {
    this(createProducer(bootstrap, transactionalId));
  }

  /** For tests with a {@code MockProducer}. */
  public BatchWriter(Producer<String, Object> producer) {
    this.producer = producer;
    producer.initTransactions();
    this.thread = new Thread(this::run, "batch-writer");
    thread.setDaemon(true);
    thread.start();
  }

  static Producer<String, Object> createProducer(String bootstrap, String transactionalId) {
    Map<String, Object> props = new HashMap<>();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    props.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.MAX_MESSAGE_BYTES);
    // Back-to-back transactions meet CONCURRENT_TRANSACTIONS; the 100 ms default backoff
    // makes small transactions several times slower.
    props.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 10);
    props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 60_000);
    return new KafkaProducer<>(
        props, new StringSerializer(), new JsonSerde<>(Object.class).serializer());
  }

  /** Completes when the batch is committed; fails if it was not written (nothing is then). */
  public CompletableFuture<Void> write(BatchRecord batch, List<Payout> payouts) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    if (closed) {
      done.completeExceptionally(new IllegalStateException("batch writer is closed"));
      return done;
    }
    queue.add(new Pending(batch, payouts, done));
    return done;
  }

  private void run() {
    while (!closed) {
      List<Pending> group;
      try {
        group = nextGroup();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      if (!group.isEmpty()) {
        commit(group);
      }
    }
    failAll(new IllegalStateException("batch writer is closed"));
  }

  private List<Pending> nextGroup() throws InterruptedException {
    List<Pending> group = new ArrayList<>();
    Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
    if (first == null) {
      return group;
    }
    group.add(first);
    int records = first.payouts().size() + 1;
    Pending next;
    while (records < MAX_RECORDS_PER_TRANSACTION && (next = queue.peek()) != null) {
      if (records + next.payouts().size() + 1 > MAX_RECORDS_PER_TRANSACTION) {
        break;
      }
      group.add(queue.remove());
      records += next.payouts().size() + 1;
    }
    return group;
  }

  private void commit(List<Pending> group) {
    try {
      producer.beginTransaction();
      for (Pending p : group) {
        for (Payout payout : p.payouts()) {
          producer.send(new ProducerRecord<>(Topics.SENDTO, payout.accountKey(), payout));
        }
        producer.send(new ProducerRecord<>(Topics.BATCHES, p.batch().key(), p.batch()));
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
      abortQuietly();
      group.forEach(p -> p.done().completeExceptionally(e));
    }
  }

  private void abortQuietly() {
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
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    producer.close(Duration.ofSeconds(5));
  }
}
