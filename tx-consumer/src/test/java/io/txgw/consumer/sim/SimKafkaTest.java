package io.txgw.consumer.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txgw.common.kafka.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;

class SimKafkaTest {
  private static final TopicPartition P0 = new TopicPartition(Topics.SENDTO, 0);
  private static final TopicPartition P1 = new TopicPartition(Topics.SENDTO, 1);

  private final SimKafka kafka = new SimKafka(2);
  private final Random random = new Random(7);

  /**
   * Records each callback as "revoked [..]", "assigned [..]" or "lost [..]" of partition numbers.
   */
  static final class Events implements ConsumerRebalanceListener {
    final List<String> seen = new ArrayList<>();

    private static List<Integer> numbers(Collection<TopicPartition> partitions) {
      return partitions.stream().map(TopicPartition::partition).toList();
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      seen.add("revoked " + numbers(partitions));
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      seen.add("assigned " + numbers(partitions));
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      seen.add("lost " + numbers(partitions));
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static List<Object> values(List<SimRecord> records) {
    return records.stream().map(SimRecord::value).toList();
  }

  private static List<String> strings(ConsumerRecords<String, byte[]> records) {
    List<String> out = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> r : records) {
      out.add(new String(r.value(), StandardCharsets.UTF_8));
    }
    return out;
  }

  private SimProducer producer(String transactionalId) {
    SimProducer p = kafka.newProducer(transactionalId);
    p.initTransactions();
    return p;
  }

  /** A member that owns both partitions of a fresh group, having polled once since. */
  private SimConsumer soleMember(Events events) {
    SimConsumer c = kafka.newConsumer("m1");
    c.subscribe(List.of(Topics.SENDTO), events);
    kafka.rebalance(random);
    c.poll(Duration.ZERO);
    return c;
  }

  private static ProducerRecord<String, Object> journal(int partition, String value) {
    return new ProducerRecord<>(Topics.JOURNAL, partition, "k", value);
  }

  @Test
  void aCommittedTransactionIsVisibleAndAnAbortedOneIsNot() {
    SimProducer p = producer("t1");
    p.beginTransaction();
    p.send(journal(0, "kept"));
    p.commitTransaction();
    p.beginTransaction();
    p.send(journal(0, "dropped"));
    p.abortTransaction();

    assertThat(values(kafka.committed(Topics.JOURNAL, 0))).containsExactly("kept");
    assertThat(kafka.log(Topics.JOURNAL, 0))
        .extracting(SimRecord::offset, SimRecord::state)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(0L, SimRecord.State.COMMITTED),
            org.assertj.core.groups.Tuple.tuple(1L, SimRecord.State.ABORTED));
    assertThat(kafka.hasOpenTransaction(Topics.JOURNAL, 0)).isFalse();
  }

  @Test
  void aReadStopsAtAnOpenTransactionUntilItEnds() {
    SimConsumer c = soleMember(new Events());
    kafka.append(Topics.SENDTO, 0, "k", bytes("a"));
    SimProducer p = producer("t1");
    p.beginTransaction();
    p.send(new ProducerRecord<>(Topics.SENDTO, 0, "k", bytes("open")));
    kafka.append(Topics.SENDTO, 0, "k", bytes("after"));

    assertThat(strings(c.poll(Duration.ZERO))).containsExactly("a");
    assertThat(c.position(P0)).isEqualTo(1);
    assertThat(kafka.committed(Topics.SENDTO, 0)).hasSize(1);
    assertThat(kafka.hasOpenTransaction(Topics.SENDTO, 0)).isTrue();

    p.abortTransaction();
    assertThat(strings(c.poll(Duration.ZERO))).containsExactly("after");
    assertThat(c.position(P0)).isEqualTo(3);
  }

