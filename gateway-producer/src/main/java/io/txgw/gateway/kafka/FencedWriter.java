package io.txgw.gateway.kafka;

import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.TransactionalProducers;
import io.txgw.common.model.BatchRecord;
import io.txgw.common.model.Payout;
import java.io.Closeable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Writes a batch in a transaction of its own, under a producer whose transactional id a later
 * writer of the same batch can fence: once that one's producer is up, this one's transaction is
 * over and it can commit nothing more. For approved batches, whose write may be taken over by
 * another gateway; every other batch goes through the {@link BatchWriter}'s lanes.
 */
public final class FencedWriter implements Closeable {
  private final BatchRecords batchRecords;
  private volatile boolean closed;

  /** Ends fenced writes left in doubt: an end may take seconds, so on a thread of its own. */
  private final ScheduledThreadPoolExecutor refencing =
      new ScheduledThreadPoolExecutor(
          1,
          task -> {
            Thread t = new Thread(task, "batch-writer-refencing");
            t.setDaemon(true);
            return t;
          });

  FencedWriter(BatchRecords batchRecords) {
    this.batchRecords = batchRecords;
  }

  /**
   * A transactional producer for writes fenced by {@code transactionalId}, initialized: whatever an
   * earlier producer of that id had open is ended (committed if its commit was asked for, aborted
   * otherwise) before this returns, and that producer can write no more.
   */
  public static Producer<String, byte[]> fencing(KafkaConnection kafka, String transactionalId) {
    Map<String, Object> props = BatchWriter.writeSettings(kafka);
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 60_000);
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) BatchWriter.MAX_BLOCK.toMillis());
    // A send is given up within 30 s: the whole write stays well inside a claim's lease.
    props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 15_000);
    props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
    return TransactionalProducers.initialized(
        () -> new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer()));
  }

  /**
   * A producer from {@link #fencing}, and how to end whatever it leaves open: initialize another
   * under the same transactional id.
   */
  public record Fenced(Producer<String, byte[]> producer, Runnable fenceAgain) {}

  /**
   * Writes a batch in a transaction of its own, with a producer from {@link #fencing}, on the
   * caller's thread: for a write that a later writer of the same id must be able to stop (once that
   * one has initialized its producer, this one's transaction cannot commit any more).
   */
  BatchWrite submit(Fenced fenced, BatchRecord batch, List<Payout> payouts) {
    Producer<String, byte[]> producer = fenced.producer();
    Runnable fenceAgain = fenced.fenceAgain();
    BatchWrite write = new BatchWrite(new CompletableFuture<>(), new CompletableFuture<>());
    List<ProducerRecord<String, byte[]>> records;
    try {
      records = batchRecords.of(batch, payouts);
    } catch (SerializationException | BatchWriteException e) {
      return write.refused(e);
    }
    List<java.util.concurrent.Future<?>> sent = new ArrayList<>(records.size());
    boolean commitAsked = false;
    try {
      producer.beginTransaction();
      for (ProducerRecord<String, byte[]> record : records) {
        sent.add(producer.send(record));
      }
      producer.flush();
      for (java.util.concurrent.Future<?> f : sent) {
        // A record refused: the producer must abort, and the commit below would never be asked.
        f.get(0, TimeUnit.MILLISECONDS);
      }
      commitAsked = true;
      producer.commitTransaction();
      write.fate().complete(BatchFate.COMMITTED);
      write.answer().complete(null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return abortUnlessAsked(producer, fenceAgain, write, commitAsked, e);
    } catch (RuntimeException
        | java.util.concurrent.ExecutionException
        | java.util.concurrent.TimeoutException e) {
      return abortUnlessAsked(producer, fenceAgain, write, commitAsked, e);
    }
    return write;
  }

  private BatchWrite abortUnlessAsked(
      Producer<String, byte[]> producer,
      Runnable fenceAgain,
      BatchWrite write,
      boolean commitAsked,
      Exception e) {
    if (!commitAsked) {
      try {
        producer.abortTransaction();
      } catch (RuntimeException abort) {
        // Fenced or closed: the coordinator ends the transaction without it, aborted, since its
        // commit was never asked for.
      }
      return write.refused(
          new BatchWriteException(
              BatchWriteException.Reason.ABORTED, "batch not written: " + e, e));
    }
    write
        .answer()
        .completeExceptionally(
            new BatchWriteException(
                BatchWriteException.Reason.UNCONFIRMED,
                "the batch's transaction was not confirmed: " + e,
                e));
    // Its fate is UNKNOWN only once the transaction is over at the coordinator. Fenced, it is:
    // the producer that fenced it ended it when it started (and fencing again would stop that
    // one, the current writer). Otherwise a producer initialized under the same id ends it,
    // tried until it does.
    if (fencedBySomeoneElse(e)) {
      write.fate().complete(BatchFate.UNKNOWN);
    } else {
      endByFencing(fenceAgain, write, Duration.ZERO);
    }
    return write;
  }

  private static boolean fencedBySomeoneElse(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof org.apache.kafka.common.errors.ProducerFencedException
          || t instanceof org.apache.kafka.common.errors.InvalidProducerEpochException) {
        return true;
      }
    }
    return false;
  }

  /** Ends a fenced write's transaction with a fresh producer of its id, retried every 5 s. */
  private void endByFencing(Runnable fenceAgain, BatchWrite write, Duration after) {
    try {
      refencing.schedule(
          () -> {
            try {
              fenceAgain.run();
              write.fate().complete(BatchFate.UNKNOWN);
            } catch (RuntimeException again) {
              if (!closed) {
                endByFencing(fenceAgain, write, Duration.ofSeconds(5));
              }
            }
          },
          after.toMillis(),
          TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // Closing: the batch stays in doubt here; the next claim's producer ends it at Kafka.
    }
  }

  @Override
  public void close() {
    closed = true;
    refencing.shutdownNow();
  }
}
