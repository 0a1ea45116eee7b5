package io.txgw.gateway;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.txgw.common.model.Chain;
import io.txgw.common.model.PayoutStatus;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A batch's progress as answered by {@code GET /v1/batches/{id}}: counts by status, the first and
 * last result, and (unless only the summary was asked for) every payout's latest state.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BatchStatus(
    String batchId,
    Chain chain,
    String source,
    Instant acceptedAt,
    int total,
    Map<PayoutStatus, Integer> counts,
    Instant firstUpdate,
    Instant lastUpdate,
    List<Item> payouts) {

  /** Payouts a consumer has handled, whatever the outcome. */
  public int handled() {
    return total - counts.getOrDefault(PayoutStatus.ACCEPTED, 0);
  }

  /** True once every payout has a result. */
  public boolean complete() {
    return handled() == total;
  }

  /**
   * One payout's latest state. {@code acceptedIn} names the earlier batch that accepted this same
   * payout and whose payment this is; null when this batch wrote it.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Item(
      String id,
      PayoutStatus status,
      String txid,
      String node,
      String error,
      Instant updatedAt,
      String acceptedIn) {}
}
