package io.txgw.gateway.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.txgw.common.model.Chain;
import io.txgw.common.model.FailureCode;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.model.PayoutStatus;
import java.time.Instant;

/**
 * One state change of one payout as a client is told it, by webhook and by {@code GET /v1/events}.
 * {@code id} ({@code partition-offset} in the results topic) is unique and the same in both: a
 * receiver drops an event whose id it has already taken (deliveries are at least once).
 *
 * @param error the failure code; null unless FAILED or UNKNOWN
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ResultEvent(
    String id,
    String payoutId,
    String batchId,
    Chain chain,
    PayoutStatus status,
    String txid,
    String error,
    Instant updatedAt) {

  public static ResultEvent of(int partition, long offset, PayoutResult result) {
    return new ResultEvent(
        partition + "-" + offset,
        result.payoutId(),
        result.batchId(),
        result.chain(),
        result.status(),
        result.txid(),
        FailureCode.of(result.error()),
        result.updatedAt());
  }

  /** Whether a result record's key ({@code client/payoutId}) is one of {@code client}'s. */
  static boolean isOf(String key, String client) {
    return key != null
        && key.length() > client.length()
        && key.charAt(client.length()) == '/'
        && key.startsWith(client);
  }
}
