package io.txgw.gateway;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.txgw.common.model.Chain;
import io.txgw.common.model.PayoutStatus;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** A batch's progress as answered by {@code GET /v1/batches/{id}}. */
public record BatchStatus(
    String batchId,
    Chain chain,
    String source,
    Instant acceptedAt,
    int total,
    Map<PayoutStatus, Integer> counts,
    List<Item> payouts) {

  /** One payout's latest state. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Item(
      String id, PayoutStatus status, String txid, String node, String error, Instant updatedAt) {}
}
