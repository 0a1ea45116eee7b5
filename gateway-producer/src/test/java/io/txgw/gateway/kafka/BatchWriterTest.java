package io.txgw.gateway.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.BatchRecord;
import io.txgw.common.model.Chain;
import io.txgw.common.model.Payout;
import io.txgw.common.model.TestPayouts;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class BatchWriterTest {
  private static final String SOURCE = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

  /** What Kafka 4 throws on abort after a commit timed out. */
  private static final IllegalStateException ABORT_AFTER_TIMEOUT =
      new IllegalStateException(
          "Cannot attempt operation `abortTransaction` because the previous call to"
              + " `commitTransaction` timed out and must be retried");

  private static final BatchWriter.Timing TIMING =
      new BatchWriter.Timing(
          Duration.ofSeconds(30),
          Duration.ofMillis(1),
          Duration.ofMillis(10),
          Duration.ofHours(1),
          Clock.systemUTC());

  private static Payout payout(String id) {
    return TestPayouts.eth(id, SOURCE);
  }

  private static BatchRecord batch(String batchId) {
    return new BatchRecord(
        "acme", batchId, Chain.ETH, SOURCE, "f", List.of("p1", "p2"), Instant.EPOCH);
  }

  private static CompletableFuture<Void> write(BatchWriter writer, String batchId) {
    return writer.write(batch(batchId), List.of(payout("p-" + batchId)));
  }

  /** Each call hands out the next producer, as a lane's start or rebuild would make one. */
  @SafeVarargs
  private static BatchWriter.ProducerFactory handing(MockProducer<String, byte[]>... producers) {
    Deque<MockProducer<String, byte[]>> next = new ConcurrentLinkedDeque<>(List.of(producers));
    return lane -> {
      MockProducer<String, byte[]> p = next.poll();
      if (p == null) {
        throw new KafkaException("no producer left for lane " + lane);
      }
      return p;
    };
  }

  private static BatchWrite submit(BatchWriter writer, String batchId) {
    return writer.submit(batch(batchId), List.of(payout("p-" + batchId)));
  }

  private static BatchFate fateOf(BatchWrite write) throws Exception {
    return write.fate().get(10, TimeUnit.SECONDS);
  }

  private static BatchWriteException failureOf(CompletableFuture<Void> write) {
    Throwable t = catchThrowable(() -> write.get(10, TimeUnit.SECONDS));
    assertThat(t).isInstanceOf(ExecutionException.class);
    assertThat(t.getCause()).isInstanceOf(BatchWriteException.class);
    return (BatchWriteException) t.getCause();
  }

  private static List<String> batchKeys(MockProducer<String, byte[]> producer) {
    return producer.history().stream()
        .filter(r -> r.topic().equals(Topics.BATCHES))
        .map(ProducerRecord::key)
        .toList();
  }

  @Test
  void aBatchAndItsPayoutsAreCommittedInOneTransaction() throws Exception {
    ScriptedProducer producer = new ScriptedProducer();
    try (BatchWriter writer = new BatchWriter(handing(producer), 1, TIMING)) {
      writer.write(batch("b1"), List.of(payout("p1"), payout("p2"))).get(10, TimeUnit.SECONDS);
    }
    assertThat(producer.transactionCommitted()).isTrue();
    assertThat(producer.history())
        .extracting(r -> r.topic() + " " + r.key())
        .containsExactly(
            Topics.SENDTO + " ETH:" + SOURCE,
            Topics.SENDTO + " ETH:" + SOURCE,
            Topics.BATCHES + " acme/b1");
  }

  @Test
  void aBatchWithARecordKafkaRefusedFailsAsNotWrittenAndItsTransactionIsAborted() throws Exception {
    ScriptedProducer producer = new ScriptedProducer();
    producer.refuseSends = new KafkaException("record refused");
    try (BatchWriter writer = new BatchWriter(handing(producer), 1, TIMING)) {
      BatchWrite write = submit(writer, "b1");
      BatchWriteException e = failureOf(write.answer());
      assertThat(e.reason()).isEqualTo(BatchWriteException.Reason.ABORTED);
      assertThat(e.mayBeWritten()).isFalse();
      assertThat(e).hasCauseInstanceOf(KafkaException.class);
      assertThat(fateOf(write)).isEqualTo(BatchFate.ABORTED);
      assertThat(producer.transactionAborted()).isTrue();
      assertThat(producer.history()).isEmpty();
      assertThat(writer.isOpen()).isTrue();
    }
  }

  @Test
  void aCommitFailingForAnUnknownReasonIsUnconfirmedAndOnceAbortedItsFateIsUnknown()
      throws Exception {
    ScriptedProducer producer = new ScriptedProducer();
    producer.commitFailures.add(new KafkaException("broker gone"));
    try (BatchWriter writer = new BatchWriter(handing(producer), 1, TIMING)) {
      BatchWrite write = submit(writer, "b1");
      BatchWriteException e = failureOf(write.answer());
      assertThat(e.reason()).isEqualTo(BatchWriteException.Reason.UNCONFIRMED);
      assertThat(e.mayBeWritten()).isTrue();
      // The abort was taken, so the transaction is over; how, the view tells.
      assertThat(fateOf(write)).isEqualTo(BatchFate.UNKNOWN);
      assertThat(producer.transactionAborted()).isTrue();
      assertThat(writer.isOpen()).isTrue();
    }
  }

  @Test
  void aFenceDuringCommitIsUnconfirmedAndItsFateIsUnknownOnceANewProducerHasInitialized()
      throws Exception {
    // Another producer of the id initialized while this one committed: the coordinator completed
    // the commit, and this producer learns only that it is fenced.
    ScriptedProducer fencedAfterCommit = new ScriptedProducer();
    fencedAfterCommit.fenceAfterCommit = true;
    GatedInitProducer fresh = new GatedInitProducer();
    try (BatchWriter writer = new BatchWriter(handing(fencedAfterCommit, fresh), 1, TIMING)) {
      BatchWrite write = submit(writer, "b1");

      BatchWriteException e = failureOf(write.answer());
      assertThat(e.reason()).isEqualTo(BatchWriteException.Reason.UNCONFIRMED);
      assertThat(e).hasCauseInstanceOf(ProducerFencedException.class);
      assertThat(fresh.initStarted.await(10, TimeUnit.SECONDS)).isTrue();
      // Not settled while the new producer has not initialized: the old one's transaction may
      // still be open.
      assertThat(write.fate()).isNotDone();
      fresh.initRelease.countDown();

      assertThat(fateOf(write)).isEqualTo(BatchFate.UNKNOWN);
      assertThat(batchKeys(fencedAfterCommit)).containsExactly("acme/b1");
      write(writer, "b2").get(10, TimeUnit.SECONDS);
      assertThat(batchKeys(fresh)).containsExactly("acme/b2");
    }
  }

  @Test
  void withTwoLanesEveryBatchIsCommittedWholeByOneOfThem() throws Exception {
    ScriptedProducer a = new ScriptedProducer();
    ScriptedProducer b = new ScriptedProducer();
    List<CompletableFuture<Void>> writes = new ArrayList<>();
    try (BatchWriter writer = new BatchWriter(handing(a, b), 2, TIMING)) {
      for (int i = 0; i < 200; i++) {
        BatchRecord batch =
            new BatchRecord(
                "acme", "b" + i, Chain.ETH, SOURCE, "f", List.of("p" + i), Instant.EPOCH);
        writes.add(writer.write(batch, List.of(payout("p" + i))));
      }
      CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
    }
    List<ProducerRecord<String, byte[]>> all = new ArrayList<>(a.history());
    all.addAll(b.history());
    assertThat(all).hasSize(400);
    for (MockProducer<String, byte[]> lane : List.of(a, b)) {
      // Batch i holds payout pi: its batch record is written by the lane that wrote pi.
      JsonSerde<Payout> serde = new JsonSerde<>(Payout.class);
      List<String> payoutBatches =
          lane.history().stream()
              .filter(r -> r.topic().equals(Topics.SENDTO))
              .map(r -> "acme/b" + serde.deserialize(r.topic(), r.value()).id().substring(1))
              .sorted()
              .toList();
      assertThat(payoutBatches).isEqualTo(batchKeys(lane).stream().sorted().toList());
    }
  }

  @Test
  void aCommitThatTimesOutIsAwaitedAgainAndItsBatchIsAcceptedWhenItCommits() throws Exception {
    ScriptedProducer producer = new ScriptedProducer();
    producer.commitFailures.add(new TimeoutException("EndTxn not answered in max.block.ms"));
    try (BatchWriter writer = new BatchWriter(handing(producer), 1, TIMING)) {
      write(writer, "b1").get(10, TimeUnit.SECONDS);
      assertThat(writer.faults()).isEmpty();
    }
    assertThat(producer.commitCount()).isEqualTo(1);
    assertThat(producer.transactionAborted()).isFalse();
    assertThat(batchKeys(producer)).containsExactly("acme/b1");
  }

  @Test
  void aCommitThatTimesOutTwiceAndCannotBeAbortedIsUnconfirmedAndTheLaneWritesOnANewProducer()
      throws Exception {
    ScriptedProducer stuck = new ScriptedProducer();
    stuck.commitFailures.add(new TimeoutException("EndTxn not answered in max.block.ms"));
    stuck.commitFailures.add(new TimeoutException("EndTxn not answered in max.block.ms"));
    stuck.abortTransactionException = ABORT_AFTER_TIMEOUT;
    ScriptedProducer fresh = new ScriptedProducer();
    try (BatchWriter writer = new BatchWriter(handing(stuck, fresh), 1, TIMING)) {
      BatchWriteException e = failureOf(write(writer, "b1"));
      assertThat(e.reason()).isEqualTo(BatchWriteException.Reason.UNCONFIRMED);
      assertThat(e.mayBeWritten()).isTrue();

      write(writer, "b2").get(10, TimeUnit.SECONDS);

      assertThat(stuck.closed()).isTrue();
      assertThat(fresh.transactionInitialized()).isTrue();
      assertThat(batchKeys(fresh)).containsExactly("acme/b2");
      assertThat(writer.faults()).isEmpty();
      assertThat(writer.isOpen()).isTrue();
    }
  }

  @Test
  void aCommitThatTimesOutTwiceHasItsFateUnknownOnceANewProducerHasInitialized() throws Exception {
    ScriptedProducer stuck = new ScriptedProducer();
    stuck.commitFailures.add(new TimeoutException("EndTxn not answered in max.block.ms"));
    stuck.commitFailures.add(new TimeoutException("EndTxn not answered in max.block.ms"));
    stuck.abortTransactionException = ABORT_AFTER_TIMEOUT;
    ScriptedProducer fresh = new ScriptedProducer();
    try (BatchWriter writer = new BatchWriter(handing(stuck, fresh), 1, TIMING)) {
      BatchWrite write = submit(writer, "b1");

      assertThat(failureOf(write.answer()).reason())
          .isEqualTo(BatchWriteException.Reason.UNCONFIRMED);
      assertThat(fateOf(write)).isEqualTo(BatchFate.UNKNOWN);
      assertThat(fresh.transactionInitialized()).isTrue();
    }
  }

  @Test
  void aFencedLaneFailsItsBatchAsNotWrittenAndWritesOnANewProducer() throws Exception {
    ScriptedProducer fenced = new ScriptedProducer();
    ScriptedProducer fresh = new ScriptedProducer();
    try (BatchWriter writer = new BatchWriter(handing(fenced, fresh), 1, TIMING)) {
      fenced.fenceProducer();

      BatchWriteException e = failureOf(write(writer, "b1"));
      assertThat(e.reason()).isEqualTo(BatchWriteException.Reason.ABORTED);
      assertThat(e).hasCauseInstanceOf(ProducerFencedException.class);

      write(writer, "b2").get(10, TimeUnit.SECONDS);
      assertThat(batchKeys(fresh)).containsExactly("acme/b2");
    }
  }

  @Test
  void anUnexpectedErrorInACommitIsUnconfirmedAndTheLaneWritesOnANewProducer() throws Exception {
    ScriptedProducer broken = new ScriptedProducer();
    broken.commitError = new AssertionError("simulated");
    ScriptedProducer fresh = new ScriptedProducer();
    try (BatchWriter writer = new BatchWriter(handing(broken, fresh), 1, TIMING)) {
      BatchWriteException e = failureOf(write(writer, "b1"));
      assertThat(e.reason()).isEqualTo(BatchWriteException.Reason.UNCONFIRMED);

      write(writer, "b2").get(10, TimeUnit.SECONDS);
      assertThat(batchKeys(fresh)).containsExactly("acme/b2");
    }
  }

  @Test
  void readinessNamesALaneWhoseLastCommitFailedUntilALaterCommitSucceeds() throws Exception {
    ScriptedProducer producer = new ScriptedProducer();
    producer.commitFailures.add(new KafkaException("broker gone"));
    try (BatchWriter writer = new BatchWriter(handing(producer), 1, TIMING)) {
      failureOf(write(writer, "b1"));

      assertThat(writer.faults())
          .singleElement()
          .satisfies(
              f -> {
                assertThat(f.lane()).isEqualTo("batch-writer-0");
                assertThat(f.kind()).isEqualTo(LaneFault.Kind.LAST_COMMIT_FAILED);
                assertThat(f.cause()).contains("broker gone");
              });
      // It still takes work: a commit is how it shows it can write again.
      assertThat(writer.isOpen()).isTrue();

      write(writer, "b2").get(10, TimeUnit.SECONDS);
      assertThat(writer.faults()).isEmpty();
    }
  }

  @Test
  void readinessNamesALaneWhoseProducerIsBeingRebuiltUntilItCanWriteAgain() throws Exception {
    ScriptedProducer fenced = new ScriptedProducer();
    GatedInitProducer fresh = new GatedInitProducer();
    try (BatchWriter writer = new BatchWriter(handing(fenced, fresh), 1, TIMING)) {
      fenced.fenceProducer();
      failureOf(write(writer, "b1"));
      try {
        assertThat(fresh.initStarted.await(10, TimeUnit.SECONDS)).isTrue();

        assertThat(writer.faults())
            .singleElement()
            .satisfies(
                f -> {
                  assertThat(f.lane()).isEqualTo("batch-writer-0");
                  assertThat(f.kind()).isEqualTo(LaneFault.Kind.REBUILDING_PRODUCER);
                  assertThat(f.cause()).contains("ProducerFencedException");
                });
        // Its only lane has no producer: the writer takes no work.
        assertThat(writer.isOpen()).isFalse();
      } finally {
        fresh.initRelease.countDown();
      }

      write(writer, "b2").get(10, TimeUnit.SECONDS);
      assertThat(writer.faults()).isEmpty();
      assertThat(writer.isOpen()).isTrue();
    }
  }

  @Test
  void aLaneIdleAfterAFailedTransactionIsReadyAgainOnceAFreshProducerInitializes()
      throws Exception {
    ScriptedProducer failed = new ScriptedProducer();
    failed.commitFailures.add(new KafkaException("broker gone"));
    ScriptedProducer fresh = new ScriptedProducer();
    AtomicReference<BatchWriter> writerRef = new AtomicReference<>();
    AtomicReference<List<LaneFault>> faultsWhenFreshBegan = new AtomicReference<>();
    fresh.onBegin = () -> faultsWhenFreshBegan.set(writerRef.get().faults());
    CountDownLatch freshMade = new CountDownLatch(1);
    BatchWriter.ProducerFactory factory = handing(failed, fresh);
    BatchWriter.Timing probeAtOnce =
        new BatchWriter.Timing(
            TIMING.deadline(),
            TIMING.firstBackoff(),
            TIMING.maxBackoff(),
            Duration.ZERO,
            TIMING.clock());
    try (BatchWriter writer =
        new BatchWriter(
            lane -> {
              var p = factory.create(lane);
              if (p == fresh) {
                freshMade.countDown();
              }
              return p;
            },
            1,
            probeAtOnce)) {
      writerRef.set(writer);
      failureOf(write(writer, "b1"));

      // No request arrives: the lane checks by itself.
      assertThat(freshMade.await(10, TimeUnit.SECONDS)).isTrue();
      write(writer, "b2").get(10, TimeUnit.SECONDS);

      assertThat(failed.closed()).isTrue();
      assertThat(faultsWhenFreshBegan.get()).isEmpty();
      assertThat(batchKeys(fresh)).containsExactly("acme/b2");
    }
  }

  @Test
  void aRequestIsAnsweredByItsDeadlineWhileItsLaneIsStuckAndAQueuedBatchIsNeverWritten()
      throws Exception {
    GatedCommitProducer producer = new GatedCommitProducer();
    Duration deadline = Duration.ofMillis(300);
    BatchWriter.Timing timing =
        new BatchWriter.Timing(
            deadline,
            TIMING.firstBackoff(),
            TIMING.maxBackoff(),
            TIMING.idleProbe(),
            TIMING.clock());
    try (BatchWriter writer = new BatchWriter(handing(producer), 1, timing)) {
      CompletableFuture<Void> inCommit = write(writer, "b1");
      assertThat(producer.commitStarted.await(10, TimeUnit.SECONDS)).isTrue();
      long queuedAt = System.nanoTime();
      CompletableFuture<Void> queued = write(writer, "b2");
      try {
        // The lane stays stuck until the gate opens below: only the deadline can answer these.
        BatchWriteException sent = failureOf(inCommit);
        assertThat(sent.reason()).isEqualTo(BatchWriteException.Reason.UNCONFIRMED);
        BatchWriteException notSent = failureOf(queued);
        assertThat(notSent.reason()).isEqualTo(BatchWriteException.Reason.NO_LANE);
        assertThat(notSent.mayBeWritten()).isFalse();
        assertThat(Duration.ofNanos(System.nanoTime() - queuedAt)).isGreaterThanOrEqualTo(deadline);
      } finally {
        producer.commitGate.countDown();
      }

      write(writer, "b3").get(10, TimeUnit.SECONDS);
      // b1's commit went through after its answer; b2, answered "not written", never went out.
      assertThat(batchKeys(producer)).containsExactly("acme/b1", "acme/b3");
    }
  }

  @Test
  void aBatchAnsweredUnconfirmedAtItsDeadlineHasItsLaterCommitAsItsFate() throws Exception {
    GatedCommitProducer producer = new GatedCommitProducer();
    try (BatchWriter writer =
        new BatchWriter(handing(producer), 1, TIMING.withDeadline(Duration.ofMillis(300)))) {
      BatchWrite inCommit = submit(writer, "b1");
      assertThat(producer.commitStarted.await(10, TimeUnit.SECONDS)).isTrue();
      try {
        assertThat(failureOf(inCommit.answer()).reason())
            .isEqualTo(BatchWriteException.Reason.UNCONFIRMED);
        assertThat(inCommit.fate()).isNotDone();
      } finally {
        producer.commitGate.countDown();
      }

      assertThat(fateOf(inCommit)).isEqualTo(BatchFate.COMMITTED);
      assertThat(batchKeys(producer)).containsExactly("acme/b1");
    }
  }

  @Test
  void aBatchAnsweredUnconfirmedAtItsDeadlineHasItsLaterAbortAsItsFate() throws Exception {
    GatedCommitProducer producer = new GatedCommitProducer();
    producer.refuseSends = new KafkaException("record refused");
    try (BatchWriter writer =
        new BatchWriter(handing(producer), 1, TIMING.withDeadline(Duration.ofMillis(300)))) {
      BatchWrite inCommit = submit(writer, "b1");
      assertThat(producer.commitStarted.await(10, TimeUnit.SECONDS)).isTrue();
      try {
        assertThat(failureOf(inCommit.answer()).reason())
            .isEqualTo(BatchWriteException.Reason.UNCONFIRMED);
      } finally {
        producer.commitGate.countDown();
      }

      assertThat(fateOf(inCommit)).isEqualTo(BatchFate.ABORTED);
      assertThat(producer.history()).isEmpty();
    }
  }

  @Test
  void aBatchWithARecordLargerThanKafkaTakesIsRefusedAloneAndOthersAreWritten() throws Exception {
    ScriptedProducer producer = new ScriptedProducer();
    BatchRecord huge =
        new BatchRecord(
            "acme",
            "huge",
            Chain.ETH,
            SOURCE,
            "f",
            List.of("p".repeat(Topics.MAX_MESSAGE_BYTES)),
            Instant.EPOCH);
    try (BatchWriter writer = new BatchWriter(handing(producer), 1, TIMING)) {
      BatchWrite refused = writer.submit(huge, List.of(payout("p1")));
      CompletableFuture<Void> other = write(writer, "b2");

      BatchWriteException e = failureOf(refused.answer());
      assertThat(e.reason()).isEqualTo(BatchWriteException.Reason.TOO_LARGE);
      assertThat(e.mayBeWritten()).isFalse();
      assertThat(fateOf(refused)).isEqualTo(BatchFate.ABORTED);
      other.get(10, TimeUnit.SECONDS);
      assertThat(batchKeys(producer)).containsExactly("acme/b2");
    }
  }

  @Test
  void readinessNamesALaneHoldingABatchLongerThanACommitShouldTake() throws Exception {
    GatedCommitProducer producer = new GatedCommitProducer();
    SettableClock clock = new SettableClock(Instant.parse("2026-11-21T10:00:00Z"));
    BatchWriter.Timing timing =
        new BatchWriter.Timing(
            TIMING.deadline(),
            TIMING.firstBackoff(),
            TIMING.maxBackoff(),
            TIMING.idleProbe(),
            Duration.ofSeconds(10),
            clock);
    try (BatchWriter writer = new BatchWriter(handing(producer), 1, timing)) {
      CompletableFuture<Void> held = write(writer, "b1");
      assertThat(producer.commitStarted.await(10, TimeUnit.SECONDS)).isTrue();
      try {
        assertThat(writer.faults()).isEmpty();
        clock.advance(Duration.ofSeconds(11));

        assertThat(writer.faults())
            .singleElement()
            .satisfies(f -> assertThat(f.kind()).isEqualTo(LaneFault.Kind.STUCK));
      } finally {
        producer.commitGate.countDown();
      }

      held.get(10, TimeUnit.SECONDS);
      // The batch is answered from inside the lane's write, a moment before the lane lets go of
      // it: readiness clears then.
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> writer.faults().isEmpty());
    }
  }

  @Test
  void readinessNamesALaneWhoseCommitTimedOutUntilItCommits() throws Exception {
    TimeoutThenGatedProducer producer = new TimeoutThenGatedProducer();
    try (BatchWriter writer = new BatchWriter(handing(producer), 1, TIMING)) {
      CompletableFuture<Void> held = write(writer, "b1");
      assertThat(producer.secondCommitStarted.await(10, TimeUnit.SECONDS)).isTrue();
      try {
        assertThat(writer.faults())
            .singleElement()
            .satisfies(f -> assertThat(f.kind()).isEqualTo(LaneFault.Kind.COMMIT_TIMED_OUT));
      } finally {
        producer.gate.countDown();
      }

      held.get(10, TimeUnit.SECONDS);
      assertThat(writer.faults()).isEmpty();
    }
  }

  @Test
  void aLanesFirstProducerIsGivenMoreThanOneWaitToInitialize() throws Exception {
    ScriptedProducer producer = new ScriptedProducer();
    producer.initFailures.add(new TimeoutException("transaction log not created yet"));
    producer.initFailures.add(new TimeoutException("transaction log not created yet"));
    try (BatchWriter writer = new BatchWriter(handing(producer), 1, TIMING)) {
      assertThat(writer.faults()).isEmpty();
      write(writer, "b1").get(10, TimeUnit.SECONDS);
    }
    assertThat(batchKeys(producer)).containsExactly("acme/b1");
  }

  @Test
  void aWriteAfterCloseFailsAsNotWritten() {
    BatchWriter writer = new BatchWriter(handing(new ScriptedProducer()), 1, TIMING);
    writer.close();
    BatchWriteException e = failureOf(write(writer, "b1"));
    assertThat(e.reason()).isEqualTo(BatchWriteException.Reason.CLOSED);
    assertThat(writer.isOpen()).isFalse();
  }

  /**
   * Commits fail as scripted, one failure per commit, then succeed. Sends can be refused (as the
   * broker refuses a record: the callback gets the error, and the commit fails with it), and a
   * commit can complete and then meet a fence, as after another producer of the id initialized.
   */
  private static class ScriptedProducer extends MockProducer<String, byte[]> {
    final Deque<RuntimeException> commitFailures = new ArrayDeque<>();
    final Deque<RuntimeException> initFailures = new ArrayDeque<>();
    volatile Error commitError;
    volatile RuntimeException refuseSends;
    volatile boolean fenceAfterCommit;
    volatile Runnable onBegin = () -> {};

    ScriptedProducer() {
      super(true, null, new StringSerializer(), new ByteArraySerializer());
    }

    @Override
    public void initTransactions() {
      RuntimeException failure;
      synchronized (initFailures) {
        failure = initFailures.poll();
      }
      if (failure != null) {
        throw failure;
      }
      super.initTransactions();
    }

    @Override
    public void beginTransaction() {
      onBegin.run();
      super.beginTransaction();
    }

    @Override
    public synchronized Future<RecordMetadata> send(
        ProducerRecord<String, byte[]> record, Callback callback) {
      RuntimeException refusal = refuseSends;
      if (refusal == null) {
        return super.send(record, callback);
      }
      if (callback != null) {
        callback.onCompletion(null, refusal);
      }
      return CompletableFuture.failedFuture(refusal);
    }

    @Override
    public void commitTransaction() {
      if (commitError != null) {
        throw commitError;
      }
      if (refuseSends != null) {
        throw new KafkaException(
            "Cannot execute transactional method because we are in an error state", refuseSends);
      }
      RuntimeException failure;
      synchronized (commitFailures) {
        failure = commitFailures.poll();
      }
      if (failure != null) {
        throw failure;
      }
      super.commitTransaction();
      if (fenceAfterCommit) {
        fenceProducer();
        throw new ProducerFencedException(
            "There is a newer producer with the same transactionalId");
      }
    }
  }

  /** The first commit times out; the second waits until the test opens the gate. */
  private static final class TimeoutThenGatedProducer extends ScriptedProducer {
    final CountDownLatch secondCommitStarted = new CountDownLatch(1);
    final CountDownLatch gate = new CountDownLatch(1);
    private final AtomicInteger commits = new AtomicInteger();

    @Override
    public void commitTransaction() {
      if (commits.incrementAndGet() == 1) {
        throw new TimeoutException("EndTxn not answered in max.block.ms");
      }
      secondCommitStarted.countDown();
      try {
        if (!gate.await(10, TimeUnit.SECONDS)) {
          throw new TimeoutException("test gate stayed shut");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new org.apache.kafka.common.errors.InterruptException(e);
      }
      super.commitTransaction();
    }
  }

  /** A clock the test moves. */
  private static final class SettableClock extends Clock {
    private final AtomicReference<Instant> now;

    SettableClock(Instant start) {
      this.now = new AtomicReference<>(start);
    }

    void advance(Duration by) {
      now.updateAndGet(t -> t.plus(by));
    }

    @Override
    public Instant instant() {
      return now.get();
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }

  /** A commit that waits until the test opens the gate: a lane stuck in its commit. */
  private static final class GatedCommitProducer extends ScriptedProducer {
    final CountDownLatch commitStarted = new CountDownLatch(1);
    final CountDownLatch commitGate = new CountDownLatch(1);

    @Override
    public void commitTransaction() {
      commitStarted.countDown();
      try {
        if (!commitGate.await(10, TimeUnit.SECONDS)) {
          throw new TimeoutException("test gate stayed shut");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new org.apache.kafka.common.errors.InterruptException(e);
      }
      super.commitTransaction();
    }
  }

  /** initTransactions waits until the test lets it finish: a lane rebuilding its producer. */
  private static final class GatedInitProducer extends ScriptedProducer {
    final CountDownLatch initStarted = new CountDownLatch(1);
    final CountDownLatch initRelease = new CountDownLatch(1);

    @Override
    public void initTransactions() {
      initStarted.countDown();
      try {
        if (!initRelease.await(10, TimeUnit.SECONDS)) {
          throw new TimeoutException("test gate stayed shut");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new org.apache.kafka.common.errors.InterruptException(e);
      }
      super.initTransactions();
    }
  }
}
