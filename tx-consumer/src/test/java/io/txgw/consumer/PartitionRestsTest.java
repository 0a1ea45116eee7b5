package io.txgw.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.internals.AutoOffsetResetStrategy;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class PartitionRestsTest {
  private static final TopicPartition P0 = new TopicPartition("sendto", 0);
  private static final TopicPartition P1 = new TopicPartition("sendto", 1);

  private final MockConsumer<String, byte[]> consumer =
      new MockConsumer<>(AutoOffsetResetStrategy.EARLIEST.name());
  private final Clock clock = Clock.fixed(Instant.parse("2026-11-30T12:00:00Z"), ZoneOffset.UTC);
  private final PartitionRests rests = new PartitionRests(consumer, clock);

  PartitionRestsTest() {
    consumer.assign(List.of(P0, P1));
  }

  @Test
  void aPartitionRestsUntilItsTimeHasCome() {
    rests.rest(P0, PartitionRests.WAIT);

    rests.wakeRested();

    assertThat(rests.resting(P0)).isTrue();
    assertThat(consumer.paused()).containsExactly(P0);
  }

  @Test
  void endingAllRestsSoonResumesEveryRestingPartitionAtTheNextWake() {
    rests.rest(P0, PartitionRests.WAIT);
    rests.rest(P1, PartitionRests.NOT_MINED);

    rests.endAllSoon();
    assertThat(consumer.paused()).containsExactlyInAnyOrder(P0, P1);
    rests.wakeRested();

    assertThat(rests.resting(P0)).isFalse();
    assertThat(rests.resting(P1)).isFalse();
    assertThat(consumer.paused()).isEmpty();
  }

  @Test
  void endingAllRestsSoonEndsOnlyTheRestsTakenBeforeTheNextWake() {
    rests.endAllSoon();
    rests.wakeRested();

    rests.rest(P0, PartitionRests.WAIT);
    rests.wakeRested();

    assertThat(rests.resting(P0)).isTrue();
  }
}
