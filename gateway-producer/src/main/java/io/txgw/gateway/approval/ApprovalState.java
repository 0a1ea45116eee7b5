package io.txgw.gateway.approval;

import java.time.Instant;
import java.util.Map;

/**
 * A held batch as the approvals topic has decided it so far. Holds no payout: those stay on the
 * topic ({@code offset}) until an approval writes them. Its times are the log's, alike on every
 * gateway, except {@code expiresAt}, which the poster's gateway set.
 *
 * @param holdProposal the proposal of the HOLD record that created this state
 * @param decisionProposal the proposal of the decision that counted; null while pending
 * @param offset where the HOLD record is on the approvals topic
 * @param write an approved batch's write: who may write it, and how it ended; null otherwise
 */
public record ApprovalState(
    String clientId,
    String batchId,
    String chain,
    String source,
    String fingerprint,
    int payouts,
    Map<String, String> totals,
    String postedBy,
    String postedKey,
    Instant postedAt,
    Instant expiresAt,
    Status status,
    String decidedBy,
    String decidedKey,
    Instant decidedAt,
    String reason,
    String holdProposal,
    String decisionProposal,
    long offset,
    Write write) {
  /**
   * The write of an approved batch.
   *
   * @param claim the proposal under which it is written: the approval's, or a later CLAIM's
   * @param claimedAt the log's time of that claim
   * @param lease how long the claim holds
   * @param outcome null while nobody has said how it ended
   */
  public record Write(
      String claim, Instant claimedAt, java.time.Duration lease, Outcome outcome, String reason) {
    /** When another gateway may take the write over, by the log's time. */
    public Instant lapsesAt() {
      return claimedAt.plus(lease);
    }

    /** The same claim, ended. */
    Write ended(Outcome how, String why) {
      return new Write(claim, claimedAt, lease, how, why);
    }
  }

  /** How an approved batch's write ended. */
  public enum Outcome {
    WRITTEN,
    /** Refused for good (the rules, the daily maximum, payout ids taken): never written. */
    REFUSED
  }

  public enum Status {
    PENDING_APPROVAL,
    APPROVED,
    REJECTED,
    EXPIRED
  }

  public ApprovalState {
    totals = Map.copyOf(totals);
  }

  public boolean pending() {
    return status == Status.PENDING_APPROVAL;
  }

  /** Pending past its expiry at {@code now}: due for an EXPIRE, and not to be decided otherwise. */
  public boolean overdue(Instant now) {
    return pending() && !now.isBefore(expiresAt);
  }

  /** Approved, and nobody has said how its write ended. */
  public boolean writeOpen() {
    return status == Status.APPROVED && write != null && write.outcome() == null;
  }

  ApprovalState withWrite(Write w) {
    return with(status, decidedBy, decidedKey, decidedAt, reason, decisionProposal, w);
  }

  String key() {
    return clientId + "/" + batchId;
  }

  ApprovalState decided(Status to, ApprovalRecord by, Instant at) {
    // The approver's gateway writes it, under its approval.
    Write write =
        to == Status.APPROVED
            ? new Write(by.proposal(), at, ApprovalFold.leaseOf(by), null, null)
            : null;
    return with(to, by.person(), by.keyId(), at, by.reason(), by.proposal(), write);
  }

  /** This hold, decided as given: what was held stays as it was. */
  private ApprovalState with(
      Status status,
      String decidedBy,
      String decidedKey,
      Instant decidedAt,
      String reason,
      String decisionProposal,
      Write write) {
    return new ApprovalState(
        clientId,
        batchId,
        chain,
        source,
        fingerprint,
        payouts,
        totals,
        postedBy,
        postedKey,
        postedAt,
        expiresAt,
        status,
        decidedBy,
        decidedKey,
        decidedAt,
        reason,
        holdProposal,
        decisionProposal,
        offset,
        write);
  }

  static ApprovalState held(ApprovalRecord hold, long offset, Instant at) {
    return new ApprovalState(
        hold.clientId(),
        hold.batchId(),
        hold.chain(),
        hold.source(),
        hold.fingerprint(),
        hold.payouts(),
        hold.totals() == null ? Map.of() : hold.totals(),
        hold.person(),
        hold.keyId(),
        at,
        hold.expiresAt(),
        Status.PENDING_APPROVAL,
        null,
        null,
        null,
        null,
        hold.proposal(),
        null,
        offset,
        null);
  }
}
