package io.txgw.gateway.kafka;

import io.txgw.gateway.kafka.BatchWriteException.Reason;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TransactionAbortedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One writer lane: a thread with a transactional producer of its own, committing groups of batches
 * from the writer's queue. Nothing that goes wrong ends the lane, and every batch it takes gets an
 * answer: a failed transaction is aborted, and when the producer cannot abort (fenced, failed
 * fatally, or holding a commit that timed out) the producer is replaced by a new one of the same
 * transactional id, whose initialization ends whatever transaction the old one left open.
 *
 * <p>A batch's answer says "not written" only when the transaction is known to have aborted: a
 * record was refused, or it failed before its commit was asked for. Once a commit has been asked
 * for, any failure (a timeout, a fence, which can follow a commit another producer of the id
 * completed, an unknown error, a closed producer) leaves the batch unconfirmed; its fate is
 * reported once its transaction is over at the coordinator.
 */
final class WriterLane implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(WriterLane.class);

  /**
   * Initialization attempts for a lane's first producer, made before the gateway takes requests: on
   * a new cluster the coordinator may first have to create its transaction log, which can take
   * longer than one max.block.ms. Six make the minute the producer's default max.block.ms allowed.
   */
  private static final int FIRST_START_ATTEMPTS = 6;

  private final int index;
  private final String name;
  private final BatchWriter.ProducerFactory factory;
  private final BatchWriter writer;
  private final BatchWriter.Timing timing;

  /** Replaced by the lane's thread only; closed from outside only when that thread is stuck. */
  private volatile Producer<String, byte[]> producer;

  private volatile LaneFault fault;

  /** When the oldest batch the lane holds now was queued; null while it holds none. */
  private volatile Instant holdingSince;

  /**
   * The lane's thread only: batches of a transaction whose commit was asked for and not confirmed,
   * and which the lane could not abort; over once a new producer of the id has initialized.
   */
  private final List<PendingBatch> inDoubt = new ArrayList<>();

  /** The lane's thread only: rebuilds slow down while they do not lead to a commit. */
  private int rebuildsSinceCommit;

  private Duration backoff;

  WriterLane(
      int index,
      BatchWriter.ProducerFactory factory,
      BatchWriter writer,
      BatchWriter.Timing timing) {
    this.index = index;
    this.name = "batch-writer-" + index;
    this.factory = factory;
    this.writer = writer;
    this.timing = timing;
    this.backoff = timing.firstBackoff();
    this.producer = start(FIRST_START_ATTEMPTS);
  }

  String name() {
    return name;
  }

  /** Why the lane cannot write now, or null when it can. */
  LaneFault fault() {
    LaneFault f = fault;
    if (f != null) {
      return f;
    }
    Instant since = holdingSince;
    if (since != null && !now().isBefore(since.plus(timing.stuckAfter()))) {
      return new LaneFault(name, LaneFault.Kind.STUCK, "holding a batch queued at " + since, since);
    }
    return null;
  }

  boolean hasProducer() {
    return producer != null;
  }

  @Override
  public void run() {
    while (!writer.isClosed()) {
      try {
        step();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (Throwable t) {
        // Whatever it was: a lane that dies leaves every request that waits on it unanswered.
        log.error("writer lane {} failed unexpectedly; replacing its producer", name, t);
        replaceProducer(t);
      }
    }
    fault =
        new LaneFault(
            name,
            LaneFault.Kind.STOPPED,
            writer.isClosed() ? "writer closed" : "interrupted",
            now());
    closeProducer(Duration.ofSeconds(5));
  }

  private void step() throws InterruptedException {
    if (producer == null) {
      rebuild();
      return;
    }
    List<PendingBatch> group = writer.nextGroup();
    if (!group.isEmpty()) {
      holdingSince =
          group.stream().map(PendingBatch::queuedAt).min(Instant::compareTo).orElseThrow();
      try {
        write(group);
      } finally {
        holdingSince = null;
      }
    } else if (idleAfterFailure()) {
      log.info(
          "writer lane {} idle after a failed transaction; checking with a new producer", name);
      giveUpProducer("checking it can write after: " + fault.cause());
    }
  }

  private void write(List<PendingBatch> group) {
    try {
      transact(group);
    } catch (RuntimeException | Error e) {
      // Not one of the producer's own errors (transact handles those): it may have struck after
      // the commit went out, so the batches may be written. The producer is replaced next.
      fail(group, Reason.UNCONFIRMED, e);
      inDoubt.addAll(group);
      throw e;
    }
  }

  private void transact(List<PendingBatch> group) {
    Producer<String, byte[]> p = producer;
    AtomicReference<Exception> refused = new AtomicReference<>();
    try {
      p.beginTransaction();
      for (PendingBatch batch : group) {
        for (ProducerRecord<String, byte[]> record : batch.records()) {
          // The commit flushes, and fails if a send of the transaction failed.
          p.send(
              record,
              (metadata, error) -> {
                if (error != null) {
                  refused.compareAndSet(null, error);
                }
              });
        }
      }
    } catch (RuntimeException e) {
      // No commit was asked for: the transaction ends aborted, whatever becomes of the producer.
      abandon(p, group, e, false);
      return;
    }
    try {
      commit(p, group.size());
    } catch (KafkaException e) {
      // A refused record puts the producer in error before the commit could be sent (the commit
      // goes out only once every send is answered, and the refusal's callback runs first), so the
      // transaction aborts. Otherwise (timed out, interrupted, fenced, which a commit completed by
      // another producer of this id also leads to, or anything else) the commit may have reached
      // the coordinator.
      boolean neverCommitted = refused.get() != null || e instanceof TransactionAbortedException;
      abandon(p, group, e, !neverCommitted);
      return;
    }
    fault = null;
    rebuildsSinceCommit = 0;
    backoff = timing.firstBackoff();
    int late = 0;
    for (PendingBatch batch : group) {
      late += batch.committed() ? 0 : 1;
    }
    if (late > 0) {
      log.warn(
          "writer lane {}: {} of {} batches committed after their deadline answered 'unconfirmed'",
          name,
          late,
          group.size());
    }
  }

  /**
   * Commits, waiting a second time when the first wait times out: in Kafka 4 a commit that timed
   * out is still under way in the producer, which refuses to abort it (IllegalStateException) and
   * resumes waiting for it when asked to commit again.
   */
  private void commit(Producer<String, byte[]> p, int batches) {
    try {
      p.commitTransaction();
    } catch (TimeoutException first) {
      fault = new LaneFault(name, LaneFault.Kind.COMMIT_TIMED_OUT, first.toString(), now());
      log.warn(
          "writer lane {}: commit of {} batches not confirmed within {} ms; waiting for it again",
          name,
          batches,
          BatchWriter.MAX_BLOCK.toMillis());
      p.commitTransaction();
    }
  }

  /**
   * Fails a transaction's batches after aborting it, or, when the producer cannot abort, after
   * giving the producer up.
   *
   * @param commitSent whether the commit may have reached the coordinator
   */
  private void abandon(
      Producer<String, byte[]> p, List<PendingBatch> group, Exception cause, boolean commitSent) {
    boolean aborted = abort(p, cause);
    Reason reason = commitSent ? Reason.UNCONFIRMED : Reason.ABORTED;
    log.warn(
        "writer lane {}: transaction of {} batches {}: {}",
        name,
        group.size(),
        reason == Reason.UNCONFIRMED ? "has an unknown outcome" : "was not written",
        cause.toString());
    fail(group, reason, cause);
    if (reason == Reason.ABORTED) {
      return;
    }
    if (aborted) {
      // The coordinator took an abort: the transaction is over. Taken as proof that it did not
      // commit, this would rest on how the client and coordinator treat every error; the status
      // view reading past it rests on nothing but the log.
      group.forEach(PendingBatch::unknown);
    } else {
      inDoubt.addAll(group);
    }
  }

  private boolean abort(Producer<String, byte[]> p, Exception cause) {
    try {
      p.abortTransaction();
      fault = new LaneFault(name, LaneFault.Kind.LAST_COMMIT_FAILED, cause.toString(), now());
      return true;
    } catch (RuntimeException e) {
      log.warn("writer lane {}: cannot abort ({}); replacing its producer", name, e.toString());
      // A fence is what the operator must see, whichever call met it.
      replaceProducer(fenced(e) ? e : cause);
      return false;
    }
  }

  private void fail(List<PendingBatch> group, Reason reason, Throwable cause) {
    BatchWriteException e = new BatchWriteException(reason, reason + ": " + cause, cause);
    group.forEach(batch -> batch.fail(e));
  }

  private void replaceProducer(Throwable cause) {
    if (fenced(cause)) {
      log.error(
          "writer lane {} was fenced: its transaction timed out at the coordinator, or another"
              + " producer took its transactional id (a second gateway with this instance id?)",
          name);
    }
    giveUpProducer(cause.toString());
  }

  private static boolean fenced(Throwable t) {
    return t instanceof ProducerFencedException || t instanceof InvalidProducerEpochException;
  }

  /** Closes the producer; the lane's next step starts a new one. */
  private void giveUpProducer(String cause) {
    fault = new LaneFault(name, LaneFault.Kind.REBUILDING_PRODUCER, cause, now());
    // Nothing of a failed producer is worth waiting for: its transaction is given up.
    closeProducer(Duration.ZERO);
  }

  private void rebuild() throws InterruptedException {
    if (rebuildsSinceCommit > 0) {
      if (writer.awaitClosing(backoff)) {
        return;
      }
      backoff = min(backoff.multipliedBy(2), timing.maxBackoff());
    }
    rebuildsSinceCommit++;
    try {
      producer = start(1);
      fault = null;
      log.info("writer lane {}: new producer ready", name);
      settleInDoubt();
    } catch (RuntimeException e) {
      fault = new LaneFault(name, LaneFault.Kind.REBUILDING_PRODUCER, e.toString(), now());
      log.warn(
          "writer lane {}: cannot start a new producer ({}); trying again in {} ms",
          name,
          e.toString(),
          backoff.toMillis());
    }
  }

  /**
   * The new producer's initialization fenced the old one and ended its transaction at the
   * coordinator: completed when its commit had reached it, aborted otherwise. Which of the two is
   * not told, so the batches' fate is unknown; but it is settled, and in the log.
   */
  private void settleInDoubt() {
    if (!inDoubt.isEmpty()) {
      log.info(
          "writer lane {}: {} batches of an unconfirmed transaction are settled at the coordinator",
          name,
          inDoubt.size());
      inDoubt.forEach(PendingBatch::unknown);
      inDoubt.clear();
    }
  }

  /**
   * A new producer, initialized: which fences this id's earlier producers and, at the coordinator,
   * ends the transaction they left open (completing a commit already under way, aborting the rest).
   */
  private Producer<String, byte[]> start(int attempts) {
    Producer<String, byte[]> p = factory.create(index);
    try {
      for (int attempt = 1; ; attempt++) {
        try {
          p.initTransactions();
          return p;
        } catch (TimeoutException e) {
          // Retriable: the producer resumes waiting for the same initialization.
          if (attempt >= attempts) {
            throw e;
          }
          log.warn(
              "writer lane {}: producer not initialized yet ({}); waiting", name, e.toString());
        }
      }
    } catch (RuntimeException e) {
      closeQuietly(p, Duration.ZERO);
      throw e;
    }
  }

  private boolean idleAfterFailure() {
    LaneFault f = fault;
    return f != null
        && f.kind() == LaneFault.Kind.LAST_COMMIT_FAILED
        && !now().isBefore(f.since().plus(timing.idleProbe()));
  }

  void closeProducer(Duration timeout) {
    Producer<String, byte[]> p = producer;
    producer = null;
    if (p != null) {
      closeQuietly(p, timeout);
    }
  }

  private void closeQuietly(Producer<String, byte[]> p, Duration timeout) {
    try {
      p.close(timeout);
    } catch (RuntimeException e) {
      log.warn("writer lane {}: closing a producer failed: {}", name, e.toString());
    }
  }

  private Instant now() {
    return timing.clock().instant();
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
