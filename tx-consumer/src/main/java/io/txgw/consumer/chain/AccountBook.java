package io.txgw.consumer.chain;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.model.JournalEntry;
import io.txgw.consumer.rpc.Rpc;
import io.txgw.consumer.rpc.RpcException;
import java.math.BigInteger;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What an Ethereum sender knows of its accounts' funds: per account, the next nonce and what the
 * balance still holds for new payouts ({@link AccountFunds}), read from the chain when the account
 * is not known here, with the partition's units awaiting their depth ({@link FollowedUnits}) held
 * against it. Bounded by the accounts of this consumer's partitions.
 */
final class AccountBook {
  private final Rpc rpc;
  private final Map<String, AccountFunds> accounts = new HashMap<>();
  private final FollowedUnits followed = new FollowedUnits();

  /** Whether units whose bytes do not decode are costed as coin payouts (the simulation). */
  private final java.util.function.BooleanSupplier undecodedAsCoin;

  AccountBook(Rpc rpc, java.util.function.BooleanSupplier undecodedAsCoin) {
    this.rpc = rpc;
    this.undecodedAsCoin = undecodedAsCoin;
  }

  /** The account as known here; null when it must be asked of the chain. */
  AccountFunds known(String account) {
    return accounts.get(account);
  }

  boolean remembers(String account) {
    return accounts.containsKey(account);
  }

  /** The account as known here, or as read from the chain now. */
  AccountFunds funds(String account) throws RpcException, InterruptedException {
    AccountFunds funds = accounts.get(account);
    return funds != null ? funds : read(account);
  }

  /**
   * The account's nonce count and balance at one block, the latest one named by its hash
   * (EIP-1898): chain facts that agree with each other. Asked at "latest" each, they could come
   * from two nodes in rotation at different heights, and a count that passed transactions of ours
   * beside a balance read before their block would leave their costs counted nowhere. A node that
   * does not hold that block answers an error, and nothing is signed until a read agrees. What this
   * sender signed and has not seen mined stays held against the balance (see {@link AccountFunds}).
   */
  AccountFunds read(String account) throws RpcException, InterruptedException {
    JsonNode head = rpc.call("eth_getBlockByNumber", "latest", false);
    String hash = head == null ? null : head.path("hash").asText(null);
    if (hash == null || !hash.startsWith("0x")) {
      throw new RpcException(
          RpcException.Kind.NODE_ERROR, null, 0, "the latest block has no hash: " + head, null);
    }
    Map<String, String> at = Map.of("blockHash", hash);
    long nonce =
        FeeMarket.quantity(rpc.call("eth_getTransactionCount", account, at)).longValueExact();
    BigInteger balance = FeeMarket.quantity(rpc.call("eth_getBalance", account, at));
    TreeMap<Long, BigInteger> undone =
        followed.costs(account, nonce, undecodedAsCoin.getAsBoolean());
    AccountFunds funds = accounts.computeIfAbsent(account, a -> new AccountFunds());
    funds.read(nonce, balance, undone);
    return funds;
  }

  /** The partition's units mined and awaiting their depth (see {@link ChainSender#following}). */
  void following(List<JournalEntry> units) {
    followed.set(units);
  }

  void forget(String account) {
    accounts.remove(account);
  }

  void reset() {
    accounts.clear();
    followed.set(List.of());
  }
}
