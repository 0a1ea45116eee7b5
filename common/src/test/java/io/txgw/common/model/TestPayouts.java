package io.txgw.common.model;

import java.time.Instant;

/** Payouts for tests that need one and do not care about most of its fields. */
public final class TestPayouts {
  private TestPayouts() {}

  /**
   * An ETH payout of 1 ETH by client {@code acme} in batch {@code b1}, from and to {@code account}.
   */
  public static Payout eth(String id, String account) {
    return eth(id, account, account, "1");
  }

  /** The same, from {@code source} to {@code to}, of {@code amount} ETH. */
  public static Payout eth(String id, String source, String to, String amount) {
    return new Payout(
        id,
        "b1",
        "acme",
        Chain.ETH,
        Chain.ETH.nativeAsset(),
        source,
        new Address(to),
        Amount.parse(amount),
        null,
        Instant.EPOCH);
  }
}
