package io.txgw.common.validation;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import java.util.Map;
import java.util.Objects;

/**
 * Limits a batch must respect.
 *
 * @param maxPayouts most payouts in one batch
 * @param maxPerPayout largest single payout per chain, in coin units
 * @param assets the token assets batches may name, each with its own largest payout
 */
public record BatchRules(
    int maxPayouts,
    Map<Chain, Amount> maxPerPayout,
    AddressCodec addresses,
    io.txgw.common.model.AssetRegistry assets) {
  /** Rules for native coins only. */
  public BatchRules(int maxPayouts, Map<Chain, Amount> maxPerPayout, AddressCodec addresses) {
    this(maxPayouts, maxPerPayout, addresses, io.txgw.common.model.AssetRegistry.NONE);
  }

  public BatchRules {
    Objects.requireNonNull(addresses, "addresses");
    Objects.requireNonNull(assets, "assets");
    maxPerPayout = Map.copyOf(maxPerPayout);
    for (Chain chain : Chain.values()) {
      if (!maxPerPayout.containsKey(chain)) {
        throw new IllegalArgumentException("no maximum payout for " + chain);
      }
    }
  }
}
