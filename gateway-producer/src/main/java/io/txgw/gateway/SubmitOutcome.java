package io.txgw.gateway;

import io.txgw.common.model.BatchRecord;
import io.txgw.common.validation.Violation;
import io.txgw.gateway.status.PayoutIndex;
import java.util.List;

/** What became of a posted batch. */
public sealed interface SubmitOutcome {
  /**
   * Written to Kafka now, or earlier with the same content ({@code replay}). Payouts an earlier
   * batch had accepted with the same content ({@link BatchRecord#acceptedEarlier()}) were not
   * written again: they are that batch's.
   */
  record Accepted(BatchRecord batch, boolean replay) implements SubmitOutcome {}

  /** At least one item is invalid; nothing was written. */
  /**
   * @param total how many violations were found: more than listed when a body had so many that only
   *     the first were kept
   */
  record Rejected(List<Violation> violations, int total) implements SubmitOutcome {
    public Rejected(List<Violation> violations) {
      this(violations, violations.size());
    }
  }

  /**
   * The batch id is taken by a batch with other content, or may be ({@code unconfirmed}: a write of
   * it is not confirmed); nothing was written.
   */
  record Conflict(BatchRecord existing, boolean unconfirmed) implements SubmitOutcome {
    public Conflict(BatchRecord existing) {
      this(existing, false);
    }
  }

  /**
   * Payout ids of the batch were accepted earlier, in other batches, for other payments: payout ids
   * are the client's forever. Nothing was written.
   */
  record PayoutIdsTaken(List<PayoutIndex.Conflict> conflicts) implements SubmitOutcome {
    public PayoutIdsTaken {
      conflicts = List.copyOf(conflicts);
    }
  }

  /**
   * Payout ids of the batch are in batches of this gateway whose write is not confirmed: whether
   * those batches exist is not known yet, so neither is whether the ids are taken. Nothing was
   * written; the condition passes once the writes' fate is known.
   */
  record PayoutIdsUnconfirmed(List<PayoutIndex.InDoubt> ids) implements SubmitOutcome {
    public PayoutIdsUnconfirmed {
      ids = List.copyOf(ids);
    }
  }

  /**
   * The gateway holds too many payout ids of batches the view has not read back, for this client or
   * over all ({@link PayoutIndex.Full#gateway()}); nothing was written.
   */
  record HeldLimit(PayoutIndex.Full full) implements SubmitOutcome {}

  /**
   * Held for a second person's approval: nothing is written to {@code sendto} until then. {@code
   * replay}: held earlier with the same content; its state may be decided since (rejected, expired,
   * approved).
   */
  record Held(io.txgw.gateway.approval.ApprovalState state, boolean replay)
      implements SubmitOutcome {}

  /** The batch id is held for approval with other content; nothing was written. */
  record HeldConflict(io.txgw.gateway.approval.ApprovalState existing) implements SubmitOutcome {}

  /**
   * The client has as many batches waiting for approval as it may ({@code maxPending}), or has held
   * {@code maxPerDay} in the last 24 hours; nothing was written.
   */
  record ApprovalsFull(int maxPending, int maxPerDay) implements SubmitOutcome {}
}