  @Test
  void aPollReturnsAtMostMaxPollRecordsAndTakesPartitionsInTurn() {
    SimConsumer c = soleMember(new Events()).maxPollRecords(2);
    for (int i = 0; i < 3; i++) {
      kafka.append(Topics.SENDTO, 0, "k", bytes("p0-" + i));
      kafka.append(Topics.SENDTO, 1, "k", bytes("p1-" + i));
    }

    // The poll that took the partitions moved the turn on to partition 1.
    assertThat(strings(c.poll(Duration.ZERO))).containsExactly("p1-0", "p1-1");
    assertThat(strings(c.poll(Duration.ZERO))).containsExactly("p0-0", "p0-1");
    assertThat(strings(c.poll(Duration.ZERO))).containsExactly("p1-2", "p0-2");
  }

  @Test
  void aProducerOfAStaleGenerationCannotCommitOffsetsOrRecords() {
    SimConsumer c = soleMember(new Events());
    SimProducer p = producer("t1");
    var stale = c.groupMetadata();
    kafka.rebalance(random);

    p.beginTransaction();
    p.send(journal(0, "zombie"));

    assertThatThrownBy(
            () -> p.sendOffsetsToTransaction(Map.of(P0, new OffsetAndMetadata(5)), stale))
        .isInstanceOf(CommitFailedException.class);
    assertThatThrownBy(p::commitTransaction)
        .isInstanceOf(KafkaException.class)
        .hasCauseInstanceOf(CommitFailedException.class);
    p.abortTransaction();
    assertThat(kafka.log(Topics.JOURNAL, 0))
        .extracting(SimRecord::state)
        .containsExactly(SimRecord.State.ABORTED);
    assertThat(kafka.groupOffsets()).isEmpty();

    // Having polled, the member knows the new generation and commits again.
    c.poll(Duration.ZERO);
    p.beginTransaction();
    p.sendOffsetsToTransaction(Map.of(P0, new OffsetAndMetadata(5)), c.groupMetadata());
    p.commitTransaction();
    assertThat(kafka.groupOffsets()).containsExactly(Map.entry(P0, 5L));
  }

  @Test
  void aMemberCannotCommitOffsetsOfAPartitionItDoesNotOwn() {
    Events events = new Events();
    SimConsumer a = kafka.newConsumer("a");
    SimConsumer b = kafka.newConsumer("b");
    a.subscribe(List.of(Topics.SENDTO), events);
    b.subscribe(List.of(Topics.SENDTO), new Events());
    kafka.rebalance(random);
    a.poll(Duration.ZERO);
    TopicPartition other = a.assignment().contains(P0) ? P1 : P0;

    SimProducer p = producer("t-a");
    p.beginTransaction();

    assertThatThrownBy(
            () ->
                p.sendOffsetsToTransaction(
                    Map.of(other, new OffsetAndMetadata(1)), a.groupMetadata()))
        .isInstanceOf(CommitFailedException.class)
        .hasMessageContaining("does not own");
  }

  @Test
  void offsetsAcceptedBeforeARebalanceCommitAfterItAndHoldTheStableOffsetMeanwhile() {
    SimConsumer c = soleMember(new Events());
    SimProducer p = producer("t1");
    List<Boolean> openWhileFrozen = new ArrayList<>();
    kafka.pauseBeforeNext(
        SimKafka.Call.COMMIT,
        () -> {
          kafka.expire(c);
          kafka.rebalance(random);
          openWhileFrozen.add(kafka.hasOpenTransaction(Topics.JOURNAL, 0));
        });

    p.beginTransaction();
    p.send(journal(0, "late"));
    p.sendOffsetsToTransaction(Map.of(P0, new OffsetAndMetadata(1)), c.groupMetadata());
    p.commitTransaction();

    assertThat(openWhileFrozen).containsExactly(true);
    assertThat(values(kafka.committed(Topics.JOURNAL, 0))).containsExactly("late");
    assertThat(kafka.groupOffsets()).containsExactly(Map.entry(P0, 1L));
  }

