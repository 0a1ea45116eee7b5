package io.txgw.common.model;

import java.time.Instant;
import java.util.Objects;

/**
 * One state change of one payout, as recorded on the results topic. {@code txid}, {@code node} and
 * {@code error} are null where they do not apply.
 */
public record PayoutResult(
    String payoutId,
    String batchId,
    String clientId,
    Chain chain,
    PayoutStatus status,
    String txid,
    String node,
    String error,
    Instant acceptedAt,
    Instant updatedAt) {
  public PayoutResult {
    Objects.requireNonNull(payoutId, "payoutId");
    Objects.requireNonNull(batchId, "batchId");
    Objects.requireNonNull(clientId, "clientId");
    Objects.requireNonNull(chain, "chain");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(updatedAt, "updatedAt");
  }

  public static PayoutResult broadcast(Payout p, String txid, String node, Instant at) {
    return new PayoutResult(
        p.id(),
        p.batchId(),
        p.clientId(),
        p.chain(),
        PayoutStatus.BROADCAST,
        txid,
        node,
        null,
        p.acceptedAt(),
        at);
  }

  /** Its transaction's block reached the configured depth. */
  public static PayoutResult confirmed(Payout p, String txid, String node, Instant at) {
    return new PayoutResult(
        p.id(),
        p.batchId(),
        p.clientId(),
        p.chain(),
        PayoutStatus.CONFIRMED,
        txid,
        node,
        null,
        p.acceptedAt(),
        at);
  }

  public static PayoutResult failed(Payout p, String node, String error, Instant at) {
    return new PayoutResult(
        p.id(),
        p.batchId(),
        p.clientId(),
        p.chain(),
        PayoutStatus.FAILED,
        null,
        node,
        error,
        p.acceptedAt(),
        at);
  }

  public static PayoutResult unknown(Payout p, String txid, String node, String error, Instant at) {
    return new PayoutResult(
        p.id(),
        p.batchId(),
        p.clientId(),
        p.chain(),
        PayoutStatus.UNKNOWN,
        txid,
        node,
        error,
        p.acceptedAt(),
        at);
  }

  public String resultKey() {
    return clientId + "/" + payoutId;
  }
}
