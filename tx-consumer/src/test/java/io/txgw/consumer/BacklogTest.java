package io.txgw.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.internals.AutoOffsetResetStrategy;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class BacklogTest {
  private static final java.util.function.ToLongFunction<TopicPartition> NOTHING_TO_SETTLE = q -> 0;

  private final TopicPartition p = new TopicPartition("sendto", 0);

  /** A consumer given {@code p}, reading from the earliest offset. */
  private MockConsumer<String, byte[]> assigned() {
    MockConsumer<String, byte[]> consumer =
        new MockConsumer<>(AutoOffsetResetStrategy.EARLIEST.name());
    consumer.assign(List.of(p));
    return consumer;
  }

  @Test
  void fetchedRecordsCountUntilRecordedSoALongPollDoesNotLookIdle() {
    MockConsumer<String, byte[]> consumer = assigned();
    consumer.updateBeginningOffsets(Map.of(p, 0L));
    for (int i = 0; i < 5; i++) {
      consumer.addRecord(new ConsumerRecord<>("sendto", 0, i, "k", new byte[0]));
    }
    consumer.updateEndOffsets(Map.of(p, 5L));
    Backlog backlog = new Backlog();

    ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ZERO);
    backlog.fetched(records);
    backlog.measure(consumer, NOTHING_TO_SETTLE);
    assertThat(backlog.get()).as("all five fetched, none recorded").isEqualTo(5);

    backlog.recorded(p, 3);
    backlog.measure(consumer, NOTHING_TO_SETTLE);
    assertThat(backlog.get()).isEqualTo(2);

    backlog.forget(List.of(p));
    consumer.unsubscribe();
    backlog.measure(consumer, NOTHING_TO_SETTLE);
    assertThat(backlog.get()).isZero();
  }

  @Test
  void journaledUnitsStillToSettleCountThoughTheirRecordsAreBelowTheCommittedOffset() {
    MockConsumer<String, byte[]> consumer = assigned();
    consumer.updateEndOffsets(Map.of(p, 334L));
    consumer.updateBeginningOffsets(Map.of(p, 0L));
    // Every record journaled, so committed: a consumer taking the partition over has no lag.
    consumer.seek(p, 334);
    Backlog backlog = new Backlog();

    backlog.measure(consumer, q -> 334);
    assertThat(backlog.get()).as("334 units to settle").isEqualTo(334);

    backlog.measure(consumer, q -> 0);
    assertThat(backlog.get()).as("settled, or all in flight").isZero();
  }

  @Test
  void aPartitionJustAssignedCountsWhatItHoldsUntilItsLagIsKnown() {
    boolean[] fetched = {false};
    // A real consumer knows no lag before its first fetch; the mock would say 0.
    MockConsumer<String, byte[]> consumer =
        new MockConsumer<>(AutoOffsetResetStrategy.EARLIEST.name()) {
          @Override
          public synchronized java.util.OptionalLong currentLag(TopicPartition partition) {
            return fetched[0] ? super.currentLag(partition) : java.util.OptionalLong.empty();
          }
        };
    consumer.assign(List.of(p));
    Backlog backlog = new Backlog();
    backlog.assigned(Map.of(p, 700L));

    backlog.measure(consumer, NOTHING_TO_SETTLE);
    assertThat(backlog.get()).as("nothing fetched yet").isEqualTo(700);

    consumer.updateEndOffsets(Map.of(p, 3L));
    consumer.updateBeginningOffsets(Map.of(p, 0L));
    consumer.seek(p, 0);
    fetched[0] = true;
    backlog.measure(consumer, NOTHING_TO_SETTLE);
    assertThat(backlog.get()).as("the lag, once known").isEqualTo(3);
  }

  @Test
  void anEndOffsetCachedBehindThePositionCancelsNoOtherPartitionsBacklog() {
    TopicPartition other = new TopicPartition("sendto", 1);
    MockConsumer<String, byte[]> consumer =
        new MockConsumer<>(AutoOffsetResetStrategy.EARLIEST.name());
    consumer.assign(List.of(p, other));
    consumer.updateBeginningOffsets(Map.of(p, 0L, other, 0L));
    for (int i = 0; i < 5; i++) {
      consumer.addRecord(new ConsumerRecord<>("sendto", 0, i, "k", new byte[0]));
    }
    consumer.updateEndOffsets(Map.of(p, 5L, other, 4L));
    Backlog backlog = new Backlog();
    backlog.fetched(consumer.poll(Duration.ZERO));
    backlog.recorded(p, 5);
    // The consumer's cache still holds an end offset read before these five were written.
    consumer.updateEndOffsets(Map.of(p, 2L));
    assertThat(consumer.currentLag(p).getAsLong()).isNegative();

    backlog.measure(consumer, NOTHING_TO_SETTLE);
    assertThat(backlog.get()).as("the other partition's four, unread").isEqualTo(4);
  }
}
