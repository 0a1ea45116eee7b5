package io.txgw.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.json.Json;
import io.txgw.common.kafka.TopicLayout;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Address;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import io.txgw.common.model.Payout;
import java.time.Instant;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class RecordIntakeTest {
  private static final String SOURCE = TestTrust.ethAddress(0xa0);
  private final RecordIntake intake = TestTrust.intake("acme", Set.of("ETH:" + SOURCE));

  private static Payout payout(String to, String amount) {
    return new Payout(
        "p1",
        "b1",
        "acme",
        Chain.ETH,
        Chain.ETH.nativeAsset(),
        SOURCE,
        new Address(to),
        Amount.parse(amount),
        null,
        Instant.EPOCH);
  }

  private static ConsumerRecord<String, byte[]> sealed(Payout p, int partition) throws Exception {
    return TestTrust.sealed(
        new ConsumerRecord<>(
            Topics.SENDTO, partition, 0, p.accountKey(), Json.mapper().writeValueAsBytes(p)));
  }

  @Test
  void aSealedRecordInItsAccountsPartitionIsPaid() throws Exception {
    Payout p = payout(TestTrust.ethAddress(0x1000), "1");
    int home = TopicLayout.partitionOf(p.accountKey(), 6);
    assertThat(intake.check(sealed(p, home), 6)).isInstanceOf(RecordIntake.Verdict.Pay.class);
  }

  @Test
  void theGatewaysSealedRecordCopiedIntoAnotherPartitionIsNotPaidThere() throws Exception {
    Payout p = payout(TestTrust.ethAddress(0x1000), "1");
    int other = (TopicLayout.partitionOf(p.accountKey(), 6) + 1) % 6;
    // It waits a while (the partition count may be stale), then the processor moves it aside.
    assertThat(intake.check(sealed(p, other), 6))
        .isInstanceOfSatisfying(
            RecordIntake.Verdict.Wait.class,
            w -> assertThat(w.limit()).isEqualTo(java.time.Duration.ofSeconds(5)));
  }

  @Test
  void aRecordSealedByAnAnnouncedKeyWaitsForItAnHourAtMost() throws Exception {
    Payout p = payout(TestTrust.ethAddress(0x1000), "1");
    ConsumerRecord<String, byte[]> r =
        new ConsumerRecord<>(
            Topics.SENDTO,
            TopicLayout.partitionOf(p.accountKey(), 6),
            0,
            p.accountKey(),
            Json.mapper().writeValueAsBytes(p));
    io.txgw.common.security.RecordSeal next =
        io.txgw.common.security.RecordSeal.parse(
            new io.txgw.common.config.Secret(io.txgw.common.security.RecordSeal.generate("next")));
    r.headers().add(io.txgw.common.security.RecordSeal.HEADER, next.seal(r.key(), r.value()));
    // Anyone may write a record naming the announced key's id: it does not hold its partition
    // for ever.
    assertThat(intake.check(r, 6))
        .isInstanceOfSatisfying(
            RecordIntake.Verdict.Wait.class,
            w -> assertThat(w.limit()).isEqualTo(RecordIntake.EXPECTED_KEY_LIMIT));
  }

  @Test
  void aSealedPayoutToTheZeroAddressOrAboveTheMaximumIsRefusedNotPaid() throws Exception {
    Payout zero = payout("0x0000000000000000000000000000000000000000", "1");
    assertThat(intake.check(sealed(zero, TopicLayout.partitionOf(zero.accountKey(), 1)), 1))
        .isInstanceOfSatisfying(
            RecordIntake.Verdict.Refuse.class,
            r -> assertThat(r.reason()).startsWith("invalid: the zero address"));
    Payout huge = payout(TestTrust.ethAddress(0x1000), "1000001");
    assertThat(intake.check(sealed(huge, 0), 1))
        .isInstanceOfSatisfying(
            RecordIntake.Verdict.Refuse.class,
            r -> assertThat(r.reason()).startsWith("invalid: amount"));
    Payout lowerCase = payout(TestTrust.ethAddress(0x1000).toLowerCase(), "1");
    if (!lowerCase.to().value().equals(TestTrust.ethAddress(0x1000))) {
      assertThat(intake.check(sealed(lowerCase, 0), 1))
          .isInstanceOf(RecordIntake.Verdict.Refuse.class);
    }
  }
}
