package io.txgw.common.validation;

import java.util.List;

/**
 * A batch as a client sent it, before validation.
 *
 * @param asset the asset's symbol; null for the chain's native coin
 */
public record BatchSubmission(
    String batchId, String chain, String source, List<PayoutLine> payouts, String asset) {
  /** A batch of the chain's native coin. */
  public BatchSubmission(String batchId, String chain, String source, List<PayoutLine> payouts) {
    this(batchId, chain, source, payouts, null);
  }
}
