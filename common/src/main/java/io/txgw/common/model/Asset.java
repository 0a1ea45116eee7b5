package io.txgw.common.model;

/**
 * What a payout moves: a chain's native coin ({@code contract == null}) or a token at a contract
 * address. {@code decimals} is the precision amounts are exact to (BTC 8, ETH 18).
 */
public record Asset(String symbol, int decimals, String contract) {
  public Asset {
    if (symbol == null || symbol.isBlank()) {
      throw new IllegalArgumentException("asset symbol is required");
    }
    if (decimals < 0 || decimals > 36) {
      throw new IllegalArgumentException("asset decimals out of range: " + decimals);
    }
  }

  public boolean isNative() {
    return contract == null;
  }
}
