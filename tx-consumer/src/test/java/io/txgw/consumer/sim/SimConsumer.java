package io.txgw.consumer.sim;

import io.txgw.common.kafka.Topics;
import io.txgw.common.security.RecordSeal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;

/**
 * A read_committed member of group {@code txgw} on {@code sendto}, as the real client behaves
 * towards the exactly-once loop:
 *
 * <ul>
 *   <li>{@code subscribe} joins the group; partitions come with the next {@link
 *       SimKafka#rebalance}.
 *   <li>{@code poll} first runs the rebalance callbacks owed since the last poll, eager style: all
 *       old partitions revoked (or lost, if the session expired), then the new ones assigned, even
 *       none. Positions and pauses do not survive a rebalance. A callback's exception is rethrown
 *       from {@code poll} after the rebalance completes, wrapped as the client does.
 *   <li>It then returns up to {@code maxPollRecords} committed records in all, taking assigned,
 *       unpaused partitions in turn (starting one further each poll), each from its position up to
 *       the last stable offset; aborted records are skipped. It never waits: the timeout is
 *       ignored.
 *   <li>A partition's position starts, when first needed, at the group's committed offset, or at 0
 *       when there is none (auto.offset.reset=earliest; logs are never truncated).
 *   <li>{@code groupMetadata()} carries the generation this member last learned of in a poll, so a
 *       member that has not polled since a rebalance commits with a stale generation.
 * </ul>
 *
 * Methods the loop does not use throw {@link UnsupportedOperationException}.
 */
public final class SimConsumer extends UnsupportedConsumer {
  /** Kafka's UNKNOWN_GENERATION_ID: a member not yet dealt any partitions. */
  private static final int NO_GENERATION = -1;

