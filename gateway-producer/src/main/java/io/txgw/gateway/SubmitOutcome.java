package io.txgw.gateway;

import io.txgw.common.model.BatchRecord;
import io.txgw.common.validation.Violation;
import java.util.List;

/** What became of a posted batch. */
public sealed interface SubmitOutcome {
  /** Written to Kafka now, or earlier with the same content ({@code replay}). */
  record Accepted(BatchRecord batch, boolean replay) implements SubmitOutcome {}

  /** At least one item is invalid; nothing was written. */
  record Rejected(List<Violation> violations) implements SubmitOutcome {}

  /** The batch id is taken by a batch with other content; nothing was written. */
  record Conflict(BatchRecord existing) implements SubmitOutcome {}
}
