package io.txgw.consumer.chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.txgw.common.json.Json;
import io.txgw.consumer.rpc.Rpc;
import io.txgw.consumer.rpc.RpcException;
import io.txgw.consumer.signing.SignedTransactions;
import java.math.BigInteger;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * ERC-20 payouts: the {@code transfer(to, amount)} call a payout signs, its gas, the token balance
 * a round may still spend, and the {@code Transfer} log a mined one must show. Only the standard
 * methods: {@code eth_call} ({@code balanceOf}), {@code eth_estimateGas}, receipts.
 */
final class TokenTransfers {
  /** {@code transfer(address,uint256)}. */
  static final String TRANSFER = "0xa9059cbb";

  /** {@code Transfer(address,address,uint256)}: the event every ERC-20 transfer emits. */
  static final String TRANSFER_TOPIC =
      "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";

  /**
   * The most gas a token transfer is signed with. A standard token's transfer takes 35,000 to
   * 65,000; one asking more does more than move a balance, and is refused rather than paid for.
   */
  static final long GAS_CAP = 200_000;

  private static final String BALANCE_OF = "0x70a08231";

  private final Rpc rpc;

  /**
   * Per account and token, the balance last read at the latest block, and by nonce what this sender
   * signed that it has not seen mined: not in a balance read before it is mined, so taken off it.
   * Bounded by the accounts of this consumer's partitions times the configured tokens, and {@link
   * #MAX_UNMINED} nonces each (the oldest forgotten first: a balance then looks larger, and a
   * transfer it cannot pay reverts, FAILED with nothing paid).
   */
  private final Map<String, BigInteger> read = new HashMap<>();

  private final Map<String, java.util.TreeMap<Long, BigInteger>> unmined = new HashMap<>();

  static final int MAX_UNMINED = 10_000;

  TokenTransfers(Rpc rpc) {
    this.rpc = rpc;
  }

  /** The call data paying {@code units} of a token to {@code to}. */
  static String transferData(String to, BigInteger units) {
    return TRANSFER + word(to.substring(2)) + word(units.toString(16));
  }

  private static String word(String hex) {
    String lower = hex.toLowerCase(Locale.ROOT);
    return "0".repeat(64 - lower.length()) + lower;
  }

  /** The gas to sign with, or why the transfer is refused; exactly one is set. */
  record Gas(long gas, String refusal) {}

  /**
   * Estimated at the latest block with a quarter more for what changes before it is mined. A
   * transfer the node says would revert (too few tokens, a paused token, a blocked recipient) is
   * refused with nothing signed.
   */
  Gas estimate(String from, String contract, String data)
      throws RpcException, InterruptedException {
    return estimate(from, contract, data, BigInteger.ZERO, GAS_CAP);
  }

  /** The same for any call: {@code value} wei sent with it, at most {@code cap} gas. */
  Gas estimate(String from, String contract, String data, BigInteger value, long cap)
      throws RpcException, InterruptedException {
    ObjectNode call = Json.mapper().createObjectNode();
    call.put("from", from);
    call.put("to", contract);
    call.put("data", data);
    if (value.signum() > 0) {
      call.put("value", "0x" + value.toString(16));
    }
    BigInteger estimate;
    try {
      estimate = FeeMarket.quantity(rpc.call("eth_estimateGas", call));
    } catch (RpcException e) {
      if (e.kind() == RpcException.Kind.NODE_ERROR && reverts(e)) {
        return new Gas(0, "the call would revert: " + e.reason());
      }
      // Anything else ("header not found", an internal error) says nothing of the call: wait.
      throw e;
    }
    long gas = estimate.add(estimate.shiftRight(2)).min(BigInteger.valueOf(cap)).longValue();
    if (estimate.compareTo(BigInteger.valueOf(cap)) > 0) {
      return new Gas(0, "the call needs " + estimate + " gas, more than the " + cap + " cap");
    }
    return new Gas(gas, null);
  }

  /**
   * Whether an estimate's error says the call reverts: code 3, the standard one (geth, Besu,
   * Nethermind, Erigon, anvil), or a message naming a revert (hardhat's -32603 "VM Exception while
   * processing transaction: reverted ..."). A misread only makes a payout wait, or fail unsigned.
   */
  static boolean reverts(RpcException e) {
    String reason = e.reason() == null ? "" : e.reason().toLowerCase(Locale.ROOT);
    return Integer.valueOf(3).equals(e.code()) || reason.contains("revert");
  }

  /**
   * What the round may still spend of the token: the balance at the latest block less what it
   * signed. {@code fresh} reads the balance again (the account may have been topped up).
   */
  BigInteger left(String account, String contract, boolean fresh)
      throws RpcException, InterruptedException {
    String key = key(account, contract);
    BigInteger known = fresh ? null : read.get(key);
    if (known == null) {
      known = balanceOf(account, contract);
      if (known == null) {
        return null;
      }
      read.put(key, known);
    }
    BigInteger signed = BigInteger.ZERO;
    for (BigInteger units : unmined.getOrDefault(key, new java.util.TreeMap<>()).values()) {
      signed = signed.add(units);
    }
    return known.subtract(signed);
  }

  private BigInteger balanceOf(String account, String contract)
      throws RpcException, InterruptedException {
    ObjectNode call = Json.mapper().createObjectNode();
    call.put("to", contract);
    call.put("data", BALANCE_OF + word(account.substring(2)));
    JsonNode answer;
    try {
      answer = rpc.call("eth_call", call, "latest");
    } catch (RpcException e) {
      if (e.kind() == RpcException.Kind.NODE_ERROR && reverts(e)) {
        return null;
      }
      throw e;
    }
    String hex = answer == null ? "" : answer.asText("");
    // "0x": no code at the address; anything but one word: no ERC-20 balance.
    return hex.matches("0x[0-9a-fA-F]{64}") ? new BigInteger(hex.substring(2), 16) : null;
  }

