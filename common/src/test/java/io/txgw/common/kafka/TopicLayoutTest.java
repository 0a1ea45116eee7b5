package io.txgw.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txgw.common.json.Json;
import io.txgw.common.kafka.TopicLayout.Live;
import io.txgw.common.kafka.TopicLayout.Reason;
import io.txgw.common.kafka.TopicLayout.Recorded;
import io.txgw.common.kafka.TopicLayout.Refused;
import io.txgw.common.kafka.TopicLayout.Role;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;

class TopicLayoutTest {
  private static final Instant AT = Instant.parse("2026-03-01T10:00:00Z");
  private static final Recorded FOUR = new Recorded(4, 4, 4, null, AT, "gateway@box-1");

  private static Live live(int sendto, int journal, int results, int batches) {
    Map<String, Integer> counts = new HashMap<>();
    counts.put(Topics.SENDTO, sendto);
    counts.put(Topics.JOURNAL, journal);
    counts.put(Topics.RESULTS, results);
    counts.put(Topics.BATCHES, batches);
    counts.values().removeIf(c -> c == 0);
    return new Live(counts);
  }

  private static AbstractThrowableAssert<?, ? extends Throwable> refused(
      Role role, Live live, Recorded recorded, Reason reason) {
    return assertThatThrownBy(() -> TopicLayout.verify(role, live, Optional.ofNullable(recorded)))
        .isInstanceOf(Refused.class)
        .satisfies(e -> assertThat(((Refused) e).reason()).isEqualTo(reason));
  }

  @Test
  void topicsWithTheirRecordedCountsStartBothRoles() {
    for (Role role : Role.values()) {
      assertThatCode(() -> TopicLayout.verify(role, live(4, 4, 4, 4), Optional.of(FOUR)))
          .doesNotThrowAnyException();
    }
  }

  @Test
  void sendtoGrownAloneIsRefusedNamingBothCountsAndTheProcedure() {
    refused(Role.CONSUMER, live(8, 4, 4, 4), FOUR, Reason.SENDTO_AND_JOURNAL_DIFFER)
        .hasMessageContaining("sendto has 8 partitions but journal has 4")
        .hasMessageContaining("laid out with 4")
        .hasMessageContaining("txgw grow-partitions")
        .hasMessageContaining("docs/operations.md \"Growing partitions\"");
  }

  @Test
  void moreJournalPartitionsThanSendtoAreRefusedToo() {
    refused(Role.GATEWAY, live(4, 8, 4, 4), FOUR, Reason.SENDTO_AND_JOURNAL_DIFFER);
  }

  @Test
  void sendtoAndJournalGrownTogetherWithoutTheProcedureAreRefused() {
    refused(Role.CONSUMER, live(8, 8, 4, 4), FOUR, Reason.CHANGED_WITHOUT_PROCEDURE)
        .hasMessageContaining("have 8 partitions but this deployment was laid out with 4")
        .hasMessageContaining("gateway@box-1");
  }

  @Test
  void aGrownResultsOrBatchesTopicIsRefusedBecauseTheViewHashesOverItsCount() {
    refused(Role.GATEWAY, live(4, 4, 6, 4), FOUR, Reason.KEYED_TOPIC_CHANGED)
        .hasMessageContaining("results has 6 partitions, laid out with 4");
    refused(Role.CONSUMER, live(4, 4, 4, 5), FOUR, Reason.KEYED_TOPIC_CHANGED)
        .hasMessageContaining("batches has 5 partitions, laid out with 4");
  }

  @Test
  void resultsAndBatchesNeedNotMatchSendto() {
    Recorded mixed = new Recorded(8, 3, 12, null, AT, "gateway@box-1");
    assertThatCode(() -> TopicLayout.verify(Role.CONSUMER, live(8, 8, 3, 12), Optional.of(mixed)))
        .doesNotThrowAnyException();
  }

  @Test
  void withoutARecordAgreeingTopicsStartAndDisagreeingOnesAreRefused() {
    assertThatCode(() -> TopicLayout.verify(Role.GATEWAY, live(6, 6, 6, 6), Optional.empty()))
        .doesNotThrowAnyException();
    refused(Role.CONSUMER, live(12, 6, 6, 6), null, Reason.SENDTO_AND_JOURNAL_DIFFER)
        .hasMessageContaining("sendto has 12 partitions but journal has 6;");
  }

  @Test
  void aMissingTopicIsRefusedByName() {
    refused(Role.CONSUMER, live(0, 0, 4, 4), null, Reason.MISSING_TOPIC)
        .hasMessageContaining("sendto, journal do not exist");
  }

  @Test
  void whileAChangeIsUnderWayGatewaysAreRefused() {
    Recorded growing = FOUR.growing(8, AT, "alice@ops");
    refused(Role.GATEWAY, live(4, 4, 4, 4), growing, Reason.CHANGE_UNDER_WAY)
        .hasMessageContaining("a partition change from 4 to 8")
        .hasMessageContaining("run txgw grow-partitions --to 8 again");
    refused(Role.GATEWAY, live(8, 8, 4, 4), growing, Reason.CHANGE_UNDER_WAY);
  }

  @Test
  void whileAChangeIsUnderWayConsumersStartOnlyWhereSendtoAndJournalAgree() {
    Recorded growing = FOUR.growing(8, AT, "alice@ops");
    for (Live agreeing : new Live[] {live(4, 4, 4, 4), live(8, 8, 4, 4)}) {
      assertThatCode(() -> TopicLayout.verify(Role.CONSUMER, agreeing, Optional.of(growing)))
          .doesNotThrowAnyException();
    }
    refused(Role.CONSUMER, live(4, 8, 4, 4), growing, Reason.CHANGE_UNDER_WAY);
    refused(Role.CONSUMER, live(6, 6, 4, 4), growing, Reason.CHANGE_UNDER_WAY);
  }

  @Test
  void aFinishedChangeRecordsTheNewCountAndKeepsTheKeyedTopics() {
    Recorded grown = FOUR.growing(8, AT, "alice@ops").grown(AT, "alice@ops");
    assertThat(grown.partitions()).isEqualTo(8);
    assertThat(grown.changing()).isFalse();
    assertThat(grown.results()).isEqualTo(4);
    assertThat(grown.batches()).isEqualTo(4);
  }

  @Test
  void theRecordReadsBackAsWritten() throws Exception {
    Recorded growing = FOUR.growing(8, AT, "alice@ops");
    for (Recorded r : new Recorded[] {FOUR, growing}) {
      byte[] json = Json.mapper().writeValueAsBytes(r);
      assertThat(Json.mapper().readValue(json, Recorded.class)).isEqualTo(r);
    }
  }

  @Test
  void anAccountLandsWhereTheProducersDefaultPartitionerPutsIt() {
    // Kafka's BuiltInPartitioner for a keyed record: murmur2 of the key bytes, positive, modulo.
    org.apache.kafka.common.serialization.StringSerializer keys =
        new org.apache.kafka.common.serialization.StringSerializer();
    for (String key : new String[] {"ETH:0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "BTC:a"}) {
      byte[] bytes = keys.serialize(Topics.SENDTO, key);
      for (int n : new int[] {1, 4, 7, 12}) {
        assertThat(TopicLayout.partitionOf(key, n))
            .isEqualTo(
                org.apache.kafka.clients.producer.internals.BuiltInPartitioner.partitionForKey(
                    bytes, n));
      }
    }
  }
}