  @Test
  void aMemberFrozenBeforeItsOffsetsAreCheckedIsRefusedAfterARebalance() {
    SimConsumer c = soleMember(new Events());
    SimProducer p = producer("t1");
    kafka.pauseBeforeNext(SimKafka.Call.SEND_OFFSETS, () -> kafka.rebalance(random));

    p.beginTransaction();
    p.send(journal(0, "early"));

    assertThatThrownBy(
            () ->
                p.sendOffsetsToTransaction(Map.of(P0, new OffsetAndMetadata(1)), c.groupMetadata()))
        .isInstanceOf(CommitFailedException.class);
  }

  @Test
  void aProducerFencedWhileFrozenBeforeItsCommitCannotCommit() {
    SimProducer p = producer("t1");
    kafka.pauseBeforeNext(SimKafka.Call.COMMIT, () -> producer("t1"));
    p.beginTransaction();
    p.send(journal(0, "zombie"));

    assertThatThrownBy(p::commitTransaction).isInstanceOf(ProducerFencedException.class);
    assertThat(kafka.log(Topics.JOURNAL, 0))
        .extracting(SimRecord::state)
        .containsExactly(SimRecord.State.ABORTED);
  }

  @Test
  void aNewerProducerWithTheSameTransactionalIdFencesTheOlder() {
    SimProducer older = producer("t1");
    older.beginTransaction();
    older.send(journal(0, "half-written"));

    SimProducer newer = producer("t1");

    assertThat(kafka.log(Topics.JOURNAL, 0))
        .extracting(SimRecord::state)
        .containsExactly(SimRecord.State.ABORTED);
    assertThat(older.isFenced()).isTrue();
    assertThatThrownBy(() -> older.send(journal(0, "late")))
        .isInstanceOf(ProducerFencedException.class);
    assertThatThrownBy(older::commitTransaction).isInstanceOf(ProducerFencedException.class);
    assertThatThrownBy(older::abortTransaction).isInstanceOf(ProducerFencedException.class);
    newer.beginTransaction();
    newer.send(journal(0, "fresh"));
    newer.commitTransaction();
    assertThat(values(kafka.committed(Topics.JOURNAL, 0))).containsExactly("fresh");
  }

  @Test
  void aRebalanceRunsRevokedThenAssignedCallbacksInsideTheNextPoll() {
    Events events = new Events();
    SimConsumer a = soleMember(events);
    assertThat(events.seen).containsExactly("assigned [0, 1]");
    SimConsumer b = kafka.newConsumer("b");
    b.subscribe(List.of(Topics.SENDTO), new Events());

    kafka.rebalance(random);
    assertThat(events.seen).hasSize(1);
    assertThat(a.assignment()).containsExactly(P0, P1);

    a.poll(Duration.ZERO);
    List<Integer> mine =
        kafka.assignments().get(a.memberId()).stream().map(TopicPartition::partition).toList();
    assertThat(events.seen)
        .containsExactly("assigned [0, 1]", "revoked [0, 1]", "assigned " + mine);
    assertThat(a.groupMetadata().generationId()).isEqualTo(kafka.generation());
  }

  @Test
  void anExpiredMemberGetsOnPartitionsLostAtItsNextPollAndRejoins() {
    Events events = new Events();
    SimConsumer c = soleMember(events);
    SimProducer p = producer("t1");
    kafka.expire(c);

    p.beginTransaction();
    assertThatThrownBy(
            () ->
                p.sendOffsetsToTransaction(Map.of(P0, new OffsetAndMetadata(1)), c.groupMetadata()))
        .isInstanceOf(CommitFailedException.class)
        .hasMessageContaining("not in the group");
    p.abortTransaction();

    c.poll(Duration.ZERO);
    assertThat(events.seen).containsExactly("assigned [0, 1]", "lost [0, 1]");
    assertThat(c.assignment()).isEmpty();
    assertThat(kafka.liveMembers()).containsExactly(c);

    kafka.rebalance(random);
    c.poll(Duration.ZERO);
    assertThat(events.seen).last().isEqualTo("assigned [0, 1]");
  }

