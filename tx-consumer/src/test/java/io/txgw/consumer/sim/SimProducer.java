package io.txgw.consumer.sim;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.metrics.KafkaMetric;
import org.apache.kafka.common.utils.Utils;

/**
 * A transactional producer on a {@link SimKafka}, following the real client's transaction state
 * machine where the exactly-once loop can tell the difference:
 *
 * <ul>
 *   <li>Records sent in a transaction are written at once, {@link SimRecord.State#OPEN}, and end
 *       committed or aborted with it. Values are stored as the objects sent.
 *   <li>Offsets are checked against the group when they are sent, as the coordinator checks a
 *       TxnOffsetCommit (KIP-447): {@code sendOffsetsToTransaction} from a sender that is not a
 *       live member of the current generation owning those partitions throws {@link
 *       CommitFailedException}, and the transaction can then only be aborted. Offsets that passed
 *       commit with the transaction even if the group has moved on since: a process frozen between
 *       the two calls commits late, and until then holds the last stable offset of every partition
 *       it wrote to.
 *   <li>{@code initTransactions} by a newer producer with the same transactional id aborts this
 *       one's open transaction, and every later call here throws {@link ProducerFencedException}.
 *   <li>After an abortable error (refused offsets, a failed send, a failed commit, a transaction
 *       the coordinator timed out under transaction protocol 1) only {@code abortTransaction} is
 *       accepted, as the client's {@code maybeFailWithError} makes it.
 *   <li>A transaction the coordinator timed out under protocol 2 ({@link SimKafka#fatalTimeouts})
 *       leaves the producer in a fatal state, as Kafka 4's client does: by turns, either the next
 *       call throws {@link InvalidTxnStateException} and every call after it, an abort too, a
 *       {@link KafkaException} "in an error state", or every call throws {@link
 *       ProducerFencedException}. Only a new producer with the same transactional id goes on.
 * </ul>
 *
 * <p>A record without a partition goes where Kafka's default partitioner puts a keyed record
 * (murmur2 of the key's UTF-8 bytes); a record with neither key nor partition goes to partition 0,
 * where the real client's sticky choice would be arbitrary.
 */
public final class SimProducer implements Producer<String, Object> {
  private enum State {
    UNINITIALIZED,
    READY,
    IN_TRANSACTION,
    ABORTABLE,
    /** A commit timed out under strict timeouts: only a retried commit is accepted. */
    COMMIT_PENDING,
    /** An error the client cannot recover from: every call but {@code close} fails. */
    FATAL,
    FENCED,
    CLOSED
  }

  /** Kafka's RecordBatch.NO_TIMESTAMP: records here carry no time. */
  private static final long NO_TIMESTAMP = -1;

  private record Written(PartitionLog log, long offset) {}

  private final SimKafka kafka;
  private final String transactionalId;
  private final long producerId;
  private State state = State.UNINITIALIZED;
  private RuntimeException error;

  /** The fatal error was thrown once as itself; later calls wrap it, as the client does. */
  private boolean fatalThrown;

  private boolean pendingCommitApplied;
  private final List<Written> written = new ArrayList<>();
  private final Map<TopicPartition, OffsetAndMetadata> offsets = new LinkedHashMap<>();

  SimProducer(SimKafka kafka, String transactionalId, long producerId) {
    this.kafka = kafka;
    this.transactionalId = transactionalId;
    this.producerId = producerId;
  }

  public String transactionalId() {
    return transactionalId;
  }

  /** Unique to this producer object, unlike Kafka's, so a zombie's records can be told apart. */
  public long producerId() {
    return producerId;
  }

  public boolean isFenced() {
    return state == State.FENCED;
  }

  @Override
  public void initTransactions() {
    guard("initTransactions");
    if (state != State.UNINITIALIZED) {
      throw invalidTransition("INITIALIZING");
    }
    SimProducer older = kafka.claim(this);
    if (older != null) {
      older.fence();
    }
    state = State.READY;
  }

  @Override
  public void beginTransaction() {
    guard("beginTransaction");
    failIfAbortable();
    if (state != State.READY) {
      throw invalidTransition("IN_TRANSACTION");
    }
    RuntimeException fault = kafka.takeBeginFault();
    if (fault != null) {
      throw fault;
    }
    state = State.IN_TRANSACTION;
  }

