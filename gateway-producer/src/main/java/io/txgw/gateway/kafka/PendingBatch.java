package io.txgw.gateway.kafka;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * A batch's records, serialized by the thread that accepted it, waiting for a lane; the answer its
 * request waits for; and its fate. A lane and the request's deadline race for the answer: whichever
 * claims it first decides what the answer can say, so a batch answered "not written" is never
 * written afterwards. The fate is the lane's alone, and it reports it whatever the answer said.
 */
final class PendingBatch {
  private enum Stage {
    QUEUED,
    TAKEN,
    EXPIRED
  }

  private final int size;
  private final Instant queuedAt;
  private final CompletableFuture<Void> done;
  private final CompletableFuture<BatchFate> fate;
  private final AtomicReference<Stage> stage = new AtomicReference<>(Stage.QUEUED);

  /** Dropped on expiry: a stuck writer must not hold every expired request's bytes. */
  private volatile List<ProducerRecord<String, byte[]>> records;

  PendingBatch(List<ProducerRecord<String, byte[]>> records, BatchWrite write, Instant queuedAt) {
    this.records = records;
    this.size = records.size();
    this.queuedAt = queuedAt;
    this.done = write.answer();
    this.fate = write.fate();
  }

  int size() {
    return size;
  }

  /** When the writer was handed the batch. */
  Instant queuedAt() {
    return queuedAt;
  }

  /** For a lane about to send it; false when its deadline passed first. */
  boolean take() {
    return stage.compareAndSet(Stage.QUEUED, Stage.TAKEN);
  }

  boolean isExpired() {
    return stage.get() == Stage.EXPIRED;
  }

  /** Its records, once {@link #take taken}. */
  List<ProducerRecord<String, byte[]>> records() {
    return records;
  }

  /**
   * Answers the request at its deadline, unless the lane has done so: a batch still queued is never
   * sent after this; one a lane holds may yet be committed, so its outcome is unknown, and the lane
   * reports its fate later.
   */
  void expire(String deadline) {
    if (stage.compareAndSet(Stage.QUEUED, Stage.EXPIRED)) {
      records = null;
      done.completeExceptionally(
          new BatchWriteException(
              BatchWriteException.Reason.NO_LANE,
              "no writer lane took the batch within " + deadline,
              null));
      fate.complete(BatchFate.ABORTED);
    } else {
      done.completeExceptionally(
          new BatchWriteException(
              BatchWriteException.Reason.UNCONFIRMED,
              "the batch's transaction was not confirmed within " + deadline,
              null));
    }
  }

  /**
   * @return false when the request had its answer already (its deadline passed)
   */
  boolean committed() {
    fate.complete(BatchFate.COMMITTED);
    return done.complete(null);
  }

  /**
   * Answers the request, unless its deadline has; a failure that leaves the batch unwritten is its
   * fate too, while an unconfirmed one leaves the fate to {@link #committed} or {@link #unknown}.
   */
  void fail(BatchWriteException cause) {
    done.completeExceptionally(cause);
    if (!cause.mayBeWritten()) {
      fate.complete(BatchFate.ABORTED);
    }
  }

  /** Its transaction is over at the coordinator, and the lane cannot tell how. */
  void unknown() {
    fate.complete(BatchFate.UNKNOWN);
  }
}
