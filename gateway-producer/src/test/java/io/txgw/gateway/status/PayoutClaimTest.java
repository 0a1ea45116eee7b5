package io.txgw.gateway.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.model.Address;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Asset;
import io.txgw.common.model.BatchRecord;
import io.txgw.common.model.Chain;
import io.txgw.common.model.Payout;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class PayoutClaimTest {
  private static final Instant T0 = Instant.parse("2026-11-21T10:00:00Z");

  private static Payout payout(Asset asset, String source, String to, String amount, String memo) {
    return new Payout(
        "p1",
        "b1",
        "acme",
        Chain.ETH,
        asset,
        source,
        new Address(to),
        Amount.parse(amount),
        memo,
        T0);
  }

  private static Payout payout(String source, String to, String amount) {
    return payout(Chain.ETH.nativeAsset(), source, to, amount, null);
  }

  @Test
  void theSamePaymentWithAnotherMemoAndTrailingZerosIsTheSamePayout() {
    PayoutClaim claim = PayoutClaim.of(payout("0xs", "0xt", "1.50"));

    assertThat(claim.samePayment(payout(Chain.ETH.nativeAsset(), "0xs", "0xt", "1.5", "again")))
        .isTrue();
  }

  @Test
  void eachFieldOfThePaymentThatDiffersIsNamed() {
    PayoutClaim claim = PayoutClaim.of(payout("0xs", "0xt", "1"));
    Asset token = new Asset("USDC", 6, "0xcontract");

    assertThat(claim.differences(payout("0xother", "0xt", "1"))).containsExactly("source");
    assertThat(claim.differences(payout("0xs", "0xelse", "1.000000000000000001")))
        .containsExactly("to", "amount");
    assertThat(claim.differences(payout(token, "0xs", "0xt", "1", null))).containsExactly("asset");
  }

  @Test
  void aPayoutOfABatchThatKeptNoLinesIsNeverTakenForAnother() {
    BatchRecord legacy = new BatchRecord("acme", "b0", Chain.ETH, "0xs", "fp", List.of("p1"), T0);

    PayoutClaim claim = PayoutClaim.of(legacy, 0);

    assertThat(claim.batchId()).isEqualTo("b0");
    assertThat(claim.differences(payout("0xs", "0xt", "1"))).containsExactly("to", "amount");
  }

  @Test
  void theEarlierAcceptedClaimComesFirstAndAtOneInstantTheSmallerBatchId() {
    PayoutClaim early = new PayoutClaim("b9", Chain.ETH, null, "0xs", null, null, T0);
    PayoutClaim late = new PayoutClaim("b1", Chain.ETH, null, "0xs", null, null, T0.plusMillis(1));
    PayoutClaim tie = new PayoutClaim("b8", Chain.ETH, null, "0xs", null, null, T0);

    assertThat(early.precedes(late)).isTrue();
    assertThat(late.precedes(early)).isFalse();
    assertThat(tie.precedes(early)).isTrue();
  }
}
