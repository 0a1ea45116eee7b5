package io.txgw.consumer.sim;

import io.txgw.common.kafka.Topics;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.common.TopicPartition;

/**
 * An in-memory Kafka broker and the consumer group {@code txgw}, for a seeded, single-threaded
 * fault simulation of the exactly-once loop. Nothing here waits or reads a clock: time passes only
 * when the driver says so, by calling {@link #rebalance}, {@link #expire}, {@link #kill} or {@link
 * #timeOutTransaction}.
 *
 * <p>What it models of a real cluster:
 *
 * <ul>
 *   <li>Topics {@code sendto}, {@code journal}, {@code results} with the same partition count and a
 *       one-partition {@code sendto-dlq}; logs are never compacted or truncated, so nothing
 *       committed is ever lost.
 *   <li>Transactions and read_committed reads: a transaction's records are {@link
 *       SimRecord.State#OPEN} until it ends, and a reader stops at the first open one (the last
 *       stable offset).
 *   <li>The consumer group and its rebalances, in {@link SimGroup}: eager, generation-numbered,
 *       with callbacks run inside each member's next {@code poll}.
 *   <li>Zombie fencing: offsets are accepted into a transaction only from a live member of the
 *       current generation owning those partitions, checked when they are sent (KIP-447); a
 *       producer is fenced by a newer one with its transactional id.
 *   <li>Faults, each armed once by the driver and consumed by the next call it applies to that
 *       would otherwise have succeeded: {@link #failNextCommit}, {@link #failNextSend}, {@link
 *       #failNextBegin}, {@link #failNextCommittedRead}; and {@link #pauseBeforeNext}, a process
 *       frozen inside a transaction while the world moves on.
 * </ul>
 */
public final class SimKafka {
  private final int partitions;
  private final Map<String, List<PartitionLog>> topics = new LinkedHashMap<>();
  private final SimGroup group;

  /** The producer each transactional id belongs to now; any older one is fenced. */
  private final Map<String, SimProducer> owners = new HashMap<>();

  private final List<SimProducer> producers = new ArrayList<>();
  private long nextProducerId = 1;
  private boolean strictCommitTimeouts;
  private boolean fatalTimeouts;
  private int fatalTimeoutsSeen;

  private CommitFault commitFault;
  private int commitFaultsLeft;
  private RuntimeException sendFault;
  private RuntimeException beginFault;
  private RuntimeException committedReadFault;
  private final Map<Call, Runnable> pauses = new EnumMap<>(Call.class);

  /** Points inside a producer's transaction where {@link #pauseBeforeNext} can freeze it. */
  public enum Call {
    /** Its records are on the broker; its offsets are not yet checked against the group. */
    SEND_OFFSETS,
    /** Its offsets passed the check; the transaction is not yet committed. */
    COMMIT
  }

  /**
   * An armed commit failure; {@code applied} if the broker committed before the answer was lost.
   */
  record CommitFault(RuntimeException error, boolean applied) {}