  @Test
  void positionsStartAtTheGroupsCommittedOffset() {
    Events events = new Events();
    SimConsumer first = soleMember(events);
    for (int i = 0; i < 4; i++) {
      kafka.append(Topics.SENDTO, 0, "k", bytes("r" + i));
    }
    SimProducer p = producer("t1");
    p.beginTransaction();
    p.sendOffsetsToTransaction(Map.of(P0, new OffsetAndMetadata(3)), first.groupMetadata());
    p.commitTransaction();
    first.close();

    SimConsumer next = kafka.newConsumer("m2");
    next.subscribe(List.of(Topics.SENDTO), new Events());
    kafka.rebalance(random);

    assertThat(strings(next.poll(Duration.ZERO))).containsExactly("r3");
    assertThat(next.position(P1)).isZero();
    assertThat(events.seen).last().isEqualTo("revoked [0, 1]");
  }

  @Test
  void aCommitWhoseAnswerWasLostIsCommitted() {
    SimConsumer c = soleMember(new Events());
    SimProducer p = producer("t1");
    kafka.failNextCommit(new TimeoutException("no answer"), true);

    p.beginTransaction();
    p.send(journal(0, "done"));
    p.sendOffsetsToTransaction(Map.of(P0, new OffsetAndMetadata(1)), c.groupMetadata());
    assertThatThrownBy(p::commitTransaction).isInstanceOf(TimeoutException.class);
    p.abortTransaction();

    assertThat(values(kafka.committed(Topics.JOURNAL, 0))).containsExactly("done");
    assertThat(kafka.groupOffsets()).containsExactly(Map.entry(P0, 1L));
  }

  @Test
  void aCommitThatFailedUnappliedStaysOpenUntilAborted() {
    SimProducer p = producer("t1");
    kafka.failNextCommit(new KafkaException("coordinator moved"), false);
    p.beginTransaction();
    p.send(journal(0, "lost"));

    assertThatThrownBy(p::commitTransaction).isInstanceOf(KafkaException.class);
    assertThat(kafka.hasOpenTransaction(Topics.JOURNAL, 0)).isTrue();
    assertThatThrownBy(p::beginTransaction).isInstanceOf(KafkaException.class);
    p.abortTransaction();
    assertThat(kafka.log(Topics.JOURNAL, 0))
        .extracting(SimRecord::state)
        .containsExactly(SimRecord.State.ABORTED);
  }

  @Test
  void underStrictTimeoutsATimedOutCommitMustBeRetried() {
    kafka.strictCommitTimeouts(true);
    SimProducer p = producer("t1");
    kafka.failNextCommit(new TimeoutException("no answer"), false);
    p.beginTransaction();
    p.send(journal(0, "retried"));
    assertThatThrownBy(p::commitTransaction).isInstanceOf(TimeoutException.class);

    assertThatThrownBy(p::abortTransaction)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("must be retried");
    assertThatThrownBy(p::beginTransaction).isInstanceOf(IllegalStateException.class);
    p.commitTransaction();
    assertThat(values(kafka.committed(Topics.JOURNAL, 0))).containsExactly("retried");
    p.beginTransaction();
  }

  @Test
  void aFailedSendLeavesATransactionThatCanOnlyBeAborted() {
    SimProducer p = producer("t1");
    p.beginTransaction();
    p.send(journal(0, "before"));
    kafka.failNextSend(new KafkaException("broker down"));
    var failed = p.send(journal(0, "failed"));

    assertThatThrownBy(failed::get).isInstanceOf(ExecutionException.class);
    assertThatThrownBy(() -> p.send(journal(0, "after")))
        .isInstanceOf(KafkaException.class)
        .hasMessageContaining("error state");
    assertThatThrownBy(p::commitTransaction).isInstanceOf(KafkaException.class);
    p.abortTransaction();
    assertThat(kafka.log(Topics.JOURNAL, 0))
        .extracting(SimRecord::state)
        .containsExactly(SimRecord.State.ABORTED);
  }

