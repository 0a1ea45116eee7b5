package io.txgw.common.model;

import java.time.Instant;

/** Payouts for tests that need one and do not care about most of its fields. */
public final class TestPayouts {
  private TestPayouts() {}

  /**
   * An ETH payout of 1 ETH by client {@code acme} in batch {@code b1}, from and to {@code account}.
   */
  public static Payout eth(String id, String account) {
    return new Payout(
        id,
        "b1",
        "acme",
        Chain.ETH,
        Chain.ETH.nativeAsset(),
        account,
        new Address(account),
        Amount.parse("1"),
        null,
        Instant.EPOCH);
  }
}
