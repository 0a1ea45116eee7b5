package io.txgw.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Amount;
import io.txgw.common.model.BatchRecord;
import io.txgw.common.model.Chain;
import io.txgw.common.model.Payout;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.model.PayoutStatus;
import io.txgw.common.security.ClientPolicies;
import io.txgw.common.security.ClientPolicy;
import io.txgw.common.validation.BatchRules;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.BatchValidator;
import io.txgw.common.validation.PayoutLine;
import io.txgw.gateway.kafka.BatchWriteException;
import io.txgw.gateway.kafka.BatchWriter;
import io.txgw.gateway.status.DriverView;
import io.txgw.gateway.status.PayoutIndex;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The accept path against a real status view (its topology run by a test driver) and a writer over
 * a mock producer: what the gateway writes reaches the view only when {@link #viewCatchesUp} says
 * so, as it reaches it from Kafka a moment after the write.
 */
class BatchServiceTest {
  private static final String SOURCE = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
  private static final String OTHER_SOURCE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
  private static final String ALICE = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
  private static final String BOB = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359";
  private static final Instant NOW = Instant.parse("2026-11-21T10:00:00Z");
  private static final JsonSerde<Payout> PAYOUT_JSON = new JsonSerde<>(Payout.class);
  private static final JsonSerde<BatchRecord> BATCH_JSON = new JsonSerde<>(BatchRecord.class);

  @TempDir Path state;

  private final Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
  private final BatchValidator validator =
      new BatchValidator(
          new BatchRules(
              100,
              Map.of(Chain.BTC, Amount.parse("1"), Chain.ETH, Amount.parse("10")),
              new AddressCodec(BitcoinNetwork.BCOIN_REGTEST)));

  /** The lane's producer, and those it is given after it in turn. */
  private GatedProducer producer;

  private final List<GatedProducer> producers = new ArrayList<>();
  private BatchWriter writer;
  private DriverView driver;
  private BatchService service;

  /**
   * A producer whose commits can be held back, to see what happens while a batch is written; whose
   * next transaction can be refused (a record of it refused by the broker: it aborts); and whose
   * next commit can meet a fence, after completing or not (another producer of the id initialized,
   * which completes a commit that reached the coordinator and aborts one that did not).
   */
  private static final class GatedProducer extends MockProducer<String, byte[]> {
    volatile CountDownLatch gate = new CountDownLatch(0);
    volatile boolean refuseNextTransaction;
    volatile Boolean fenceNextCommitAfterCommitting;

    GatedProducer() {
      super(true, null, new StringSerializer(), new ByteArraySerializer());
    }

    @Override
    public synchronized Future<RecordMetadata> send(
        ProducerRecord<String, byte[]> record, Callback callback) {
      if (!refuseNextTransaction) {
        return super.send(record, callback);
      }
      KafkaException refused = new KafkaException("record refused");
      callback.onCompletion(null, refused);
      return CompletableFuture.failedFuture(refused);
    }

    @Override
    public void commitTransaction() {
      try {
        if (!gate.await(10, TimeUnit.SECONDS)) {
          throw new KafkaException("test gate never opened");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new KafkaException("interrupted at the test gate", e);
      }
      if (refuseNextTransaction) {
        refuseNextTransaction = false;
        throw new KafkaException("Cannot execute transactional method in an error state");
      }
      Boolean committing = fenceNextCommitAfterCommitting;
      if (committing != null) {
        fenceNextCommitAfterCommitting = null;
        if (committing) {
          super.commitTransaction();
        }
        fenceProducer();
        throw new ProducerFencedException(
            "There is a newer producer with the same transactionalId");
      }
      super.commitTransaction();
    }
  }

  @BeforeEach
  void start() {
    driver = new DriverView(state);
    useWriter(BatchWriter.Timing.DEFAULT.deadline(), 1);
  }

  /**
   * A writer of one lane whose requests are answered by {@code deadline}, and which has {@code
   * count} producers to use in turn; {@link #producer} is the first.
   */
  private void useWriter(Duration deadline, int count) {
    if (writer != null) {
      writer.close();
    }
    producers.clear();
    for (int i = 0; i < count; i++) {
      producers.add(new GatedProducer());
    }
    producer = producers.get(0);
    Deque<GatedProducer> next = new ArrayDeque<>(producers);
    writer =
        new BatchWriter(
            lane -> {
              GatedProducer p = next.poll();
              if (p == null) {
                throw new KafkaException("no producer left");
              }
              return p;
            },
            1,
            BatchWriter.Timing.DEFAULT.withDeadline(deadline));
    Set<String> rights =
        Set.of("ETH:" + SOURCE, "ETH:" + OTHER_SOURCE, "BTC:primary", "BTC:payouts");
    ClientPolicies policies =
        new ClientPolicies(
            Map.of(
                "acme",
                new ClientPolicy("acme", rights, Map.of(), Map.of(), Set.of(), null, false),
                "globex",
                new ClientPolicy("globex", rights, Map.of(), Map.of(), Set.of(), null, false)));
    service = new BatchService(validator, writer, driver.view(), clock, () -> policies);
  }

  @AfterEach
  void stop() {
    producers.forEach(p -> p.gate.countDown());
    writer.close();
    driver.close();
  }

  /** What the lane's producers committed, in order: each one's after the one before it. */
  private List<ProducerRecord<String, byte[]>> history() {
    List<ProducerRecord<String, byte[]>> all = new ArrayList<>();
    producers.forEach(p -> all.addAll(p.history()));
    return all;
  }

  private static BatchSubmission batch(String batchId, String source, PayoutLine... lines) {
    return new BatchSubmission(batchId, "ETH", source, List.of(lines));
  }

  private static PayoutLine line(String id, String to, String amount) {
    return new PayoutLine(id, to, amount, null);
  }

  private SubmitOutcome post(BatchSubmission submission) throws Exception {
    return service.submit("acme", submission).get(10, TimeUnit.SECONDS);
  }

  private void viewCatchesUp() {
    driver.catchUp(history());
  }

  /** The payout ids written to sendto, in order. */
  private List<String> sentIds() {
    return history().stream()
        .filter(r -> r.topic().equals(Topics.SENDTO))
        .map(r -> PAYOUT_JSON.deserialize(r.topic(), r.value()))
        .map(p -> p.batchId() + ":" + p.id())
        .toList();
  }

  private List<String> writtenBatches() {
    return history().stream()
        .filter(r -> r.topic().equals(Topics.BATCHES))
        .map(r -> BATCH_JSON.deserialize(r.topic(), r.value()).batchId())
        .toList();
  }

  private static PayoutIndex.Conflict onlyConflict(SubmitOutcome outcome) {
    assertThat(outcome).isInstanceOf(SubmitOutcome.PayoutIdsTaken.class);
    List<PayoutIndex.Conflict> conflicts = ((SubmitOutcome.PayoutIdsTaken) outcome).conflicts();
    assertThat(conflicts).hasSize(1);
    return conflicts.get(0);
  }

  @Test
  void aPayoutIdPostedAgainFromAnotherSourceIsRefusedNamingTheEarlierBatch() throws Exception {
    assertThat(post(batch("b1", SOURCE, line("p1", ALICE, "1"))))
        .isInstanceOf(SubmitOutcome.Accepted.class);
    viewCatchesUp();

    SubmitOutcome again =
        post(batch("b2", OTHER_SOURCE, line("p0", BOB, "2"), line("p1", ALICE, "1")));

    PayoutIndex.Conflict conflict = onlyConflict(again);
    assertThat(conflict.index()).isEqualTo(1);
    assertThat(conflict.id()).isEqualTo("p1");
    assertThat(conflict.batchId()).isEqualTo("b1");
    assertThat(conflict.differs()).containsExactly("source");
    assertThat(sentIds()).containsExactly("b1:p1");
  }

  @Test
  void aPayoutIdPostedAgainBeforeTheViewHasReadItsBatchIsRefusedAllTheSame() throws Exception {
    post(batch("b1", SOURCE, line("p1", ALICE, "1")));

    SubmitOutcome again = post(batch("b2", OTHER_SOURCE, line("p1", ALICE, "1")));

    assertThat(onlyConflict(again).batchId()).isEqualTo("b1");
    assertThat(sentIds()).containsExactly("b1:p1");
  }

  @Test
  void aPayoutIdPostedAgainForAnotherAmountOrRecipientIsRefusedItemByItem() throws Exception {
    post(batch("b1", SOURCE, line("p1", ALICE, "1"), line("p2", ALICE, "1")));
    viewCatchesUp();

    SubmitOutcome again =
        post(
            batch(
                "b2",
                SOURCE,
                line("p1", ALICE, "1.000000000000000001"),
                line("p3", ALICE, "1"),
                line("p2", BOB, "1")));

    assertThat(again).isInstanceOf(SubmitOutcome.PayoutIdsTaken.class);
    assertThat(((SubmitOutcome.PayoutIdsTaken) again).conflicts())
        .extracting(c -> c.index() + " " + c.id() + " " + c.batchId() + " " + c.differs())
        .containsExactly("0 p1 b1 [amount]", "2 p2 b1 [to]");
  }

  @Test
  void aRefusedBatchWritesNothingOfItsOtherPayouts() throws Exception {
    post(batch("b1", SOURCE, line("p1", ALICE, "1")));
    viewCatchesUp();
    int before = history().size();

    post(batch("b2", SOURCE, line("p2", ALICE, "1"), line("p1", BOB, "1"), line("p3", BOB, "1")));
    viewCatchesUp();

    assertThat(history()).hasSize(before);
    assertThat(service.status("acme", "b2", true)).isEmpty();
    // Its new ids stay free: the batch posted again without the taken one is accepted whole.
    assertThat(post(batch("b2", SOURCE, line("p2", ALICE, "1"), line("p3", BOB, "1"))))
        .isInstanceOf(SubmitOutcome.Accepted.class);
    assertThat(sentIds()).containsExactly("b1:p1", "b2:p2", "b2:p3");
  }

  @Test
  void theSamePayoutInANewBatchIsAnsweredAsTheEarlierOneAndNotWrittenAgain() throws Exception {
    post(batch("b1", SOURCE, line("p1", ALICE, "1.50")));
    viewCatchesUp();

    SubmitOutcome again =
        post(
            batch(
                "b2",
                SOURCE,
                new PayoutLine("p1", ALICE, "1.5", "other memo"),
                line("p2", BOB, "2")));

    assertThat(again).isInstanceOf(SubmitOutcome.Accepted.class);
    BatchRecord b2 = ((SubmitOutcome.Accepted) again).batch();
    assertThat(b2.payoutIds()).containsExactly("p1", "p2");
    assertThat(b2.acceptedEarlier()).isEqualTo(Map.of("p1", "b1"));
    assertThat(sentIds()).containsExactly("b1:p1", "b2:p2");
    assertThat(writtenBatches()).containsExactly("b1", "b2");
  }

  @Test
  void theSamePayoutPostedAgainBeforeTheViewHasReadItsBatchIsNotWrittenAgain() throws Exception {
    post(batch("b1", SOURCE, line("p1", ALICE, "1")));

    SubmitOutcome again = post(batch("b2", SOURCE, line("p1", ALICE, "1")));

    assertThat(((SubmitOutcome.Accepted) again).batch().acceptedEarlier())
        .isEqualTo(Map.of("p1", "b1"));
    assertThat(sentIds()).containsExactly("b1:p1");
  }

  @Test
  void aPayoutAcceptedEarlierShowsTheOnePaymentInBothBatches() throws Exception {
    post(batch("b1", SOURCE, line("p1", ALICE, "1")));
    viewCatchesUp();
    post(batch("b2", SOURCE, line("p1", ALICE, "1"), line("p2", BOB, "2")));
    viewCatchesUp();
    Payout p1 = PAYOUT_JSON.deserialize(Topics.SENDTO, history().get(0).value());
    driver.result(PayoutResult.broadcast(p1, "0xaa", "anvil", NOW.plusSeconds(3)));

    BatchStatus b1 = service.status("acme", "b1", true).orElseThrow();
    BatchStatus b2 = service.status("acme", "b2", true).orElseThrow();

    assertThat(b1.payouts()).extracting(BatchStatus.Item::txid).containsExactly("0xaa");
    assertThat(b2.payouts())
        .extracting(i -> i.id() + " " + i.status() + " " + i.txid() + " " + i.acceptedIn())
        .containsExactly("p1 BROADCAST 0xaa b1", "p2 ACCEPTED null null");
    BatchStatus summary = service.status("acme", "b2", false).orElseThrow();
    assertThat(summary.counts())
        .isEqualTo(Map.of(PayoutStatus.BROADCAST, 1, PayoutStatus.ACCEPTED, 1));
    assertThat(summary.lastUpdate()).isEqualTo(NOW.plusSeconds(3));
  }

  @Test
  void aBatchWhollyAcceptedEarlierIsCompleteOnceTheEarlierPaymentsAreConfirmed() throws Exception {
    post(batch("b1", SOURCE, line("p1", ALICE, "1")));
    post(batch("b2", SOURCE, line("p1", ALICE, "1")));
    viewCatchesUp();
    Payout p1 = PAYOUT_JSON.deserialize(Topics.SENDTO, history().get(0).value());
    assertThat(service.status("acme", "b2", false).orElseThrow().complete()).isFalse();
    List<String> seen = new ArrayList<>();
    AutoCloseable watch =
        driver.view().watch("acme", "b2", (id, s) -> seen.add(id + " " + s.status()));

    driver.result(PayoutResult.broadcast(p1, "0xaa", "anvil", NOW.plusSeconds(3)));
    // Sent, not final: its block is not deep enough yet.
    assertThat(service.status("acme", "b2", false).orElseThrow().complete()).isFalse();
    driver.result(PayoutResult.confirmed(p1, "0xaa", "anvil", NOW.plusSeconds(4)));

    assertThat(service.status("acme", "b2", false).orElseThrow().complete()).isTrue();
    assertThat(seen).containsExactly("p1 BROADCAST", "p1 CONFIRMED");
    watch.close();
  }

  @Test
  void theSameBatchPostedAgainIsAcceptedAgainAndWritesNothing() throws Exception {
    BatchSubmission b1 = batch("b1", SOURCE, line("p1", ALICE, "1"), line("p2", BOB, "2"));
    SubmitOutcome first = post(b1);
    SubmitOutcome beforeTheViewReadIt = post(b1);
    viewCatchesUp();
    SubmitOutcome afterwards = post(b1);

    assertThat(((SubmitOutcome.Accepted) first).replay()).isFalse();
    assertThat(beforeTheViewReadIt).isInstanceOf(SubmitOutcome.Accepted.class);
    assertThat(((SubmitOutcome.Accepted) beforeTheViewReadIt).replay()).isTrue();
    assertThat(((SubmitOutcome.Accepted) afterwards).replay()).isTrue();
    assertThat(((SubmitOutcome.Accepted) afterwards).batch().payoutIds())
        .containsExactly("p1", "p2");
    assertThat(sentIds()).containsExactly("b1:p1", "b1:p2");
  }

  @Test
  void aBatchAcceptingAPayoutEarlierAnswersItsRepostsAsBefore() throws Exception {
    post(batch("b1", SOURCE, line("p1", ALICE, "1")));
    BatchSubmission b2 = batch("b2", SOURCE, line("p1", ALICE, "1"), line("p2", BOB, "2"));
    SubmitOutcome first = post(b2);
    viewCatchesUp();

    SubmitOutcome again = post(b2);

    assertThat(((SubmitOutcome.Accepted) again).replay()).isTrue();
    assertThat(((SubmitOutcome.Accepted) again).batch())
        .isEqualTo(((SubmitOutcome.Accepted) first).batch());
    assertThat(sentIds()).containsExactly("b1:p1", "b2:p2");
  }

  @Test
  void onceTheViewHasReadABatchItsIdsAreRefusedFromTheIndexAlone() throws Exception {
    post(batch("b1", SOURCE, line("p1", ALICE, "1")));
    viewCatchesUp();
    // Nothing is held in memory any longer: a restarted gateway would know no more than this.
    assertThat(driver.view().payoutIndex().held()).isZero();

    SubmitOutcome again = post(batch("b2", SOURCE, line("p1", BOB, "1")));

    assertThat(onlyConflict(again).batchId()).isEqualTo("b1");
    assertThat(onlyConflict(again).differs()).containsExactly("to");
  }

  @Test
  void anotherClientsPayoutIdIsNotThisClients() throws Exception {
    post(batch("b1", SOURCE, line("p1", ALICE, "1")));
    viewCatchesUp();

    SubmitOutcome other =
        service
            .submit("globex", batch("b1", OTHER_SOURCE, line("p1", BOB, "2")))
            .get(10, TimeUnit.SECONDS);

    assertThat(other).isInstanceOf(SubmitOutcome.Accepted.class);
  }

  @Test
  void aBatchMeetingAnIdStillBeingWrittenIsDecidedOnceThatWriteIsCommitted() throws Exception {
    producer.gate = new CountDownLatch(1);
    CompletableFuture<SubmitOutcome> first =
        service.submit("acme", batch("b1", SOURCE, line("p1", ALICE, "1")));
    CompletableFuture<SubmitOutcome> second =
        service.submit("acme", batch("b2", OTHER_SOURCE, line("p1", ALICE, "1")));

    assertThat(second).isNotDone();
    producer.gate.countDown();

    assertThat(first.get(10, TimeUnit.SECONDS)).isInstanceOf(SubmitOutcome.Accepted.class);
    assertThat(onlyConflict(second.get(10, TimeUnit.SECONDS)).batchId()).isEqualTo("b1");
    assertThat(sentIds()).containsExactly("b1:p1");
  }

  @Test
  void aBatchMeetingAnIdWhoseWriteFailedTakesTheIdItself() throws Exception {
    producer.gate = new CountDownLatch(1);
    producer.refuseNextTransaction = true;
    CompletableFuture<SubmitOutcome> first =
        service.submit("acme", batch("b1", SOURCE, line("p1", ALICE, "1")));
    CompletableFuture<SubmitOutcome> second =
        service.submit("acme", batch("b2", OTHER_SOURCE, line("p1", ALICE, "1")));
    assertThat(second).isNotDone();

    producer.gate.countDown();

    assertThat(first).failsWithin(10, TimeUnit.SECONDS);
    assertThat(second.get(10, TimeUnit.SECONDS)).isInstanceOf(SubmitOutcome.Accepted.class);
    assertThat(sentIds()).containsExactly("b2:p1");
  }

  @Test
  void ofBatchesRacingWithOnePayoutIdOnOneGatewayExactlyOneIsAccepted() throws Exception {
    int racers = 8;
    ExecutorService pool = Executors.newFixedThreadPool(racers);
    CountDownLatch go = new CountDownLatch(1);
    List<CompletableFuture<SubmitOutcome>> outcomes = new ArrayList<>();
    try {
      for (int i = 0; i < racers; i++) {
        // Each from its own source: at most one of them may be paid.
        String source = i % 2 == 0 ? SOURCE : OTHER_SOURCE;
        String amount = Integer.toString(i + 1);
        BatchSubmission b = batch("b" + i, source, line("p1", ALICE, amount));
        outcomes.add(
            CompletableFuture.supplyAsync(
                    () -> {
                      try {
                        go.await();
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                      }
                      return service.submit("acme", b);
                    },
                    pool)
                .thenCompose(f -> f));
      }
      go.countDown();
      List<SubmitOutcome> done = new ArrayList<>();
      for (CompletableFuture<SubmitOutcome> f : outcomes) {
        done.add(f.get(10, TimeUnit.SECONDS));
      }
      assertThat(done).filteredOn(o -> o instanceof SubmitOutcome.Accepted).hasSize(1);
      assertThat(done)
          .filteredOn(o -> o instanceof SubmitOutcome.PayoutIdsTaken)
          .hasSize(racers - 1);
      assertThat(sentIds()).hasSize(1);
    } finally {
      pool.shutdownNow();
    }
  }

  /** How a post failed: Kafka did not take the batch, or did not confirm it. */
  private static BatchWriteException writeFailure(CompletableFuture<SubmitOutcome> post) {
    Throwable t = catchThrowable(() -> post.get(10, TimeUnit.SECONDS));
    assertThat(t).isInstanceOf(ExecutionException.class);
    assertThat(t.getCause()).isInstanceOf(BatchService.BatchNotWrittenException.class);
    return (BatchWriteException) t.getCause().getCause();
  }

  /** The deadline a test waits out for a request answered "not confirmed". */
  private static final Duration SHORT_DEADLINE = Duration.ofSeconds(1);

  /**
   * A batch written by the lane after everything before it: once it is accepted, the lane has
   * finished with (and reported the fate of) every batch it held before.
   */
  private void laneMovesOn(String batchId, String payoutId) throws Exception {
    assertThat(post(batch(batchId, SOURCE, line(payoutId, BOB, "1"))))
        .isInstanceOf(SubmitOutcome.Accepted.class);
  }

  @Test
  void aBatchIdPostedAgainWithOtherContentAfterAnUnconfirmedWriteIsAConflictAndNotWritten()
      throws Exception {
    useWriter(SHORT_DEADLINE, 1);
    producer.gate = new CountDownLatch(1);
    CompletableFuture<SubmitOutcome> first =
        service.submit("acme", batch("b1", SOURCE, line("p1", ALICE, "1")));
    assertThat(writeFailure(first).reason()).isEqualTo(BatchWriteException.Reason.UNCONFIRMED);

    SubmitOutcome other = post(batch("b1", OTHER_SOURCE, line("p1", BOB, "2")));

    assertThat(other).isInstanceOf(SubmitOutcome.Conflict.class);
    assertThat(((SubmitOutcome.Conflict) other).unconfirmed()).isTrue();
    producer.gate.countDown();
    laneMovesOn("b9", "p9");
    // The first write committed after its answer: the batch id is that content's.
    assertThat(post(batch("b1", OTHER_SOURCE, line("p1", BOB, "2"))))
        .isInstanceOf(SubmitOutcome.Conflict.class);
    assertThat(post(batch("b1", SOURCE, line("p1", ALICE, "1"))))
        .isInstanceOf(SubmitOutcome.Accepted.class);
    assertThat(sentIds()).containsExactly("b1:p1", "b9:p9");
    Payout sent = PAYOUT_JSON.deserialize(Topics.SENDTO, history().get(0).value());
    assertThat(sent.source()).isEqualTo(SOURCE);
  }

  @Test
  void theSameBatchPostedAgainAfterAnUnconfirmedWriteIsWrittenAgainFromTheSameSource()
      throws Exception {
    useWriter(SHORT_DEADLINE, 1);
    producer.gate = new CountDownLatch(1);
    BatchSubmission b1 = batch("b1", SOURCE, line("p1", ALICE, "1"));
    writeFailure(service.submit("acme", b1));

    CompletableFuture<SubmitOutcome> again = service.submit("acme", b1);
    producer.gate.countDown();

    assertThat(again.get(10, TimeUnit.SECONDS)).isInstanceOf(SubmitOutcome.Accepted.class);
    // Twice from one source: the consumers pay the payout id once.
    assertThat(sentIds()).containsExactly("b1:p1", "b1:p1");
  }

  @Test
  void aPayoutIdInABatchWhoseWriteIsUnconfirmedIsRefusedForNowAndTakenOnceThatWriteAborted()
      throws Exception {
    useWriter(SHORT_DEADLINE, 1);
    producer.gate = new CountDownLatch(1);
    producer.refuseNextTransaction = true;
    CompletableFuture<SubmitOutcome> a =
        service.submit("acme", batch("a", SOURCE, line("p1", ALICE, "1")));
    assertThat(writeFailure(a).reason()).isEqualTo(BatchWriteException.Reason.UNCONFIRMED);
    BatchSubmission b = batch("b", SOURCE, line("p0", BOB, "2"), line("p1", ALICE, "1"));

    SubmitOutcome meanwhile = post(b);

    // Not "accepted earlier in a": a may not exist. Nor a conflict: p1 may be free.
    assertThat(meanwhile).isInstanceOf(SubmitOutcome.PayoutIdsUnconfirmed.class);
    assertThat(((SubmitOutcome.PayoutIdsUnconfirmed) meanwhile).ids())
        .containsExactly(new PayoutIndex.InDoubt(1, "p1", "a"));
    producer.gate.countDown();
    laneMovesOn("c", "p9");

    SubmitOutcome after = post(b);
    assertThat(after).isInstanceOf(SubmitOutcome.Accepted.class);
    assertThat(((SubmitOutcome.Accepted) after).batch().acceptedEarlier()).isEmpty();
    assertThat(sentIds()).containsExactly("c:p9", "b:p0", "b:p1");
    assertThat(writtenBatches()).containsExactly("c", "b");
  }

  @Test
  void aPayoutIdInABatchWhoseOutcomeIsUnknownIsFreedOnceTheViewHasReadPastItAndNotFoundIt()
      throws Exception {
    useWriter(BatchWriter.Timing.DEFAULT.deadline(), 2);
    // The commit never reached the coordinator: the new producer's initialization aborts it.
    producer.fenceNextCommitAfterCommitting = false;
    CompletableFuture<SubmitOutcome> a =
        service.submit("acme", batch("a", SOURCE, line("p1", ALICE, "1")));
    assertThat(writeFailure(a).reason()).isEqualTo(BatchWriteException.Reason.UNCONFIRMED);
    laneMovesOn("c", "p9");
    BatchSubmission b = batch("b", SOURCE, line("p1", ALICE, "1"));

    assertThat(post(b)).isInstanceOf(SubmitOutcome.PayoutIdsUnconfirmed.class);
    assertThat(driver.waitingForTheEnd()).isEqualTo(1);
    viewCatchesUp();

    SubmitOutcome after = post(b);
    assertThat(((SubmitOutcome.Accepted) after).batch().acceptedEarlier()).isEmpty();
    assertThat(sentIds()).containsExactly("c:p9", "b:p1");
    assertThat(driver.view().payoutIndex().holding().inDoubt()).isZero();
  }

  @Test
  void aPayoutIdInABatchWhoseOutcomeIsUnknownIsAcceptedEarlierOnceTheViewReadsThatBatch()
      throws Exception {
    useWriter(BatchWriter.Timing.DEFAULT.deadline(), 2);
    // The commit reached the coordinator, which completed it when the new producer initialized.
    producer.fenceNextCommitAfterCommitting = true;
    CompletableFuture<SubmitOutcome> a =
        service.submit("acme", batch("a", SOURCE, line("p1", ALICE, "1")));
    assertThat(writeFailure(a).reason()).isEqualTo(BatchWriteException.Reason.UNCONFIRMED);
    laneMovesOn("c", "p9");
    BatchSubmission b = batch("b", SOURCE, line("p1", ALICE, "1"));

    assertThat(post(b)).isInstanceOf(SubmitOutcome.PayoutIdsUnconfirmed.class);
    viewCatchesUp();

    SubmitOutcome after = post(b);
    assertThat(((SubmitOutcome.Accepted) after).batch().acceptedEarlier())
        .isEqualTo(Map.of("p1", "a"));
    assertThat(post(batch("a", SOURCE, line("p1", BOB, "1"))))
        .isInstanceOf(SubmitOutcome.Conflict.class);
    assertThat(sentIds()).containsExactly("a:p1", "c:p9");
  }
}
