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

  /** Payouts in a final state: CONFIRMED, FAILED or UNKNOWN. */
  public int settled() {
    int n = 0;
    for (Map.Entry<PayoutStatus, Integer> e : counts.entrySet()) {
      if (e.getKey().isFinal()) {
        n += e.getValue();
      }
    }
    return n;
  }

  /**
   * True once every payout is final: nothing more will happen to the batch. A payout BROADCAST
   * waits for its confirmation depth; one REORGED is broadcast again.
   */
  public boolean complete() {
    return settled() == total;
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