  /**
   * Whether {@code spender} may take the account's tokens without limit: an allowance of 2^128 or
   * more ({@code approve} with the largest amount). A smaller one is not counted down per call, so
   * calls through it are not made at all.
   */
  boolean unlimited(String account, String contract, String spender)
      throws RpcException, InterruptedException {
    ObjectNode call = Json.mapper().createObjectNode();
    call.put("to", contract);
    call.put("data", ALLOWANCE + word(account.substring(2)) + word(spender.substring(2)));
    JsonNode answer = rpc.call("eth_call", call, "latest");
    String hex = answer == null ? "" : answer.asText("");
    if (!hex.matches("0x[0-9a-fA-F]{64}")) {
      throw new RpcException(
          RpcException.Kind.MALFORMED, null, 200, "allowance: not one word: " + answer, null);
    }
    return new BigInteger(hex.substring(2), 16).bitLength() > 128;
  }

  private static final String ALLOWANCE = "0xdd62ed3e";

  /** Signed at {@code nonce}: off the balance until seen mined. */
  void spend(String account, String contract, long nonce, BigInteger units) {
    java.util.TreeMap<Long, BigInteger> signed =
        unmined.computeIfAbsent(key(account, contract), k -> new java.util.TreeMap<>());
    signed.put(nonce, units);
    if (signed.size() > MAX_UNMINED) {
      signed.pollFirstEntry();
    }
  }

  /** The account's transaction at {@code nonce} is mined: a balance read now holds it. */
  void mined(String account, long nonce) {
    String prefix = account.toLowerCase(Locale.ROOT) + "|";
    unmined.forEach(
        (k, signed) -> {
          if (k.startsWith(prefix)) {
            signed.remove(nonce);
          }
        });
    // The balance read before is stale now: read again when next needed.
    read.keySet().removeIf(k -> k.startsWith(prefix));
  }

  /** Nothing is known of the account any more (its lease moved, its round was abandoned). */
  void forget(String account) {
    String prefix = account.toLowerCase(Locale.ROOT) + "|";
    read.keySet().removeIf(k -> k.startsWith(prefix));
    unmined.keySet().removeIf(k -> k.startsWith(prefix));
  }

  void reset() {
    read.clear();
    unmined.clear();
  }

  private static String key(String account, String contract) {
    return account.toLowerCase(Locale.ROOT) + "|" + contract.toLowerCase(Locale.ROOT);
  }

  /** Whether a signed transaction is a token transfer this class made. */
  static boolean isTransfer(SignedTransactions.Decoded tx) {
    return tx.data().startsWith(TRANSFER) && tx.data().length() == 2 + 8 + 128;
  }

  /**
   * Why a mined, successful transaction's receipt does not show it paid what it was signed to: null
   * when it does, or when it is a plain ether transfer (status 1 is the payment). A token transfer,
   * and each payment of a multi-send call, needs its log in the receipt, in order: the token's
   * {@code Transfer} from the sender to the recipient of exactly the amount, or the multi-send
   * contract's {@code Paid} of ether. A token that takes a fee or emits nothing, or a "multi-send"
   * address that is not the contract, is not taken as paid.
   */
  static String unpaid(JsonNode receipt, SignedTransactions.Decoded tx) {
    String emitter;
    java.util.List<String> to;
    java.util.List<BigInteger> amounts;
    boolean ether = false;
    if (isTransfer(tx)) {
      emitter = tx.to();
      to = java.util.List.of("0x" + tx.data().substring(10 + 24, 10 + 64));
      amounts = java.util.List.of(new BigInteger(tx.data().substring(10 + 64), 16));
    } else {
      MultiSend.Payments payments = MultiSend.decode(tx.data());
      if (payments == null) {
        return null;
      }
      ether = payments.token() == null;
      emitter = ether ? tx.to() : payments.token();
      to = payments.to();
      amounts = payments.amounts();
    }
    java.util.Iterator<JsonNode> logs = receipt.path("logs").iterator();
    for (int i = 0; i < to.size(); i++) {
      java.util.List<String> topics =
          ether
              ? java.util.List.of(MultiSend.PAID_TOPIC, topic(to.get(i)))
              : java.util.List.of(TRANSFER_TOPIC, topic(tx.from()), topic(to.get(i)));
      if (!nextLog(logs, emitter, topics, amounts.get(i))) {
        return "mined, but its receipt shows no "
            + (ether ? "Paid of " + amounts.get(i) + " wei" : "Transfer of " + amounts.get(i))
            + (ether ? "" : " token units from " + tx.from())
            + " to "
            + to.get(i)
            + ": what it paid is left to an operator";
      }
    }
    return null;
  }

  private static String topic(String address) {
    return "0x" + word(address.substring(2));
  }

  /** Moves past logs until one is the one asked for; false when none is left. */
  private static boolean nextLog(
      java.util.Iterator<JsonNode> logs,
      String emitter,
      java.util.List<String> topics,
      BigInteger amount) {
    while (logs.hasNext()) {
      JsonNode log = logs.next();
      JsonNode got = log.path("topics");
      String data = log.path("data").asText("");
      boolean same = log.path("address").asText("").equalsIgnoreCase(emitter);
      same &= got.size() == topics.size();
      for (int t = 0; same && t < topics.size(); t++) {
        same = got.get(t).asText("").equalsIgnoreCase(topics.get(t));
      }
      if (same
          && data.matches("0x[0-9a-fA-F]{64}")
          && new BigInteger(data.substring(2), 16).equals(amount)) {
        return true;
      }
    }
    return false;
  }
}
