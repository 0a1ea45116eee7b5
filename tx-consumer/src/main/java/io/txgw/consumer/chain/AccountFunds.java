package io.txgw.consumer.chain;

import java.math.BigInteger;
import java.util.TreeMap;

/**
 * One Ethereum account as a sender sees it: the next nonce to sign with, the balance read at one
 * block with the account's nonce count at that same block, and what may still leave that balance:
 * each transaction this sender signed and has not seen mined, and each it saw mined whose block a
 * reorganisation has taken off the chain since.
 *
 * <p>A transaction signed here stays reserved until its receipt is seen, even once the chain's
 * count has passed its nonce: the count says some transaction used the nonce, not that it was this
 * one. Another spender's may have taken it, and a reorganisation can undo that one and mine ours
 * after all; had its cost been freed, payouts signed meanwhile would owe more than the account
 * holds, and the first one short would wait forever with every later nonce behind it. Reserving a
 * cost twice for a while (mined, receipt not yet seen) only refuses a payout for funds until the
 * next read.
 *
 * <p>Bounded: {@link #unmined} by the account's units in flight (each leaves it when mined, and all
 * when the sender forgets the account, which it does whenever one of them waits), {@link
 * #minedCost} by {@link #MAX_MINED_KEPT}.
 */
final class AccountFunds {
  /** Mined costs kept per account to count again after a reorganisation; the lowest dropped. */
  static final int MAX_MINED_KEPT = 10_000;

  private long next;
  private BigInteger balance = BigInteger.ZERO;

  /** Signed here, receipt not seen: nonce to cost. */
  private final TreeMap<Long, BigInteger> unmined = new TreeMap<>();

  /**
   * Seen mined here: nonce to cost, whatever the count, so that a reorganisation that takes its
   * block off the chain, before or after any read, counts it again; at most {@link
   * #MAX_MINED_KEPT}.
   */
  private final TreeMap<Long, BigInteger> minedCost = new TreeMap<>();

  /** The sum of {@link #unmined}, kept as it changes: asked before every signature. */
  private BigInteger unminedCost = BigInteger.ZERO;

  /**
   * The mined costs at or above the count of the last read: not in its balance (their blocks left
   * the chain), and they will be mined again.
   */
  private BigInteger undoneCost = BigInteger.ZERO;

  /**
   * The account as read at one block ({@code nonce} used, {@code balance} held). What this sender
   * knew stays: every transaction signed and not seen mined, and those seen mined at or above the
   * count (their blocks have left the chain since) are held against the balance. So are {@code
   * followed}: the costs, by nonce, of the account's units the journal holds as mined and followed
   * to their depth, at or above the count (their blocks gone), which this sender may have forgotten
   * (the account was forgotten or the sender reset since their receipts); new nonces start above
   * them.
   */
  void read(long nonce, BigInteger balance, TreeMap<Long, BigInteger> followed) {
    this.balance = balance;
    followed.forEach(
        (n, cost) -> {
          if (!unmined.containsKey(n)) {
            // The dearer of what was seen mined here and what the journal holds: any attempt may be
            // the one mined again.
            minedCost.merge(n, cost, BigInteger::max);
          }
        });
    while (minedCost.size() > MAX_MINED_KEPT) {
      minedCost.pollFirstEntry();
    }
    undoneCost = BigInteger.ZERO;
    for (BigInteger undone : minedCost.tailMap(nonce).values()) {
      undoneCost = undoneCost.add(undone);
    }
    next = Math.max(next, nonce);
    if (!followed.isEmpty()) {
      // Their blocks gone, they are mined again at their nonces: a new one signed there would wait
      // behind them, and be found conflicted only a minute later.
      next = Math.max(next, followed.lastKey() + 1);
    }
  }

  long next() {
    return next;
  }

  BigInteger left() {
    return balance.subtract(unminedCost).subtract(undoneCost);
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

  /**
   * Mined: its cost leaves the reserve for the balance itself. The balance may hold it already
   * (read after its block); then it counts twice until the next read, which refuses for funds at
   * worst.
   */
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
