package io.txgw.consumer.chain;

import java.math.BigInteger;
import java.util.Map;
import java.util.TreeMap;

/**
 * One Ethereum account as a sender sees it: the next nonce to sign with, the balance read at the
 * latest block, and the cost of each transaction signed since with a nonce at or above that block's
 * count. Bounded by one round's units: entries the chain has used are dropped at the next read.
 */
final class AccountFunds {
  /** Mined costs kept per account to count again after a reorganisation; the lowest dropped. */
  static final int MAX_MINED_KEPT = 10_000;

  private long next;
  private BigInteger balance;
  private final TreeMap<Long, BigInteger> unmined = new TreeMap<>();

  /**
   * Costs of nonces seen mined since the balance was read, counted again should a later read show
   * the chain's count below them; at most {@link #MAX_MINED_KEPT}.
   */
  private final TreeMap<Long, BigInteger> minedCost = new TreeMap<>();

  /** The sum of {@link #unmined}, kept as it changes: asked before every signature. */
  private BigInteger unminedCost = BigInteger.ZERO;

  private AccountFunds(long next, BigInteger balance) {
    this.next = next;
    this.balance = balance;
  }

  /**
   * The account as read at the latest block ({@code nonce} used, {@code balance} held), with what
   * {@code before} knew that this read does not show yet: transactions signed and not mined at or
   * above the count, and those seen mined whose block has left the main chain since (the count is
   * below them again): they will be mined again, so their cost is not this balance's to spend.
   */
  static AccountFunds read(long nonce, BigInteger balance, AccountFunds before) {
    AccountFunds funds = new AccountFunds(nonce, balance);
    if (before != null) {
      funds.carry(before.unmined.tailMap(nonce));
      funds.carry(before.minedCost.tailMap(nonce));
      funds.next = Math.max(nonce, before.next);
    }
    return funds;
  }

  long next() {
    return next;
  }

  BigInteger left() {
    return balance.subtract(unminedCost);
  }

  /** A new transaction at {@code nonce}; the next one signs with the nonce after it. */
  void spend(long nonce, BigInteger cost) {
    cost(nonce, cost);
    next = nonce + 1;
  }

  /** The transaction at {@code nonce}, not mined, replaced by one that costs {@code cost}. */
  void repriced(long nonce, BigInteger cost) {
    if (unmined.containsKey(nonce)) {
      cost(nonce, cost);
    }
  }

  private void cost(long nonce, BigInteger cost) {
    BigInteger replaced = unmined.put(nonce, cost);
    unminedCost = unminedCost.add(cost).subtract(replaced == null ? BigInteger.ZERO : replaced);
  }

  private void carry(Map<Long, BigInteger> signed) {
    signed.forEach(this::spend);
  }

  /** Mined: its cost leaves the pending list for the balance itself, and the list stays short. */
  void mined(long nonce) {
    BigInteger cost = unmined.remove(nonce);
    if (cost != null) {
      unminedCost = unminedCost.subtract(cost);
      balance = balance.subtract(cost);
      minedCost.put(nonce, cost);
      if (minedCost.size() > MAX_MINED_KEPT) {
        minedCost.pollFirstEntry();
      }
    }
  }
}
