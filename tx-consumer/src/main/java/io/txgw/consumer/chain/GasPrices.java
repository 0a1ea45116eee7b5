package io.txgw.consumer.chain;

import java.math.BigInteger;
import java.util.Optional;

/**
 * The gas prices an Ethereum sender signs with: never above the ceiling, first signature or
 * replacement; a replacement 12.5% above the one it replaces at least (or the node's price, if
 * higher), and none at all when the ceiling leaves less than the 10% rise that geth, Besu,
 * Nethermind and Erigon require before their pools take a replacement.
 *
 * @param ceiling the highest gas price signed, in wei; null for none
 */
record GasPrices(BigInteger ceiling) {
  BigInteger capped(BigInteger price) {
    return ceiling == null ? price : price.min(ceiling);
  }

  /** The price of a replacement of a transaction at {@code old}; empty at the ceiling. */
  Optional<BigInteger> replacing(BigInteger old, BigInteger market) {
    BigInteger wanted = capped(bumped(old).max(market));
    // Under the rise pools require, the node would refuse it and keep the current one.
    return wanted.compareTo(leastReplacement(old)) < 0 ? Optional.empty() : Optional.of(wanted);
  }

  /**
   * The fees of a replacement of a transaction paying {@code old} (the dearest its unit ever
   * signed), of the same type; empty at the ceiling. A type-2 replacement raises both its fee cap
   * and its tip: geth, Besu, Nethermind and Erigon take one only when both rise by 10%.
   */
  Optional<io.txgw.consumer.signing.EthFees> replacing(
      io.txgw.consumer.signing.EthFees old, FeeMarket.Market market) {
    if (old instanceof io.txgw.consumer.signing.EthFees.Dynamic dynamic) {
      BigInteger marketCap = market.dynamic() ? market.fees(this).cap() : market.gasPrice();
      BigInteger marketTip = market.dynamic() ? market.tip() : market.gasPrice();
      BigInteger cap = capped(bumped(dynamic.maxFeePerGas()).max(marketCap));
      BigInteger tip = bumped(dynamic.maxPriorityFeePerGas()).max(marketTip).min(cap);
      if (cap.compareTo(leastReplacement(dynamic.maxFeePerGas())) < 0
          || tip.compareTo(leastReplacement(dynamic.maxPriorityFeePerGas())) < 0) {
        return Optional.empty();
      }
      return Optional.of(new io.txgw.consumer.signing.EthFees.Dynamic(cap, tip));
    }
    return replacing(old.cap(), market.gasPrice())
        .map(io.txgw.consumer.signing.EthFees.Legacy::new);
  }

  /** 12.5% more, rounded up, and one wei. */
  static BigInteger bumped(BigInteger old) {
    return old.add(old.add(BigInteger.valueOf(7)).shiftRight(3)).add(BigInteger.ONE);
  }

  /** The least price pools take in place of {@code old}: 10% more, rounded up. */
  static BigInteger leastReplacement(BigInteger old) {
    return old.add(old.add(BigInteger.valueOf(9)).divide(BigInteger.TEN));
  }

  /** Whether the market now asks more than {@code old} pays. */
  static boolean underpriced(io.txgw.consumer.signing.EthFees old, FeeMarket.Market now) {
    if (old instanceof io.txgw.consumer.signing.EthFees.Dynamic d && now.dynamic()) {
      // Under the next base fee with the market's tip, or tipping less than the market: a rise of
      // the base fee that still leaves it includable is no reason to pay more.
      return d.maxFeePerGas().compareTo(now.baseFee().add(now.tip())) < 0
          || d.maxPriorityFeePerGas().compareTo(now.tip()) < 0;
    }
    return now.gasPrice().compareTo(old.cap()) > 0;
  }
}