  @Override
  public Future<RecordMetadata> send(ProducerRecord<String, Object> record) {
    return send(record, null);
  }

  @Override
  public Future<RecordMetadata> send(ProducerRecord<String, Object> record, Callback callback) {
    guard("send");
    failIfAbortable();
    if (state != State.IN_TRANSACTION) {
      throw new IllegalStateException("Cannot call send in state " + state);
    }
    PartitionLog log = kafka.log(partitionOf(record));
    RuntimeException fault = kafka.takeSendFault();
    if (fault != null) {
      // As a produce error does in the real client: the batch fails and the transaction with it.
      abortable(fault);
      RecordMetadata none = new RecordMetadata(log.topicPartition(), -1, 0, NO_TIMESTAMP, -1, -1);
      if (callback != null) {
        callback.onCompletion(none, fault);
      }
      return CompletableFuture.failedFuture(fault);
    }
    long offset = log.append(record.key(), record.value(), producerId, SimRecord.State.OPEN);
    written.add(new Written(log, offset));
    RecordMetadata metadata =
        new RecordMetadata(log.topicPartition(), offset, 0, NO_TIMESTAMP, -1, -1);
    if (callback != null) {
      callback.onCompletion(metadata, null);
    }
    return CompletableFuture.completedFuture(metadata);
  }

  private TopicPartition partitionOf(ProducerRecord<String, Object> record) {
    if (record.partition() != null) {
      return new TopicPartition(record.topic(), record.partition());
    }
    int count = kafka.partitions(record.topic());
    if (record.key() == null) {
      return new TopicPartition(record.topic(), 0);
    }
    byte[] key = record.key().getBytes(StandardCharsets.UTF_8);
    return new TopicPartition(record.topic(), Utils.toPositive(Utils.murmur2(key)) % count);
  }

  @Override
  public void sendOffsetsToTransaction(
      Map<TopicPartition, OffsetAndMetadata> offsets, ConsumerGroupMetadata groupMetadata) {
    guard("sendOffsetsToTransaction");
    failIfAbortable();
    if (state != State.IN_TRANSACTION) {
      throw new IllegalStateException("Cannot send offsets if a transaction is not in progress");
    }
    kafka.runPause(SimKafka.Call.SEND_OFFSETS);
    guard("sendOffsetsToTransaction");
    failIfAbortable();
    if (offsets.isEmpty()) {
      return;
    }
    CommitFailedException refusal = kafka.group().refusal(groupMetadata, offsets.keySet());
    if (refusal != null) {
      abortable(refusal);
      throw refusal;
    }
    this.offsets.putAll(offsets);
  }

  @Override
  public void commitTransaction() {
    if (state == State.COMMIT_PENDING) {
      // The retry the real client asks for: finish what the timed-out call started.
      state = State.IN_TRANSACTION;
      if (pendingCommitApplied) {
        SimKafka.CommitFault again = kafka.takeCommitFault();
        if (again != null && again.error() instanceof TimeoutException) {
          // Applied on the broker, and still no answer.
          state = State.COMMIT_PENDING;
          throw again.error();
        }
        state = State.READY;
        return;
      }
    }
    guard("commitTransaction");
    failIfAbortable();
    if (state != State.IN_TRANSACTION) {
      throw invalidTransition("COMMITTING_TRANSACTION");
    }
    kafka.runPause(SimKafka.Call.COMMIT);
    // The world moved on while this process stood still: it may have been fenced or timed out.
    guard("commitTransaction");
    failIfAbortable();
    SimKafka.CommitFault fault = kafka.takeCommitFault();
    if (fault == null) {
      commit();
      state = State.READY;
      return;
    }
    if (fault.applied()) {
      commit();
    }
    if (kafka.strictCommitTimeouts() && fault.error() instanceof TimeoutException) {
      state = State.COMMIT_PENDING;
      pendingCommitApplied = fault.applied();
    } else {
      abortable(fault.error());
    }
    throw fault.error();
  }

