package io.txgw.common.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.regex.Pattern;

/**
 * An exact, non-negative amount in an asset's whole units (coins, not satoshis or wei). Never a
 * floating point number: parsed only from plain decimal strings and converted to base units only
 * when that is exact.
 */
public final class Amount implements Comparable<Amount> {
  private static final Pattern PLAIN_DECIMAL = Pattern.compile("[0-9]{1,40}(\\.[0-9]{1,40})?");

  private final BigDecimal value;

  private Amount(BigDecimal value) {
    BigDecimal stripped = value.stripTrailingZeros();
    // stripTrailingZeros turns 100 into 1E+2; keep a non-negative scale so text stays plain.
    this.value = stripped.scale() < 0 ? stripped.setScale(0) : stripped;
  }

  /**
   * Parses a plain decimal string such as {@code "0.00012345"}: no sign, exponent, spaces or
   * thousands separators.
   *
   * @throws IllegalArgumentException with a client-readable reason
   */
  @JsonCreator
  public static Amount parse(String text) {
    if (text == null || !PLAIN_DECIMAL.matcher(text).matches()) {
      throw new IllegalArgumentException(
          "not a plain decimal number (digits with an optional '.' and fraction)");
    }
    return new Amount(new BigDecimal(text));
  }

  public static Amount ofUnits(BigInteger baseUnits, int decimals) {
    if (baseUnits.signum() < 0) {
      throw new IllegalArgumentException("amount must not be negative");
    }
    return new Amount(new BigDecimal(baseUnits, decimals));
  }

  /** Number of digits after the decimal point that are significant. */
  public int scale() {
    return value.scale();
  }

  public boolean isPositive() {
    return value.signum() > 0;
  }

  /**
   * The amount in base units (satoshis, wei).
   *
   * @throws ArithmeticException if the amount has more fraction digits than {@code decimals}
   */
  public BigInteger toUnits(int decimals) {
    return value.movePointRight(decimals).toBigIntegerExact();
  }

  public BigDecimal toBigDecimal() {
    return value;
  }

  public Amount plus(Amount other) {
    return new Amount(value.add(other.value));
  }

  @Override
  public int compareTo(Amount other) {
    return value.compareTo(other.value);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Amount other && value.equals(other.value);
  }

  @Override
  public int hashCode() {
    return value.hashCode();
  }

  @JsonValue
  @Override
  public String toString() {
    return value.toPlainString();
  }
}
