package io.txgw.gateway.approval;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.txgw.common.validation.BatchSubmission;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * One record of the {@code approvals} topic: a batch held for approval, or a decision on one. Every
 * gateway folds the topic in offset order ({@link ApprovalFold}), so the first decision on a held
 * batch is the one every gateway sees, whichever gateway wrote it. A decision names the hold it
 * decides (and an approval the content it approves): it counts on that hold only, never on another
 * held later under the same batch id.
 *
 * @param proposal a random id: the writer finds by it whether its own record is the one that
 *     counted
 * @param at when the writer wrote it, by its clock: for people; the fold goes by the log's time
 * @param person the person who posted (HOLD) or decided (APPROVE, REJECT); null for EXPIRE
 * @param keyId the id of the key they used (the first hex digits of its digest)
 * @param hold a decision or a write record: the proposal of the HOLD it is about
 * @param claim WRITTEN, REFUSED: the write claim (an APPROVE's or a CLAIM's proposal) it acts under
 * @param lease APPROVE, CLAIM: how long the write claim it makes holds (its gateway's setting,
 *     carried in the record so that every fold goes by the same); null is {@link
 *     ApprovalFold#LEASE}
 * @param fingerprint HOLD: the batch's content digest; APPROVE: the content approved
 * @param expiresAt HOLD: when the batch stops waiting; a gateway then writes an EXPIRE
 * @param submission HOLD only: the batch as posted, re-validated and written when approved
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ApprovalRecord(
    Kind kind,
    String proposal,
    String clientId,
    String batchId,
    Instant at,
    String person,
    String keyId,
    String hold,
    String claim,
    String fingerprint,
    String chain,
    String source,
    Integer payouts,
    Map<String, String> totals,
    Instant expiresAt,
    BatchSubmission submission,
    String reason,
    java.time.Duration lease) {
  public enum Kind {
    HOLD,
    APPROVE,
    REJECT,
    /** Nobody decided in time: written by any gateway that sees the batch overdue. */
    EXPIRE,
    /**
     * Takes over the write of an approved batch whose writer said nothing within {@link
     * ApprovalFold#LEASE}: only the holder of the current claim writes.
     */
    CLAIM,
    /** The approved batch is on {@code sendto}. */
    WRITTEN,
    /** The approved batch's write was refused for good (by its current claim holder). */
    REFUSED
  }

  public ApprovalRecord {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(proposal, "proposal");
    Objects.requireNonNull(clientId, "clientId");
    Objects.requireNonNull(batchId, "batchId");
    Objects.requireNonNull(at, "at");
    if (kind == Kind.HOLD) {
      Objects.requireNonNull(person, "person");
      Objects.requireNonNull(fingerprint, "fingerprint");
      Objects.requireNonNull(expiresAt, "expiresAt");
      Objects.requireNonNull(payouts, "payouts");
    } else {
      Objects.requireNonNull(hold, "hold");
    }
    if (kind == Kind.APPROVE) {
      Objects.requireNonNull(fingerprint, "fingerprint");
    }
    if (kind == Kind.WRITTEN || kind == Kind.REFUSED) {
      Objects.requireNonNull(claim, "claim");
    }
    if (kind == Kind.APPROVE || kind == Kind.REJECT) {
      Objects.requireNonNull(person, "person");
      Objects.requireNonNull(keyId, "keyId");
    }
  }

  /** The same record, making its write claim hold {@code lease}. */
  public ApprovalRecord withLease(java.time.Duration lease) {
    return new ApprovalRecord(
        kind,
        proposal,
        clientId,
        batchId,
        at,
        person,
        keyId,
        hold,
        claim,
        fingerprint,
        chain,
        source,
        payouts,
        totals,
        expiresAt,
        submission,
        reason,
        lease);
  }

  /** A decision on the hold {@code state} records. */
  public static ApprovalRecord decision(
      Kind kind,
      String proposal,
      ApprovalState state,
      Instant at,
      String person,
      String keyId,
      String reason) {
    return about(
        kind,
        proposal,
        state,
        at,
        person,
        keyId,
        null,
        kind == Kind.APPROVE ? state.fingerprint() : null,
        reason);
  }

  /** A record about the write of the approved batch {@code state}: CLAIM, WRITTEN or REFUSED. */
  public static ApprovalRecord write(
      Kind kind, String proposal, ApprovalState state, Instant at, String claim, String reason) {
    return about(kind, proposal, state, at, null, null, claim, null, reason);
  }

  /** A record about the hold {@code state} records: a decision, or one about its write. */
  private static ApprovalRecord about(
      Kind kind,
      String proposal,
      ApprovalState state,
      Instant at,
      String person,
      String keyId,
      String claim,
      String fingerprint,
      String reason) {
    return new ApprovalRecord(
        kind,
        proposal,
        state.clientId(),
        state.batchId(),
        at,
        person,
        keyId,
        state.holdProposal(),
        claim,
        fingerprint,
        null,
        null,
        null,
        null,
        null,
        null,
        reason,
        null);
  }

  /** The record's key on the topic. */
  public String key() {
    return clientId + "/" + batchId;
  }
}
