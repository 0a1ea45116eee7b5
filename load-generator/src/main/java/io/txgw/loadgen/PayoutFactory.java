package io.txgw.loadgen;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import io.txgw.common.validation.PayoutLine;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Makes valid payouts for a chain: each to a fresh random address (so that what every address
 * received on chain tells whether its payout was paid exactly once) and of an exact amount with the
 * chain's full precision.
 */
public final class PayoutFactory {
  private final AddressCodec addresses;
  private final Random random;

  public PayoutFactory(AddressCodec addresses, long seed) {
    this.addresses = addresses;
    this.random = new Random(seed);
  }

  /**
   * @param idPrefix payout ids are {@code idPrefix-0}, {@code idPrefix-1}...
   * @param minUnits smallest amount in base units (satoshis, wei), inclusive
   * @param maxUnits largest amount in base units, exclusive
   */
  public List<PayoutLine> payouts(
      Chain chain, String idPrefix, int count, BigInteger minUnits, BigInteger maxUnits) {
    return payouts(chain, idPrefix, count, minUnits, maxUnits, chain.nativeAsset().decimals());
  }

  /** The same, in units of an asset with {@code decimals} (a token's). */
  public List<PayoutLine> payouts(
      Chain chain,
      String idPrefix,
      int count,
      BigInteger minUnits,
      BigInteger maxUnits,
      int decimals) {
    List<PayoutLine> lines = new ArrayList<>(count);
    BigInteger span = maxUnits.subtract(minUnits);
    for (int i = 0; i < count; i++) {
      BigInteger units = minUnits.add(new BigInteger(span.bitLength() + 8, random).mod(span));
      Amount amount = Amount.ofUnits(units, decimals);
      lines.add(
          new PayoutLine(idPrefix + "-" + i, recipient(chain), amount.toString(), "payroll " + i));
    }
    return lines;
  }

  /** A fresh address no one holds keys for: it receives only what this run pays it. */
  public String recipient(Chain chain) {
    byte[] id = new byte[20];
    random.nextBytes(id);
    return switch (chain) {
      case ETH -> AddressCodec.ethereum(id).value();
      case BTC -> addresses.bitcoinP2wpkh(id).value();
    };
  }
}
