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
 */
public record BatchRules(int maxPayouts, Map<Chain, Amount> maxPerPayout, AddressCodec addresses) {
  public BatchRules {
    Objects.requireNonNull(addresses, "addresses");
    maxPerPayout = Map.copyOf(maxPerPayout);
    for (Chain chain : Chain.values()) {
      if (!maxPerPayout.containsKey(chain)) {
        throw new IllegalArgumentException("no maximum payout for " + chain);
      }
    }
  }
}
