package io.txgw.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.json.Json;
import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.common.model.Payout;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.model.PayoutStatus;
import io.txgw.common.model.TestPayouts;
import io.txgw.consumer.chain.ChainSender;
import io.txgw.consumer.chain.NodeUnavailableException;
import io.txgw.consumer.chain.Preparation;
import io.txgw.consumer.chain.SendOutcome;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class PayoutProcessorTest {
  private static final TopicPartition P0 = new TopicPartition(Topics.SENDTO, 0);
  private static final String SOURCE = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
  private static final String OTHER = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359";

  private final MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest");

  {
    consumer.updatePartitions(
        Topics.SENDTO,
        List.of(new org.apache.kafka.common.PartitionInfo(Topics.SENDTO, 0, null, null, null)));
  }

  private final MockProducer<String, Object> producer =
      new MockProducer<>(true, null, new StringSerializer(), new JsonSerde<>(Object.class));
  private final ManualClock clock = new ManualClock();
  private final FakeSender sender = new FakeSender();
  private final io.micrometer.core.instrument.simple.SimpleMeterRegistry meters =
      new io.micrometer.core.instrument.simple.SimpleMeterRegistry();

  /** What a journal read returns, beyond what the producer committed. */
  private final List<JournalEntry> journalBefore = new ArrayList<>();

  private final PayoutProcessor processor =
      new PayoutProcessor(
          consumer,
          () -> producer,
          Map.of(Chain.ETH, sender),
          TestTrust.intake("acme", Set.of("ETH:" + SOURCE, "ETH:" + OTHER)),
          this::readJournal,
          PayoutProcessor.DEFAULT_HORIZON,
          AccountGuard.unguarded(),
          clock,
          true,
          meters,
          null,
          io.txgw.consumer.finality.Finality.none());

  /** Signs "raw-<id>" with txid "0x<id>"; records what it did and checks journal-first. */
  final class FakeSender implements ChainSender {
    final List<String> prepared = new ArrayList<>();
    final List<String> broadcast = new ArrayList<>();
    final Set<String> unavailableOnce = new HashSet<>();
    final Set<String> refuseBroadcast = new HashSet<>();
    final Set<String> conflictOnce = new HashSet<>();
    final Set<String> waitOnce = new HashSet<>();
    final Set<String> inFlightOnce = new HashSet<>();
    final Map<String, Preparation.Refused> refuse = new HashMap<>();
    boolean remembers = true;
    final Set<String> unavailableAtBroadcastOnce = new HashSet<>();
    final List<String> forgotten = new ArrayList<>();
    long nonce;

    @Override
    public void forget(String account) {
      forgotten.add(account);
    }

    @Override
    public boolean remembers(String account) {
      return remembers;
    }

    @Override
    public Chain chain() {
      return Chain.ETH;
    }

    @Override
    public String nodeName() {
      return "fake";
    }

    @Override
    public io.txgw.consumer.chain.ChainBlocks blocks() {
      return null;
    }

    @Override
    public int maxPayoutsPerUnit() {
      return 1;
    }

    int unitsPerRound = 100;

    @Override
    public int maxUnitsPerRound() {
      return unitsPerRound;
    }

    @Override
    public void reset() {}

    @Override
    public Preparation prepare(String source, List<Payout> payouts)
        throws NodeUnavailableException {
      String id = payouts.get(0).id();
      if (unavailableOnce.remove(id)) {
        throw new NodeUnavailableException("down", null);
      }
      if (refuse.containsKey(id)) {
        return refuse.get(id);
      }
      prepared.add(id);
      return new Preparation.Signed("0x" + id, "raw-" + id, nonce++, List.of());
    }

    @Override
    public SendOutcome broadcast(JournalEntry unit) throws NodeUnavailableException {
      boolean journaled =
          committed(Topics.JOURNAL).stream()
                  .map(r -> (JournalEntry) r.value())
                  .anyMatch(
                      e ->
                          e.unitId().equals(unit.unitId())
                              && e.state() == JournalEntry.State.PREPARED)
              || journalBefore.stream().anyMatch(e -> e.unitId().equals(unit.unitId()));
      assertThat(journaled).as("journaled before broadcast: " + unit.unitId()).isTrue();
      broadcast.add(unit.rawTransaction());
      String id = unit.payouts().get(0).payoutId();
      if (unavailableAtBroadcastOnce.remove(id)) {
        throw new NodeUnavailableException("look-up timed out", null);
      }
      if (waitOnce.remove(id)) {
        return SendOutcome.waiting(unit.txid(), "queued behind a missing nonce");
      }
      if (inFlightOnce.remove(id)) {
        return SendOutcome.inFlight(unit.txid(), "sent, not mined yet");
      }
      if (conflictOnce.remove(id)) {
        return SendOutcome.conflicted(
            unit.txid(), "input spent in the chain by another transaction");
      }
      return refuseBroadcast.remove(id)
          ? SendOutcome.failed("insufficient funds")
          : SendOutcome.broadcast(unit.txid());
    }
  }

  private Map<Integer, JournalIndex> readJournal(Map<Integer, JournalCheckpoint> from) {
    Map<Integer, JournalIndex> indexes = new HashMap<>();
    for (Integer p : from.keySet()) {
      JournalIndex index = new JournalIndex();
      journalBefore.forEach(index::apply);
      committed(Topics.JOURNAL).forEach(r -> index.apply((JournalEntry) r.value()));
      indexes.put(p, index);
    }
    return indexes;
  }

  private List<ProducerRecord<String, Object>> committed(String topic) {
    return producer.history().stream().filter(r -> r.topic().equals(topic)).toList();
  }

  private static Payout payout(String id) {
    return TestPayouts.eth(id, SOURCE);
  }

  private static ConsumerRecord<String, byte[]> record(long offset, String payoutId) {
    return record(offset, payoutId, SOURCE);
  }

  private static ConsumerRecord<String, byte[]> record(
      long offset, String payoutId, String source) {
    try {
      return TestTrust.sealed(
          new ConsumerRecord<>(
              Topics.SENDTO,
              0,
              offset,
              "ETH:" + source,
              Json.mapper().writeValueAsBytes(TestPayouts.eth(payoutId, source))));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private void deliver(long firstOffset, String... ids) {
    for (int i = 0; i < ids.length; i++) {
      consumer.addRecord(record(firstOffset + i, ids[i]));
    }
  }

  private void assignAndDeliver(String... ids) {
    consumer.rebalance(List.of(P0));
    consumer.updateBeginningOffsets(Map.of(P0, 0L));
    deliver(0, ids);
  }

  private List<PayoutResult> results() {
    return committed(Topics.RESULTS).stream().map(r -> (PayoutResult) r.value()).toList();
  }

  private long lastCommittedOffset() {
    List<Map<String, Map<TopicPartition, OffsetAndMetadata>>> history =
        producer.consumerGroupOffsetsHistory();
    return history.get(history.size() - 1).values().iterator().next().get(P0).offset();
  }

  private static JournalEntry prepared(String id, long nonce) {
    return prepared(id, nonce, null);
  }

  private static JournalEntry prepared(String id, long nonce, Long firstOffset) {
    Payout p = payout(id);
    JournalEntry.Item item =
        new JournalEntry.Item(
            id, "b1", "acme", p.to(), p.amount(), Instant.EPOCH, null, PayoutStatus.ACCEPTED, null);
    return new JournalEntry(
        "ETH:0x" + id,
        Chain.ETH,
        SOURCE,
        "0x" + id,
        "raw-" + id,
        nonce,
        JournalEntry.State.PREPARED,
        List.of(item),
        Instant.EPOCH,
        Instant.EPOCH,
        firstOffset);
  }

  @Test
  void aPartitionTakesNewPayoutsWhileItsUnitsAreInFlightAndSettlesThemWhenLookedAtAgain()
      throws Exception {
    processor.start();
    sender.inFlightOnce.add("p1");
    assignAndDeliver("p1");
    processor.pollOnce();
    assertThat(results()).isEmpty();
    assertThat(lastCommittedOffset()).isEqualTo(1);

    // Sent a moment ago and its account's next nonce known: the next payout does not wait for it.
    deliver(1, "p2");
    processor.pollOnce();
    assertThat(sender.prepared).containsExactly("p1", "p2");
    assertThat(results()).extracting(PayoutResult::payoutId).containsExactly("p2");
    assertThat(lastCommittedOffset()).isEqualTo(2);
    assertThat(meters.find(PayoutProcessor.ROUNDS_IN_FLIGHT).counter().count()).isEqualTo(1);

    clock.advance(Duration.ofSeconds(1));
    processor.pollOnce();
    assertThat(results()).extracting(PayoutResult::payoutId).containsExactly("p2", "p1");
    assertThat(sender.broadcast).containsExactly("raw-p1", "raw-p2", "raw-p1");
  }

  @Test
  void anAccountForgottenWhileItsUnitsAreInFlightTakesNoNewPayoutUntilTheyAreSettled()
      throws Exception {
    processor.start();
    sender.inFlightOnce.add("p1");
    assignAndDeliver("p1");
    processor.pollOnce();
    // Its lease moved and came back, say: the next nonce would be read from the chain.
    sender.remembers = false;
    deliver(1, "p2");
    processor.pollOnce();
    assertThat(sender.prepared).containsExactly("p1");
    assertThat(lastCommittedOffset()).isEqualTo(1);

    clock.advance(Duration.ofSeconds(5));
    processor.pollOnce();
    assertThat(results()).extracting(PayoutResult::payoutId).containsExactly("p1");
    deliver(1, "p2");
    clock.advance(Duration.ofSeconds(5));
    processor.pollOnce();
    processor.pollOnce();
    assertThat(sender.prepared).containsExactly("p1", "p2");
    assertThat(results()).extracting(PayoutResult::payoutId).containsExactly("p1", "p2");
  }

  @Test
  void onlyALackOfFundsWaitsForTheUnitsInFlightBeforeItIsFinal() throws Exception {
    processor.start();
    sender.inFlightOnce.add("p1");
    assignAndDeliver("p1");
    processor.pollOnce();
    sender.refuse.put("p2", new Preparation.Refused("execution reverted"));
    sender.refuse.put("p3", Preparation.Refused.insufficient("insufficient funds"));
    deliver(1, "p2", "p3");
    processor.pollOnce();
    // A revert at the latest block owes nothing to what is in flight: final at once.
    assertThat(results())
        .extracting(PayoutResult::payoutId, PayoutResult::status)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("p2", PayoutStatus.FAILED));
    assertThat(lastCommittedOffset()).isEqualTo(2);

    // p1 mined: the coins it held are spent for good, and the refusal is final.
    clock.advance(Duration.ofSeconds(1));
    processor.pollOnce();
    deliver(2, "p3");
    clock.advance(Duration.ofSeconds(1));
    processor.pollOnce();
    assertThat(results())
        .extracting(PayoutResult::payoutId, PayoutResult::status)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("p2", PayoutStatus.FAILED),
            org.assertj.core.groups.Tuple.tuple("p1", PayoutStatus.BROADCAST),
            org.assertj.core.groups.Tuple.tuple("p3", PayoutStatus.FAILED));
    assertThat(lastCommittedOffset()).isEqualTo(3);
  }

  @Test
  void recordsReadAgainForAnAbandonedUnitAreNotJudgedAgainExceptItsPayouts() throws Exception {
    processor.start();
    sender.inFlightOnce.add("p1");
    assignAndDeliver("p1");
    processor.pollOnce();
    ConsumerRecord<String, byte[]> unreadable =
        new ConsumerRecord<>(
            Topics.SENDTO, 0, 1, "k", "{not json".getBytes(StandardCharsets.UTF_8));
    consumer.addRecord(unreadable);
    deliver(2, "p2");
    processor.pollOnce();
    assertThat(lastCommittedOffset()).isEqualTo(3);

    // Another transaction took p1's nonce: its payout is read again from its offset.
    sender.conflictOnce.add("p1");
    clock.advance(Duration.ofSeconds(1));
    processor.pollOnce();
    assertThat(lastCommittedOffset()).isZero();
    deliver(0, "p1");
    consumer.addRecord(unreadable);
    deliver(2, "p2");
    processor.pollOnce();

    assertThat(sender.prepared).containsExactly("p1", "p2", "p1");
    assertThat(committed(Topics.SENDTO_DEAD_LETTER)).hasSize(1);
    assertThat(lastCommittedOffset()).isEqualTo(3);
  }

  @Test
  void payoutsAreJournaledBeforeBroadcastThenRecordedWithTheOffsetPastThem() {
    consumer.schedulePollTask(() -> assignAndDeliver("p0", "p1", "p2"));
    consumer.schedulePollTask(processor::stop);
    processor.run();

    assertThat(sender.broadcast).containsExactly("raw-p0", "raw-p1", "raw-p2");
    assertThat(results()).extracting(PayoutResult::status).containsOnly(PayoutStatus.BROADCAST);
    assertThat(results()).extracting(PayoutResult::txid).containsExactly("0xp0", "0xp1", "0xp2");
    assertThat(committed(Topics.JOURNAL))
        .extracting(r -> ((JournalEntry) r.value()).state())
        .containsExactly(
            JournalEntry.State.PREPARED,
            JournalEntry.State.PREPARED,
            JournalEntry.State.PREPARED,
            JournalEntry.State.RECORDED,
            JournalEntry.State.RECORDED,
            JournalEntry.State.RECORDED);
    assertThat(lastCommittedOffset()).isEqualTo(3);
    assertThat(meters.counter("txgw.payouts", "chain", "ETH", "status", "BROADCAST").count())
        .isEqualTo(3);
    assertThat(meters.counter("txgw.records.consumed", "partition", "0").count()).isEqualTo(3);
  }

  @Test
  void aLongBacklogGoesInRoundsEachRecordedBeforeTheNextIsPrepared() {
    sender.unitsPerRound = 2;
    consumer.schedulePollTask(() -> assignAndDeliver("p0", "p1", "p2"));
    consumer.schedulePollTask(processor::stop);
    processor.run();

    assertThat(committed(Topics.JOURNAL))
        .extracting(r -> ((JournalEntry) r.value()).state())
        .containsExactly(
            JournalEntry.State.PREPARED, JournalEntry.State.PREPARED,
            JournalEntry.State.RECORDED, JournalEntry.State.RECORDED,
            JournalEntry.State.PREPARED, JournalEntry.State.RECORDED);
    assertThat(producer.consumerGroupOffsetsHistory())
        .extracting(h -> h.values().iterator().next().get(P0).offset())
        .containsExactly(0L, 2L, 2L, 3L);
  }

  @Test
  void aUnitJournaledButNotRecordedIsReBroadcastFromItsBytesAndNeverPreparedAgain() {
    journalBefore.add(prepared("p0", 7));
    consumer.schedulePollTask(() -> assignAndDeliver("p0", "p1"));
    consumer.schedulePollTask(() -> deliver(0, "p0", "p1"));
    consumer.schedulePollTask(processor::stop);
    processor.run();

    assertThat(sender.prepared).containsExactly("p1");
    assertThat(sender.broadcast).containsExactly("raw-p0", "raw-p1");
    assertThat(results()).extracting(PayoutResult::payoutId).containsExactly("p0", "p1");
  }

  @Test
  void aPayoutAlreadyInTheJournalIsNotPaidAgainWhenPostedOnceMore() {
    JournalEntry done = prepared("p0", 1);
    journalBefore.add(done.withState(JournalEntry.State.RECORDED, done.payouts(), Instant.EPOCH));
    consumer.schedulePollTask(() -> assignAndDeliver("p0", "p0", "p1"));
    consumer.schedulePollTask(processor::stop);
    processor.run();

    assertThat(sender.prepared).containsExactly("p1");
    assertThat(results()).extracting(PayoutResult::payoutId).containsExactly("p1");
    assertThat(lastCommittedOffset()).isEqualTo(3);
  }

  @Test
  void aPayoutWhoseNodeIsUnavailableIsNotRecordedAndIsReadAgainAfterAPause() {
    sender.unavailableOnce.add("p1");
    consumer.schedulePollTask(() -> assignAndDeliver("p0", "p1"));
    consumer.schedulePollTask(
        () -> {
          assertThat(consumer.paused()).containsExactly(P0);
          assertThat(lastCommittedOffset()).isEqualTo(1);
          clock.now = clock.now.plus(Duration.ofSeconds(3));
        });
    consumer.schedulePollTask(() -> deliver(1, "p1"));
    consumer.schedulePollTask(processor::stop);
    processor.run();

    assertThat(sender.prepared).containsExactly("p0", "p1");
    assertThat(results()).extracting(PayoutResult::payoutId).containsExactly("p0", "p1");
    assertThat(lastCommittedOffset()).isEqualTo(2);
  }

  @Test
  void aPrepareStoppedMidRoundLeavesEveryUnpreparedPayoutOfEveryAccountToBeReadAgain() {
    // Issue scenario 1: X@0, Y@1, X@2 are planned by account (x0, x2, y1); the node throttles the
    // signing of x2, so y1 is never prepared either. The offset must stay below y1.
    sender.unavailableOnce.add("x2");
    consumer.schedulePollTask(
        () -> {
          consumer.rebalance(List.of(P0));
          consumer.updateBeginningOffsets(Map.of(P0, 0L));
          consumer.addRecord(record(0, "x0", SOURCE));
          consumer.addRecord(record(1, "y1", OTHER));
          consumer.addRecord(record(2, "x2", SOURCE));
        });
    consumer.schedulePollTask(
        () -> {
          assertThat(lastCommittedOffset()).isEqualTo(1);
          clock.now = clock.now.plus(Duration.ofSeconds(3));
        });
    consumer.schedulePollTask(
        () -> {
          consumer.addRecord(record(1, "y1", OTHER));
          consumer.addRecord(record(2, "x2", SOURCE));
        });
    consumer.schedulePollTask(processor::stop);
    processor.run();

    assertThat(results())
        .extracting(PayoutResult::payoutId)
        .containsExactlyInAnyOrder("x0", "y1", "x2");
    assertThat(lastCommittedOffset()).isEqualTo(3);
  }

  @Test
  void anAbandonedUnitFoundOnRecoveryMovesTheOffsetBackAndItsPayoutIsPreparedAnew() {
    // Issue scenario 2: units left journaled while the offset moved past them; on recovery one can
    // never be mined. Its payout must be read and prepared again, not dropped.
    journalBefore.add(prepared("p1", 4, 1L));
    sender.conflictOnce.add("p1");
    consumer.schedulePollTask(
        () -> {
          consumer.rebalance(List.of(P0));
          consumer.updateBeginningOffsets(Map.of(P0, 0L));
          consumer.commitSync(Map.of(P0, new OffsetAndMetadata(3)));
          consumer.seek(P0, 3);
        });
    consumer.schedulePollTask(
        () -> {
          assertThat(lastCommittedOffset()).isEqualTo(1);
          assertThat(consumer.position(P0)).isEqualTo(1);
          deliver(1, "p1", "p2");
        });
    consumer.schedulePollTask(processor::stop);
    processor.run();

    assertThat(sender.prepared).containsExactly("p1", "p2");
    assertThat(results())
        .extracting(PayoutResult::payoutId, PayoutResult::status)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("p1", PayoutStatus.BROADCAST),
            org.assertj.core.groups.Tuple.tuple("p2", PayoutStatus.BROADCAST));
    assertThat(lastCommittedOffset()).isEqualTo(3);
  }

  @Test
  void aUnitWhoseLookUpFailsIsNeitherRecordedNorDroppedAndIsSettledLater() {
    // Issue scenario 3: the node took the transaction, the look-up after it did not answer.
    sender.unavailableAtBroadcastOnce.add("p0");
    consumer.schedulePollTask(() -> assignAndDeliver("p0", "p1"));
    consumer.schedulePollTask(
        () -> {
          assertThat(results()).isEmpty();
          assertThat(lastCommittedOffset()).isEqualTo(2);
          clock.now = clock.now.plus(Duration.ofSeconds(3));
        });
    consumer.schedulePollTask(() -> {});
    consumer.schedulePollTask(processor::stop);
    processor.run();

    assertThat(sender.prepared).containsExactly("p0", "p1");
    assertThat(sender.broadcast).containsExactly("raw-p0", "raw-p0", "raw-p1");
    assertThat(results())
        .extracting(PayoutResult::payoutId, PayoutResult::status)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("p0", PayoutStatus.BROADCAST),
            org.assertj.core.groups.Tuple.tuple("p1", PayoutStatus.BROADCAST));
  }

  @Test
  void aTransactionThatCanNeverBeMinedIsAbandonedAndItsPayoutPaidAnew() {
    sender.conflictOnce.add("p0");
    consumer.schedulePollTask(() -> assignAndDeliver("p0"));
    consumer.schedulePollTask(() -> deliver(0, "p0"));
    consumer.schedulePollTask(processor::stop);
    processor.run();

    assertThat(sender.prepared).containsExactly("p0", "p0");
    assertThat(results())
        .extracting(PayoutResult::payoutId, PayoutResult::status)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("p0", PayoutStatus.BROADCAST));
    assertThat(lastCommittedOffset()).isEqualTo(1);
  }

  @Test
  void aTransactionTheNodeCannotMineYetIsNotReportedAndTheSameBytesAreSentAgainLater() {
    sender.waitOnce.add("p1");
    consumer.schedulePollTask(() -> assignAndDeliver("p0", "p1", "p2"));
    consumer.schedulePollTask(
        () -> {
          assertThat(consumer.paused()).containsExactly(P0);
          assertThat(results()).extracting(PayoutResult::payoutId).containsExactly("p0", "p2");
          assertThat(sender.forgotten).as("nonces are asked again").containsOnly(SOURCE);
          clock.now = clock.now.plus(Duration.ofSeconds(3));
        });
    consumer.schedulePollTask(() -> {});
    consumer.schedulePollTask(processor::stop);
    processor.run();

    // p1 stays journaled, is never signed again, and is reported once the chain has it; p2, sent
    // behind it, is not held back by it.
    assertThat(sender.prepared).containsExactly("p0", "p1", "p2");
    assertThat(sender.broadcast).containsExactly("raw-p0", "raw-p1", "raw-p2", "raw-p1");
    assertThat(results())
        .extracting(PayoutResult::payoutId, PayoutResult::status)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("p0", PayoutStatus.BROADCAST),
            org.assertj.core.groups.Tuple.tuple("p2", PayoutStatus.BROADCAST),
            org.assertj.core.groups.Tuple.tuple("p1", PayoutStatus.BROADCAST));
  }

  @Test
  void anUnreadableRecordGoesToTheDeadLetterTopicAndTheNextPayoutIsPaid() {
    consumer.schedulePollTask(
        () -> {
          consumer.rebalance(List.of(P0));
          consumer.updateBeginningOffsets(Map.of(P0, 0L));
          consumer.addRecord(
              new ConsumerRecord<>(
                  Topics.SENDTO, 0, 0, "k", "{not json".getBytes(StandardCharsets.UTF_8)));
          deliver(1, "p1");
        });
    consumer.schedulePollTask(processor::stop);
    processor.run();

    assertThat(committed(Topics.SENDTO_DEAD_LETTER))
        .singleElement()
        .satisfies(r -> assertThat(r.value()).isEqualTo("{not json"));
    assertThat(sender.broadcast).containsExactly("raw-p1");
    assertThat(lastCommittedOffset()).isEqualTo(2);
  }

  @Test
  void aRecordNoGatewaySealedGoesToTheDeadLetterTopicUnpaidAndWithoutAResult() {
    ConsumerRecord<String, byte[]> forged = record(0, "p0");
    forged.headers().remove(io.txgw.common.security.RecordSeal.HEADER);
    forged
        .headers()
        .add(
            io.txgw.common.security.RecordSeal.HEADER,
            TestTrust.FORGER.seal(forged.key(), forged.value()));
    consumer.schedulePollTask(
        () -> {
          consumer.rebalance(List.of(P0));
          consumer.updateBeginningOffsets(Map.of(P0, 0L));
          consumer.addRecord(forged);
          deliver(1, "p1");
        });
    consumer.schedulePollTask(processor::stop);
    processor.run();

    assertThat(committed(Topics.SENDTO_DEAD_LETTER)).hasSize(1);
    assertThat(sender.prepared).containsExactly("p1");
    assertThat(results()).extracting(PayoutResult::payoutId).containsExactly("p1");
    assertThat(lastCommittedOffset()).isEqualTo(2);
  }

  @Test
  void aSealedPayoutFromASourceItsClientMayNotSpendFromIsRecordedFailedAndNeverSigned() {
    String stranger = "0x0000000000000000000000000000000000001234";
    consumer.schedulePollTask(
        () -> {
          consumer.rebalance(List.of(P0));
          consumer.updateBeginningOffsets(Map.of(P0, 0L));
          consumer.addRecord(record(0, "p0", stranger));
          deliver(1, "p1");
        });
    consumer.schedulePollTask(processor::stop);
    processor.run();

    assertThat(sender.prepared).containsExactly("p1");
    assertThat(results())
        .extracting(PayoutResult::payoutId, PayoutResult::status)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("p0", PayoutStatus.FAILED),
            org.assertj.core.groups.Tuple.tuple("p1", PayoutStatus.BROADCAST));
    assertThat(
            results().stream()
                .filter(r -> r.payoutId().equals("p0"))
                .findFirst()
                .orElseThrow()
                .error())
        .startsWith("not-permitted: client acme may not spend from ETH:" + stranger);
    assertThat(lastCommittedOffset()).isEqualTo(2);
  }

  @Test
  void aRecordSealedByAnAnnouncedKeyThisConsumerDoesNotHoldYetWaitsUnpaidAndUnpassed() {
    ConsumerRecord<String, byte[]> later = record(1, "p1");
    later.headers().remove(io.txgw.common.security.RecordSeal.HEADER);
    io.txgw.common.security.RecordSeal rotated =
        io.txgw.common.security.RecordSeal.parse(
            new io.txgw.common.config.Secret(io.txgw.common.security.RecordSeal.generate("next")));
    later
        .headers()
        .add(io.txgw.common.security.RecordSeal.HEADER, rotated.seal(later.key(), later.value()));
    consumer.schedulePollTask(
        () -> {
          consumer.rebalance(List.of(P0));
          consumer.updateBeginningOffsets(Map.of(P0, 0L));
          consumer.addRecord(record(0, "p0"));
          consumer.addRecord(later);
          consumer.addRecord(record(2, "p2"));
        });
    consumer.schedulePollTask(processor::stop);
    processor.run();

    // p0 before it is paid; p1 and everything after it wait for the key ("next" is announced).
    assertThat(sender.prepared).containsExactly("p0");
    assertThat(committed(Topics.SENDTO_DEAD_LETTER)).isEmpty();
    assertThat(lastCommittedOffset()).isEqualTo(1);
    assertThat(consumer.position(P0)).isEqualTo(1);
  }
}
