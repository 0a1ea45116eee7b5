package io.txgw.consumer.chain;

import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.consumer.signing.EthFees;
import io.txgw.consumer.signing.EthTransaction;
import io.txgw.consumer.signing.SignedTransactions;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A partition's Ethereum units mined and followed to their confirmation depth, as the journal holds
 * them: a reorganisation may yet take their blocks, and then they are mined again, so a read of an
 * account whose count has fallen below them holds what they cost (see {@link AccountFunds}).
 * Bounded by the journal's followed units; replaced whole before each round.
 */
final class FollowedUnits {
  private List<JournalEntry> units = List.of();

  /** {@link #units} by account, grouped when first asked: most rounds read no account. */
  private Map<String, List<JournalEntry>> byAccount;

  void set(List<JournalEntry> followed) {
    units = followed;
    byAccount = null;
  }

  /**
   * Nonce to cost of the account's followed units at or above {@code count} (their blocks gone;
   * those below are in the balance, and are not decoded): the dearest of each unit's transactions,
   * any of which may be mined again. A unit whose bytes do not decode is costed as a coin payout
   * when {@code undecodedAsCoin} (the simulation's node), else left out.
   */
  TreeMap<Long, BigInteger> costs(String account, long count, boolean undecodedAsCoin) {
    if (byAccount == null) {
      byAccount = new HashMap<>();
      for (JournalEntry unit : units) {
        if (unit.nonce() != null) {
          byAccount.computeIfAbsent(unit.source(), a -> new ArrayList<>()).add(unit);
        }
      }
    }
    TreeMap<Long, BigInteger> costs = new TreeMap<>();
    for (JournalEntry unit : byAccount.getOrDefault(account, List.of())) {
      if (unit.nonce() < count) {
        continue;
      }
      BigInteger dearest = cost(unit, unit.rawTransaction());
      BigInteger dearestFee = unit.feePerGas();
      for (JournalEntry.Attempt earlier : unit.replaced()) {
        dearest = max(dearest, cost(unit, earlier.rawTransaction()));
        dearestFee = max(dearestFee, earlier.feePerGas());
      }
      if (dearest == null && undecodedAsCoin && unit.payouts().size() == 1 && dearestFee != null) {
        dearest =
            EthTransaction.cost(
                unit.payouts().get(0).amount().toUnits(Chain.ETH.nativeAsset().decimals()),
                EthereumSender.TRANSFER_GAS,
                new EthFees.Legacy(dearestFee));
      }
      if (dearest != null) {
        costs.put(unit.nonce(), dearest);
      }
    }
    return costs;
  }

  private static BigInteger cost(JournalEntry unit, String raw) {
    SignedTransactions.Decoded tx = JournaledAttempts.decoded(unit, raw);
    return tx == null ? null : tx.cost();
  }

  /** The larger of two amounts, either of which may be unknown (null). */
  private static BigInteger max(BigInteger a, BigInteger b) {
    return a == null ? b : b == null ? a : a.max(b);
  }
}
