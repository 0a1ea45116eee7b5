package io.txgw.consumer.chain;

import java.util.List;

/** What preparing a send unit gave: a signed transaction, or the node's refusal to build one. */
public sealed interface Preparation {
  /**
   * A signed transaction that has not been broadcast.
   *
   * @param nonce the Ethereum nonce, null for Bitcoin
   * @param outputIndexes per payout of the unit, in order, the output paying it (Bitcoin); empty
   *     for Ethereum
   */
  record Signed(
      String txid,
      String rawTransaction,
      Long nonce,
      List<Integer> outputIndexes,
      java.math.BigInteger feePerGas)
      implements Preparation {
    public Signed {
      outputIndexes = List.copyOf(outputIndexes);
    }

    /** Signed without a per-gas fee to keep (Bitcoin). */
    public Signed(String txid, String rawTransaction, Long nonce, List<Integer> outputIndexes) {
      this(txid, rawTransaction, nonce, outputIndexes, null);
    }
  }

  /**
   * The node refused to build the transaction (funds, dust, address), or the payout may not be made
   * (a policy); nothing was signed.
   *
   * @param regardless final whatever the round holds: a refusal about the payout itself (its
   *     recipient), not one that coins or nonces held by the round's earlier units could cause
   * @param funds the account's coins, less what its transactions not mined yet may spend, fall
   *     short: units in flight from earlier rounds may be what holds them
   */
  record Refused(String reason, boolean regardless, boolean funds) implements Preparation {
    public Refused(String reason) {
      this(reason, false, false);
    }

    public Refused(String reason, boolean regardless) {
      this(reason, regardless, false);
    }

    /** Short of funds once what was signed and not mined is taken off. */
    public static Refused insufficient(String reason) {
      return new Refused(reason, false, true);
    }
  }
}
