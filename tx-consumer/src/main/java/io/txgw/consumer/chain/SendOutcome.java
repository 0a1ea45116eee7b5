package io.txgw.consumer.chain;

import io.txgw.common.model.PayoutStatus;

/**
 * What one send did: BROADCAST with a txid the node holds, FAILED with the node's reason, or
 * UNKNOWN (with a txid where one is known) when the chain could not settle it.
 */
public record SendOutcome(PayoutStatus status, String txid, String error) {
  public static SendOutcome broadcast(String txid) {
    return new SendOutcome(PayoutStatus.BROADCAST, txid, null);
  }

  public static SendOutcome failed(String reason) {
    return new SendOutcome(PayoutStatus.FAILED, null, reason);
  }

  public static SendOutcome unknown(String txid, String reason) {
    return new SendOutcome(PayoutStatus.UNKNOWN, txid, reason);
  }
}
