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
  record Signed(String txid, String rawTransaction, Long nonce, List<Integer> outputIndexes)
      implements Preparation {
    public Signed {
      outputIndexes = List.copyOf(outputIndexes);
    }
  }

  /** The node refused to build the transaction (funds, dust, address); nothing was signed. */
  record Refused(String reason) implements Preparation {}
}