  private static final ConsumerRebalanceListener NO_LISTENER =
      new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {}

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {}
      };

  private final SimKafka kafka;
  private final String memberId;
  private int maxPollRecords = 50;
  private ConsumerRebalanceListener listener;
  private int generation = NO_GENERATION;
  private final List<TopicPartition> owned = new ArrayList<>();
  private final Map<TopicPartition, Long> positions = new HashMap<>();
  private final Set<TopicPartition> paused = new LinkedHashSet<>();
  private int firstFetched;
  private boolean closed;
  private boolean crashed;

  SimConsumer(SimKafka kafka, String memberId) {
    this.kafka = kafka;
    this.memberId = memberId;
  }

  public String memberId() {
    return memberId;
  }

  /** Caps the records one poll returns, over all partitions (max.poll.records). */
  public SimConsumer maxPollRecords(int max) {
    if (max < 1) {
      throw new IllegalArgumentException("maxPollRecords: " + max);
    }
    this.maxPollRecords = max;
    return this;
  }

  void killed() {
    crashed = true;
  }

  @Override
  public void subscribe(Collection<String> topics) {
    subscribe(topics, NO_LISTENER);
  }

  @Override
  public void subscribe(Collection<String> topics, ConsumerRebalanceListener listener) {
    ensureOpen();
    if (crashed) {
      throw new IllegalStateException(memberId + " crashed");
    }
    if (topics.size() != 1 || !topics.contains(Topics.SENDTO)) {
      throw new UnsupportedOperationException("only " + Topics.SENDTO + " is simulated");
    }
    this.listener = listener;
    kafka.group().join(this);
  }

  @Override
  public Set<String> subscription() {
    ensureOpen();
    return listener == null ? Set.of() : Set.of(Topics.SENDTO);
  }

  @Override
  public ConsumerRecords<String, byte[]> poll(Duration timeout) {
    ensureOpen();
    if (crashed) {
      throw new IllegalStateException(memberId + " crashed; a crashed process does not poll");
    }
    if (listener == null) {
      throw new IllegalStateException(
          "Consumer is not subscribed to any topics or assigned any partitions");
    }
    catchUpWithGroup();
    return fetch();
  }

  private void catchUpWithGroup() {
    SimGroup group = kafka.group();
    if (group.takeExpired(memberId)) {
      List<TopicPartition> lost = List.copyOf(owned);
      RuntimeException failure = null;
      if (!lost.isEmpty()) {
        failure = invoke(() -> listener.onPartitionsLost(lost), failure);
      }
      dropAssignment();
      group.join(this);
      rethrow(failure);
      return;
    }
    SimGroup.Deal deal = group.newDeal(memberId, generation);
    if (deal == null) {
      return;
    }
    RuntimeException failure = null;
    List<TopicPartition> revoked = List.copyOf(owned);
    if (!revoked.isEmpty()) {
      failure = invoke(() -> listener.onPartitionsRevoked(revoked), failure);
    }
    dropAssignment();
    generation = deal.generation();
    owned.addAll(deal.partitions());
    failure = invoke(() -> listener.onPartitionsAssigned(deal.partitions()), failure);
    rethrow(failure);
  }

  /** Runs a callback; keeps the first failure so that the rebalance still completes. */
  private static RuntimeException invoke(Runnable callback, RuntimeException earlier) {
    try {
      callback.run();
      return earlier;
    } catch (RuntimeException e) {
      return earlier != null ? earlier : e;
    }
  }

  private static void rethrow(RuntimeException failure) {
    if (failure != null) {
      throw new KafkaException("User rebalance callback throws an error", failure);
    }
  }

  private void dropAssignment() {
    owned.clear();
    positions.clear();
    paused.clear();
  }

  private ConsumerRecords<String, byte[]> fetch() {
    Map<TopicPartition, List<ConsumerRecord<String, byte[]>>> records = new LinkedHashMap<>();
    Map<TopicPartition, OffsetAndMetadata> next = new LinkedHashMap<>();
    int budget = maxPollRecords;
    int count = owned.size();
    for (int i = 0; i < count && budget > 0; i++) {
      TopicPartition tp = owned.get((firstFetched + i) % count);
      if (paused.contains(tp)) {
        continue;
      }
      if (!positions.containsKey(tp) && kafka.offsetsUnstable(tp)) {
        // No position yet, and the committed offset is not stable: the real client retries its
        // offset fetch and returns nothing of this partition meanwhile.
        continue;
      }
      PartitionLog log = kafka.log(tp);
      long position = positionOf(tp);
      long stable = log.lastStableOffset();
      List<ConsumerRecord<String, byte[]>> batch = new ArrayList<>();
      while (position < stable && budget > 0) {
        SimRecord r = log.get(position++);
        if (r.state() == SimRecord.State.COMMITTED) {
          if (r.value() instanceof SealedValue sealed) {
            RecordHeaders headers = new RecordHeaders();
            if (sealed.seal() != null) {
              headers.add(RecordSeal.HEADER, sealed.seal());
            }
            batch.add(
                new ConsumerRecord<>(
                    tp.topic(),
                    tp.partition(),
                    r.offset(),
                    ConsumerRecord.NO_TIMESTAMP,
                    TimestampType.NO_TIMESTAMP_TYPE,
                    ConsumerRecord.NULL_SIZE,
                    ConsumerRecord.NULL_SIZE,
                    r.key(),
                    sealed.bytes(),
                    headers,
                    Optional.empty()));
          } else {
            batch.add(
                new ConsumerRecord<>(
                    tp.topic(), tp.partition(), r.offset(), r.key(), (byte[]) r.value()));
          }
          budget--;
        }
      }
      positions.put(tp, position);
      if (!batch.isEmpty()) {
        records.put(tp, batch);
        next.put(tp, new OffsetAndMetadata(position));
      }
    }
    // Start one partition further next time, so that one busy partition cannot starve the rest.
    firstFetched = count == 0 ? 0 : (firstFetched + 1) % count;
    return new ConsumerRecords<>(records, next);
  }

  private long positionOf(TopicPartition tp) {
    return positions.computeIfAbsent(
        tp,
        p -> {
          Long committed = kafka.group().offset(p);
          return committed == null ? 0L : committed;
        });
  }

  @Override
  public Set<TopicPartition> assignment() {
    ensureOpen();
    return Collections.unmodifiableSet(new LinkedHashSet<>(owned));
  }

  @Override
  public void seek(TopicPartition partition, long offset) {
    requireOwned(partition);
    if (offset < 0) {
      throw new IllegalArgumentException("seek offset must not be a negative number");
    }
    positions.put(partition, offset);
  }

  @Override
  public void seek(TopicPartition partition, OffsetAndMetadata offsetAndMetadata) {
    seek(partition, offsetAndMetadata.offset());
  }

  @Override
  public void seekToBeginning(Collection<TopicPartition> partitions) {
    partitions.forEach(this::requireOwned);
    partitions.forEach(p -> positions.put(p, 0L));
  }

  @Override
  public void seekToEnd(Collection<TopicPartition> partitions) {
    partitions.forEach(this::requireOwned);
    partitions.forEach(p -> positions.put(p, kafka.log(p).lastStableOffset()));
  }

  @Override
  public long position(TopicPartition partition) {
    requireOwned(partition);
    return positionOf(partition);
  }

  @Override
  public long position(TopicPartition partition, Duration timeout) {
    return position(partition);
  }

  /** The group's offsets; a partition never committed is absent from the answer. */
  @Override
  public Map<TopicPartition, OffsetAndMetadata> committed(Set<TopicPartition> partitions) {
    ensureOpen();
    RuntimeException fault = kafka.takeCommittedReadFault();
    if (fault != null) {
      throw fault;
    }
    Map<TopicPartition, OffsetAndMetadata> committed = new LinkedHashMap<>();
    for (TopicPartition tp : partitions) {
      if (kafka.offsetsUnstable(tp)) {
        // The client retries UNSTABLE_OFFSET_COMMIT until its API timeout, then gives up.
        throw new org.apache.kafka.common.errors.TimeoutException(
            "offsets of " + tp + " are pending in an open transaction");
      }
      Long offset = kafka.group().offset(tp);
      if (offset != null) {
        committed.put(tp, new OffsetAndMetadata(offset, kafka.group().metadata(tp)));
      }
    }
    return committed;
  }

  @Override
  public Map<TopicPartition, OffsetAndMetadata> committed(
      Set<TopicPartition> partitions, Duration timeout) {
    return committed(partitions);
  }

  @Override
  public Set<TopicPartition> paused() {
    ensureOpen();
    return Collections.unmodifiableSet(new LinkedHashSet<>(paused));
  }

  @Override
  public void pause(Collection<TopicPartition> partitions) {
    partitions.forEach(this::requireOwned);
    paused.addAll(partitions);
  }

  @Override
  public void resume(Collection<TopicPartition> partitions) {
    partitions.forEach(this::requireOwned);
    partitions.forEach(paused::remove);
  }

  @Override
  public Map<TopicPartition, Long> beginningOffsets(Collection<TopicPartition> partitions) {
    ensureOpen();
    Map<TopicPartition, Long> offsets = new LinkedHashMap<>();
    partitions.forEach(p -> offsets.put(p, 0L));
    return offsets;
  }

  @Override
  public Map<TopicPartition, Long> beginningOffsets(
      Collection<TopicPartition> partitions, Duration timeout) {
    return beginningOffsets(partitions);
  }

  /** The last stable offsets: the end a read_committed consumer is told. */
  @Override
  public Map<TopicPartition, Long> endOffsets(Collection<TopicPartition> partitions) {
    ensureOpen();
    Map<TopicPartition, Long> offsets = new LinkedHashMap<>();
    partitions.forEach(p -> offsets.put(p, kafka.log(p).lastStableOffset()));
    return offsets;
  }

  @Override
  public Map<TopicPartition, Long> endOffsets(
      Collection<TopicPartition> partitions, Duration timeout) {
    return endOffsets(partitions);
  }

  /** Empty until the partition's position is known, as before a real consumer's first fetch. */
  @Override
  public OptionalLong currentLag(TopicPartition partition) {
    requireOwned(partition);
    Long position = positions.get(partition);
    if (position == null) {
      return OptionalLong.empty();
    }
    return OptionalLong.of(Math.max(0, kafka.log(partition).lastStableOffset() - position));
  }

  @Override
  public ConsumerGroupMetadata groupMetadata() {
    ensureOpen();
    return new ConsumerGroupMetadata(SimGroup.ID, generation, memberId, Optional.empty());
  }

  /**
   * Leaves the group cleanly: the partitions are revoked (lost, if the session had expired) and go
   * to others at the next rebalance. A crashed member just closes.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (crashed || listener == null) {
      return;
    }
    SimGroup group = kafka.group();
    boolean expired = group.takeExpired(memberId);
    List<TopicPartition> owning = List.copyOf(owned);
    RuntimeException failure = null;
    if (!owning.isEmpty()) {
      failure =
          invoke(
              () -> {
                if (expired) {
                  listener.onPartitionsLost(owning);
                } else {
                  listener.onPartitionsRevoked(owning);
                }
              },
              failure);
    }
    dropAssignment();
    group.leave(memberId);
    rethrow(failure);
  }

  @Override
  public void close(Duration timeout) {
    close();
  }

  @Override
  public void close(CloseOptions option) {
    close();
  }

  private void requireOwned(TopicPartition partition) {
    ensureOpen();
    if (!owned.contains(partition)) {
      throw new IllegalStateException("No current assignment for partition " + partition);
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("This consumer has already been closed.");
    }
  }

  @Override
  public List<PartitionInfo> partitionsFor(String topic) {
    if (!Topics.SENDTO.equals(topic)) {
      throw new UnsupportedOperationException("only " + Topics.SENDTO + " is simulated");
    }
    List<PartitionInfo> infos = new ArrayList<>();
    for (int i = 0; i < kafka.partitions(); i++) {
      infos.add(new PartitionInfo(topic, i, null, null, null));
    }
    return infos;
  }
}
