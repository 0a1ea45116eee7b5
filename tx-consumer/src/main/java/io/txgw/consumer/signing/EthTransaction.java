package io.txgw.consumer.signing;

import java.math.BigInteger;
import java.util.Locale;
import java.util.Objects;

/**
 * An Ethereum transaction to be signed: everything that decides what it pays and to whom. Signers
 * must return exactly this, which {@link SignedTransactions#checked} verifies.
 *
 * @param from the paying account, 0x-prefixed hex (any case)
 * @param to the recipient or called contract; {@code 0x} creates a contract
 * @param data call data, {@code 0x} for a plain transfer
 */
public record EthTransaction(
    long chainId,
    long nonce,
    String from,
    String to,
    BigInteger value,
    long gas,
    EthFees fees,
    String data) {
  public EthTransaction {
    Objects.requireNonNull(from, "from");
    Objects.requireNonNull(to, "to");
    Objects.requireNonNull(value, "value");
    Objects.requireNonNull(fees, "fees");
    Objects.requireNonNull(data, "data");
    if (chainId <= 0 || nonce < 0 || gas <= 0 || value.signum() < 0) {
      throw new IllegalArgumentException("chain id, nonce, gas or value out of range");
    }
    if (!data.startsWith("0x") || data.length() % 2 != 0) {
      throw new IllegalArgumentException("data must be 0x-prefixed hex");
    }
  }

  /** The same transaction at other fees: a replacement at its nonce. */
  public EthTransaction withFees(EthFees other) {
    return new EthTransaction(chainId, nonce, from, to, value, gas, other, data);
  }

  /** What the sender must hold: the value and the gas at the fee cap. */
  public BigInteger cost() {
    return cost(value, gas, fees);
  }

  /** What a sender must hold to send {@code value} with {@code gas} at {@code fees}' cap. */
  public static BigInteger cost(BigInteger value, long gas, EthFees fees) {
    return value.add(fees.cap().multiply(BigInteger.valueOf(gas)));
  }

  static String lower(String hex) {
    return hex.toLowerCase(Locale.ROOT);
  }
}
