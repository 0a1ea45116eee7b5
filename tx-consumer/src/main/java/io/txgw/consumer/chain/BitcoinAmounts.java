package io.txgw.consumer.chain;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.math.BigInteger;

/** Bitcoin nodes write amounts as JSON numbers in BTC; payouts compare in satoshis, exactly. */
final class BitcoinAmounts {
  static final int DECIMALS = 8;

  private BitcoinAmounts() {}

  /** Satoshis of a node's BTC number, or -1 for a value finer than a satoshi (matches nothing). */
  static BigInteger sats(JsonNode btc) {
    BigDecimal value = btc.isNumber() ? btc.decimalValue() : new BigDecimal(btc.asText("0"));
    try {
      return value.movePointRight(DECIMALS).stripTrailingZeros().toBigIntegerExact();
    } catch (ArithmeticException e) {
      return BigInteger.ONE.negate();
    }
  }
}
