package io.txgw.consumer.chain;

import io.txgw.common.model.JournalEntry;
import io.txgw.consumer.signing.EthFees;
import io.txgw.consumer.signing.SignedTransactions;
import java.math.BigInteger;

/**
 * What an Ethereum unit's journaled transactions say, read from their bytes: the one source of what
 * a replacement pays again and at which fees, and of what a receipt must show. A unit's bytes that
 * do not decode say nothing (null), and nothing is guessed from them.
 */
final class JournaledAttempts {
  private JournaledAttempts() {}

  /**
   * The dearest fees any of the unit's transactions was signed with, of the current one's type:
   * after a reorganisation a cheaper one may be current again, and a pool holding the dearer one
   * takes only a rise over that. Read from the journaled bytes; null when none says.
   */
  static EthFees dearest(JournalEntry unit) {
    EthFees current = feesOf(unit, unit.rawTransaction(), unit.feePerGas());
    if (current == null) {
      return null;
    }
    BigInteger cap = current.cap();
    BigInteger tip = tipOf(current);
    for (JournalEntry.Attempt earlier : unit.replaced()) {
      EthFees fees = feesOf(unit, earlier.rawTransaction(), earlier.feePerGas());
      if (fees != null) {
        cap = cap.max(fees.cap());
        tip = tip.max(tipOf(fees));
      }
    }
    return current instanceof EthFees.Dynamic
        ? new EthFees.Dynamic(cap, tip.min(cap))
        : new EthFees.Legacy(cap);
  }

  static BigInteger tipOf(EthFees fees) {
    return fees instanceof EthFees.Dynamic d ? d.maxPriorityFeePerGas() : fees.cap();
  }

  /**
   * A transaction journaled for {@code unit}: its fields, the sender being the unit's account (its
   * bytes were checked against it when signed); null when its bytes are not one this sender signs.
   */
  static SignedTransactions.Decoded decoded(JournalEntry unit, String raw) {
    if (raw == null) {
      return null;
    }
    try {
      return SignedTransactions.journaled(raw, unit.source());
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** The bytes of the unit's transaction {@code txid}: its current one or one it replaced. */
  static String rawOf(JournalEntry unit, String txid) {
    if (txid.equalsIgnoreCase(unit.txid())) {
      return unit.rawTransaction();
    }
    for (JournalEntry.Attempt earlier : unit.replaced()) {
      if (txid.equalsIgnoreCase(earlier.txid())) {
        return earlier.rawTransaction();
      }
    }
    return null;
  }

  /** The fees a journaled transaction was signed with: its bytes, else the journaled price. */
  static EthFees feesOf(JournalEntry unit, String raw, BigInteger journaled) {
    SignedTransactions.Decoded tx = decoded(unit, raw);
    if (tx != null) {
      return tx.fees();
    }
    return journaled == null ? null : new EthFees.Legacy(journaled);
  }
}