  @Test
  void aTransactionTheCoordinatorTimedOutIsAbortedAndTheProducerMayBeginAgain() {
    SimProducer p = producer("t1");
    p.beginTransaction();
    p.send(journal(0, "stalled"));

    assertThat(kafka.timeOutTransactions()).isEqualTo(1);
    assertThat(kafka.hasOpenTransaction(Topics.JOURNAL, 0)).isFalse();
    assertThatThrownBy(p::commitTransaction).isInstanceOf(InvalidProducerEpochException.class);
    p.abortTransaction();
    p.beginTransaction();
    p.send(journal(0, "again"));
    p.commitTransaction();
    assertThat(values(kafka.committed(Topics.JOURNAL, 0))).containsExactly("again");
  }

  @Test
  void underTransactionProtocolTwoATimedOutTransactionLeavesItsProducerUsableByNoCall() {
    kafka.fatalTimeouts(true);
    SimProducer failed = producer("t1");
    failed.beginTransaction();
    failed.send(journal(0, "stalled"));
    SimProducer fenced = producer("t2");
    fenced.beginTransaction();
    fenced.send(journal(1, "stalled"));

    assertThat(kafka.timeOutTransactions()).isEqualTo(2);
    assertThat(kafka.hasOpenTransaction(Topics.JOURNAL, 0)).isFalse();
    assertThatThrownBy(failed::commitTransaction)
        .isInstanceOf(org.apache.kafka.common.errors.InvalidTxnStateException.class);
    assertThatThrownBy(failed::abortTransaction)
        .isInstanceOf(KafkaException.class)
        .hasMessageContaining("error state");
    assertThatThrownBy(failed::beginTransaction).hasMessageContaining("error state");
    assertThatThrownBy(fenced::abortTransaction).isInstanceOf(ProducerFencedException.class);
    assertThatThrownBy(fenced::beginTransaction).isInstanceOf(ProducerFencedException.class);

    // A new producer with the same id goes on.
    SimProducer next = producer("t1");
    next.beginTransaction();
    next.send(journal(0, "again"));
    next.commitTransaction();
    assertThat(values(kafka.committed(Topics.JOURNAL, 0))).containsExactly("again");
  }

  @Test
  void failuresArmedForBeginAndCommittedReadsHappenOnce() {
    SimConsumer c = soleMember(new Events());
    SimProducer p = producer("t1");
    kafka.failNextBegin(new TimeoutException("begin"));
    kafka.failNextCommittedRead(new TimeoutException("offsets"));

    assertThatThrownBy(p::beginTransaction).hasMessage("begin");
    assertThatThrownBy(() -> c.committed(Set.of(P0))).hasMessage("offsets");
    p.beginTransaction();
    assertThat(c.committed(Set.of(P0))).isEmpty();
  }

  @Test
  void aKeyedRecordGoesToThePartitionKafkasDefaultPartitionerPicks() {
    SimProducer p = producer("t1");
    p.beginTransaction();
    p.send(new ProducerRecord<>(Topics.RESULTS, "acme/p1", "r"));
    p.commitTransaction();

    int expected = Utils.toPositive(Utils.murmur2(bytes("acme/p1"))) % 2;
    assertThat(values(kafka.committed(Topics.RESULTS, expected))).containsExactly("r");
  }

  @Test
  void theSameSeedDealsTheSamePartitions() {
    List<Map<String, List<TopicPartition>>> deals = new ArrayList<>();
    for (int run = 0; run < 2; run++) {
      SimKafka k = new SimKafka(6);
      for (String m : List.of("a", "b", "c")) {
        k.newConsumer(m).subscribe(List.of(Topics.SENDTO));
      }
      k.rebalance(new Random(42));
      deals.add(k.assignments());
    }
    assertThat(deals.get(0)).isEqualTo(deals.get(1));
    assertThat(deals.get(0).values()).allSatisfy(ps -> assertThat(ps).hasSize(2));
  }
}