  @Override
  public void abortTransaction() {
    guard("abortTransaction");
    if (state != State.IN_TRANSACTION && state != State.ABORTABLE) {
      throw invalidTransition("ABORTING_TRANSACTION");
    }
    // Idempotent on the broker side: a transaction it timed out has no open records left.
    end(SimRecord.State.ABORTED);
    error = null;
    state = State.READY;
  }

  @Override
  public void flush() {}

  @Override
  public void close() {
    if (state == State.CLOSED) {
      return;
    }
    // A clean shutdown aborts an incomplete transaction, as the real sender thread does.
    end(SimRecord.State.ABORTED);
    state = State.CLOSED;
  }

  @Override
  public void close(Duration timeout) {
    close();
  }

  /** True while this producer's open transaction holds offsets for {@code tp} not yet committed. */
  boolean holdsOffsetsFor(TopicPartition tp) {
    return offsets.containsKey(tp);
  }

  /** The coordinator aborted the open transaction on its timeout; false if none was open. */
  boolean timedOut() {
    if (written.isEmpty() && offsets.isEmpty()) {
      return false;
    }
    end(SimRecord.State.ABORTED);
    if (kafka.fatalTimeouts()) {
      // Which error the client meets depends on its next request (a commit, or a produce or
      // offset commit with the old epoch); both are fatal.
      if (kafka.nextTimeoutFences()) {
        state = State.FENCED;
        return true;
      }
      state = State.FATAL;
      error =
          new InvalidTxnStateException(
              "transaction of " + transactionalId + " timed out; the coordinator aborted it");
      return true;
    }
    abortable(
        new InvalidProducerEpochException(
            "transaction of " + transactionalId + " timed out; the coordinator aborted it"));
    return true;
  }

  private void fence() {
    end(SimRecord.State.ABORTED);
    if (state != State.CLOSED) {
      state = State.FENCED;
    }
  }

  private void commit() {
    kafka.group().commit(offsets);
    end(SimRecord.State.COMMITTED);
  }

  /** Ends the open transaction on the broker: its records get {@code outcome}. */
  private void end(SimRecord.State outcome) {
    written.forEach(w -> w.log().end(w.offset(), outcome));
    written.clear();
    offsets.clear();
  }

  private void abortable(RuntimeException cause) {
    state = State.ABORTABLE;
    error = cause;
  }

  private void guard(String operation) {
    switch (state) {
      case CLOSED ->
          throw new IllegalStateException(
              "Cannot perform operation after producer has been closed");
      case FENCED ->
          throw new ProducerFencedException(
              "There is a newer producer with the same transactionalId " + transactionalId);
      case FATAL -> {
        if (!fatalThrown) {
          fatalThrown = true;
          throw error;
        }
        throw new KafkaException(
            "Cannot execute transactional method because we are in an error state", error);
      }
      case COMMIT_PENDING ->
          throw new IllegalStateException(
              "Cannot attempt operation `"
                  + operation
                  + "` because the previous call to `commitTransaction` timed out and must be"
                  + " retried");
      default -> {}
    }
  }

  /** As the real client's maybeFailWithError. */
  private void failIfAbortable() {
    if (state != State.ABORTABLE) {
      return;
    }
    if (error instanceof InvalidProducerEpochException) {
      throw new InvalidProducerEpochException(error.getMessage());
    }
    throw new KafkaException(
        "Cannot execute transactional method because we are in an error state", error);
  }

  private IllegalStateException invalidTransition(String target) {
    return new IllegalStateException(
        "TransactionalId "
            + transactionalId
            + ": Invalid transition attempted from state "
            + state
            + " to state "
            + target);
  }

  @Override
  public void registerMetricForSubscription(KafkaMetric metric) {
    throw new UnsupportedOperationException();
  }

  @Override
  public void unregisterMetricFromSubscription(KafkaMetric metric) {
    throw new UnsupportedOperationException();
  }

  @Override
  public List<PartitionInfo> partitionsFor(String topic) {
    throw new UnsupportedOperationException();
  }

  @Override
  public Map<MetricName, ? extends Metric> metrics() {
    throw new UnsupportedOperationException();
  }

  @Override
  public Uuid clientInstanceId(Duration timeout) {
    throw new UnsupportedOperationException();
  }
}
