package io.txgw.consumer.chain;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.consumer.rpc.Rpc;
import io.txgw.consumer.rpc.RpcException;
import io.txgw.consumer.signing.EthFees;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What the Ethereum market asks per gas now, read from the standard methods and kept a few seconds:
 * on a chain with a base fee (EIP-1559), the next block's base fee ({@code eth_feeHistory}) and the
 * median tip recent blocks paid; otherwise {@code eth_gasPrice}. A node without {@code
 * eth_feeHistory} is priced the legacy way.
 */
final class FeeMarket {
  /**
   * The least tip offered: pools of geth-based chains drop transactions under their price limit,
   * and development nodes' empty blocks report no tips at all.
   */
  static final BigInteger MIN_TIP = BigInteger.valueOf(1_000_000_000L);

  /** Blocks whose tips are looked at. */
  static final int HISTORY_BLOCKS = 10;

  private static final Duration TTL = Duration.ofSeconds(10);

  /**
   * The market now.
   *
   * @param baseFee the next block's base fee; null on a chain without one (legacy pricing)
   * @param tip the tip to offer (type 2 only)
   * @param gasPrice what a legacy transaction should pay: the node's gas price, or base fee and tip
   *     on a type-2 chain
   * @param blockGasLimit the head block's gas limit; 0 when the node did not say
   */
  record Market(BigInteger baseFee, BigInteger tip, BigInteger gasPrice, long blockGasLimit) {
    boolean dynamic() {
      return baseFee != null;
    }

    /** The fees of a new transaction, capped by {@code prices}' ceiling. */
    EthFees fees(GasPrices prices) {
      if (!dynamic()) {
        return new EthFees.Legacy(prices.capped(gasPrice));
      }
      // Twice the base fee: room for six full blocks in a row before it is priced out.
      BigInteger cap = prices.capped(baseFee.shiftLeft(1).add(tip));
      return new EthFees.Dynamic(cap, tip.min(cap));
    }
  }

  private final Rpc rpc;
  private final Clock clock;
  private Market market;
  private Instant readAt = Instant.MIN;

  FeeMarket(Rpc rpc, Clock clock) {
    this.rpc = rpc;
    this.clock = clock;
  }

  /** The market, read again once it is older than a few seconds. */
  Market now() throws RpcException, InterruptedException {
    Instant at = clock.instant();
    if (market == null || at.isAfter(readAt.plus(TTL))) {
      market = read();
      readAt = at;
    }
    return market;
  }

  /** The next {@link #now()} reads the node again. */
  void refresh() {
    readAt = Instant.MIN;
  }

  private Market read() throws RpcException, InterruptedException {
    JsonNode history;
    try {
      history =
          rpc.call(
              "eth_feeHistory", "0x" + Integer.toHexString(HISTORY_BLOCKS), "latest", List.of(50));
    } catch (RpcException e) {
      if (e.kind() != RpcException.Kind.NODE_ERROR) {
        throw e;
      }
      history = null;
    }
    JsonNode baseFees = history == null ? null : history.path("baseFeePerGas");
    JsonNode block = history == null ? null : headBlock();
    JsonNode fee = block == null ? null : block.get("baseFeePerGas");
    JsonNode limit = block == null ? null : block.get("gasLimit");
    long gasLimit = limit == null || limit.isNull() ? 0 : quantity(limit).longValue();
    if (baseFees == null
        || !baseFees.isArray()
        || baseFees.isEmpty()
        || fee == null
        || fee.isNull()) {
      // No base fee in the head block: a chain before London, priced by one gas price.
      BigInteger price = quantity(rpc.call("eth_gasPrice"));
      return new Market(null, null, price, gasLimit);
    }
    BigInteger next = quantity(baseFees.get(baseFees.size() - 1));
    BigInteger tip = medianTip(history).max(MIN_TIP);
    return new Market(next, tip, next.add(tip), gasLimit);
  }

  /** The head block; null when the node will not say (then it is priced the legacy way). */
  private JsonNode headBlock() throws RpcException, InterruptedException {
    try {
      return rpc.call("eth_getBlockByNumber", "latest", false);
    } catch (RpcException e) {
      if (e.kind() != RpcException.Kind.NODE_ERROR) {
        throw e;
      }
      return null;
    }
  }

  /** The median of the blocks' median tips, counting only blocks that held transactions. */
  private static BigInteger medianTip(JsonNode history) throws RpcException {
    JsonNode rewards = history.path("reward");
    JsonNode used = history.path("gasUsedRatio");
    List<BigInteger> tips = new ArrayList<>();
    for (int i = 0; i < rewards.size(); i++) {
      if (used.path(i).asDouble(0) > 0 && rewards.get(i).isArray() && !rewards.get(i).isEmpty()) {
        tips.add(quantity(rewards.get(i).get(0)));
      }
    }
    if (tips.isEmpty()) {
      return BigInteger.ZERO;
    }
    Collections.sort(tips);
    return tips.get(tips.size() / 2);
  }

  static BigInteger quantity(JsonNode node) throws RpcException {
    if (node == null
        || !node.isTextual()
        || !node.asText().startsWith("0x")
        || node.asText().length() < 3) {
      throw new RpcException(
          RpcException.Kind.MALFORMED, null, 200, "expected a hex quantity, got " + node, null);
    }
    try {
      return new BigInteger(node.asText().substring(2), 16);
    } catch (NumberFormatException e) {
      throw new RpcException(
          RpcException.Kind.MALFORMED, null, 200, "expected a hex quantity, got " + node, null);
    }
  }
}