  public SimKafka(int partitions) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions: " + partitions);
    }
    this.partitions = partitions;
    createTopic(Topics.SENDTO, partitions);
    createTopic(Topics.JOURNAL, partitions);
    createTopic(Topics.RESULTS, partitions);
    createTopic(Topics.SENDTO_DEAD_LETTER, 1);
    List<TopicPartition> sendto = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      sendto.add(new TopicPartition(Topics.SENDTO, p));
    }
    this.group = new SimGroup(sendto);
  }

  private void createTopic(String name, int count) {
    List<PartitionLog> logs = new ArrayList<>();
    for (int p = 0; p < count; p++) {
      logs.add(new PartitionLog(new TopicPartition(name, p)));
    }
    topics.put(name, logs);
  }

  /** The partition count of {@code sendto}, {@code journal} and {@code results}. */
  public int partitions() {
    return partitions;
  }

  public int partitions(String topic) {
    return logs(topic).size();
  }

  /**
   * A committed write outside any transaction, as the gateway writes payouts; {@code sendto} values
   * must be the record's bytes ({@code byte[]}) or bytes with their seal ({@link SealedValue}).
   */
  public void append(String topic, int partition, String key, Object value) {
    if (Topics.SENDTO.equals(topic)
        && value != null
        && !(value instanceof byte[])
        && !(value instanceof SealedValue)) {
      throw new IllegalArgumentException("sendto values are bytes, not " + value.getClass());
    }
    log(new TopicPartition(topic, partition))
        .append(key, value, SimRecord.NO_PRODUCER, SimRecord.State.COMMITTED);
  }

  /**
   * What a read_committed reader of the partition sees now, in offset order: committed records
   * below the last stable offset. Records committed after a still open transaction are not in it
   * until that transaction ends (see {@link #timeOutTransactions()} to end them all).
   */
  public List<SimRecord> committed(String topic, int partition) {
    return log(new TopicPartition(topic, partition)).committed();
  }

  /** {@link #committed(String, int)} of every partition, partition by partition. */
  public List<SimRecord> committed(String topic) {
    List<SimRecord> all = new ArrayList<>();
    logs(topic).forEach(l -> all.addAll(l.committed()));
    return all;
  }

  /** Every record of the partition whatever its state, to explain a failed run. */
  public List<SimRecord> log(String topic, int partition) {
    return log(new TopicPartition(topic, partition)).all();
  }

  public boolean hasOpenTransaction(String topic, int partition) {
    return log(new TopicPartition(topic, partition)).hasOpen();
  }

  /**
   * Committed offsets of group {@code txgw}, by partition; a partition never committed is absent.
   */
  public Map<TopicPartition, Long> groupOffsets() {
    return group.offsets();
  }

  public int generation() {
    return group.generation();
  }

  /** Who owns which {@code sendto} partition in the current generation, by member id. */
  public Map<String, List<TopicPartition>> assignments() {
    return group.assignments();
  }

  /** Members the next {@link #rebalance} deals partitions to. */
  public List<SimConsumer> liveMembers() {
    return group.liveMembers();
  }

  public SimConsumer newConsumer(String memberId) {
    return new SimConsumer(this, memberId);
  }

  /**
   * Completes a rebalance: a new generation in which every {@code sendto} partition is dealt to the
   * live members, the deal drawn from {@code random}. Each member learns of it, and its rebalance
   * callbacks run, in its next poll.
   */
  public void rebalance(Random random) {
    group.rebalance(random);
  }

  /**
   * The member's session expired, as it does for a frozen process: it leaves the group without
   * knowing, so its commits fail from now on. Its next poll runs {@code onPartitionsLost} and
   * rejoins; it is dealt partitions again at the rebalance after that.
   */
  public void expire(SimConsumer member) {
    group.expire(member.memberId());
  }

  /**
   * The member's process crashed: it leaves the group for good and runs no callback. Its producer
   * is untouched, so the driver may keep using it as a zombie.
   */
  public void kill(SimConsumer member) {
    member.killed();
    group.leave(member.memberId());
  }

  /**
   * True while an open transaction holds offsets for {@code tp} that are not committed yet: a
   * consumer asking for the committed offset with require_stable (KIP-447, what read_committed
   * consumers do) gets UNSTABLE_OFFSET_COMMIT and retries until that transaction ends.
   */
  boolean offsetsUnstable(TopicPartition tp) {
    return producers.stream().anyMatch(p -> p.holdsOffsetsFor(tp));
  }

  public SimProducer newProducer(String transactionalId) {
    SimProducer p = new SimProducer(this, transactionalId, nextProducerId++);
    producers.add(p);
    return p;
  }

  /**
   * The transaction coordinator aborts the producer's open transaction, as it does once {@code
   * transaction.timeout.ms} has passed. The producer learns of it at its next transactional call:
   * an abortable {@code InvalidProducerEpochException} (KIP-588), or a fatal error under {@link
   * #fatalTimeouts}. False if none was open.
   */
  public boolean timeOutTransaction(SimProducer producer) {
    return producer.timedOut();
  }

  /** {@link #timeOutTransaction} for every producer; returns how many transactions it aborted. */
  public int timeOutTransactions() {
    int aborted = 0;
    for (SimProducer p : producers) {
      aborted += p.timedOut() ? 1 : 0;
    }
    return aborted;
  }

  /**
   * The next {@code commitTransaction} that would succeed throws {@code error} instead. If {@code
   * applied}, the broker committed and only the answer was lost (pass a {@code
   * org.apache.kafka.common.errors.TimeoutException}); otherwise the transaction stays open until
   * the producer aborts it. Either way a later {@code abortTransaction} is accepted, unless {@link
   * #strictCommitTimeouts} applies.
   */
  public void failNextCommit(RuntimeException error, boolean applied) {
    failNextCommits(error, applied, 1);
  }

  /**
   * {@link #failNextCommit} for {@code times} commits in a row: under {@link
   * #strictCommitTimeouts}, a commit asked again that many times and never answered (an applied one
   * stays applied).
   */
  public void failNextCommits(RuntimeException error, boolean applied, int times) {
    commitFault = new CommitFault(error, applied);
    commitFaultsLeft = times;
  }

  /**
   * The next transactional {@code send} that would succeed fails asynchronously with {@code error}:
   * its future fails, the record is not written, and the transaction can then only be aborted;
   * later sends and the commit throw a {@code KafkaException} caused by {@code error}.
   */
  public void failNextSend(RuntimeException error) {
    sendFault = error;
  }

  /**
   * The next {@code beginTransaction} that would succeed throws {@code error} and begins nothing.
   */
  public void failNextBegin(RuntimeException error) {
    beginFault = error;
  }

  /** The next {@code Consumer.committed} call throws {@code error}. */
  public void failNextCommittedRead(RuntimeException error) {
    committedReadFault = error;
  }

  /**
   * Off by default. When on, a commit that fails with {@code
   * org.apache.kafka.common.errors.TimeoutException} behaves as in the real client: it must be
   * retried with {@code commitTransaction}, and until then {@code abortTransaction}, {@code
   * beginTransaction}, {@code send} and {@code sendOffsetsToTransaction} throw {@code
   * IllegalStateException} ("the previous call to `commitTransaction` timed out and must be
   * retried").
   */
  public void strictCommitTimeouts(boolean strict) {
    this.strictCommitTimeouts = strict;
  }

  /**
   * The next producer to reach {@code call} stands still there while {@code world} runs, as a
   * process frozen by a long GC pause or a suspended VM: {@code world} may rebalance, expire its
   * consumer, start its successor, time its transaction out, or run other consumers. Then the
   * producer carries on as if nothing happened, and meets whatever {@code world} did.
   */
  public void pauseBeforeNext(Call call, Runnable world) {
    pauses.put(call, world);
  }

  void runPause(Call call) {
    Runnable world = pauses.remove(call);
    if (world != null) {
      world.run();
    }
  }

  boolean strictCommitTimeouts() {
    return strictCommitTimeouts;
  }

  /**
   * Off by default (transaction protocol 1: a timed-out transaction is an abortable error). When
   * on, a transaction the coordinator times out leaves its producer fatally failed, as a Kafka 4
   * broker with transaction protocol 2 and Kafka 4's client do: {@code InvalidTxnStateException}
   * then every call refused, an abort too, or fenced (by turns).
   */
  public void fatalTimeouts(boolean fatal) {
    this.fatalTimeouts = fatal;
  }

  boolean fatalTimeouts() {
    return fatalTimeouts;
  }

  /** Under {@link #fatalTimeouts}, every other timed-out producer is fenced rather than failed. */
  boolean nextTimeoutFences() {
    return fatalTimeoutsSeen++ % 2 == 1;
  }

  CommitFault takeCommitFault() {
    CommitFault f = commitFault;
    if (--commitFaultsLeft <= 0) {
      commitFault = null;
    }
    return f;
  }

  RuntimeException takeSendFault() {
    RuntimeException f = sendFault;
    sendFault = null;
    return f;
  }

  RuntimeException takeBeginFault() {
    RuntimeException f = beginFault;
    beginFault = null;
    return f;
  }

  RuntimeException takeCommittedReadFault() {
    RuntimeException f = committedReadFault;
    committedReadFault = null;
    return f;
  }

  SimGroup group() {
    return group;
  }

  /**
   * Makes {@code producer} the owner of its transactional id; returns the one it fences, if any.
   */
  SimProducer claim(SimProducer producer) {
    SimProducer older = owners.put(producer.transactionalId(), producer);
    return older == producer ? null : older;
  }

  private List<PartitionLog> logs(String topic) {
    List<PartitionLog> logs = topics.get(topic);
    if (logs == null) {
      throw new IllegalArgumentException("no topic " + topic);
    }
    return logs;
  }

  PartitionLog log(TopicPartition tp) {
    List<PartitionLog> logs = logs(tp.topic());
    if (tp.partition() < 0 || tp.partition() >= logs.size()) {
      throw new IllegalArgumentException("no partition " + tp);
    }
    return logs.get(tp.partition());
  }
}
