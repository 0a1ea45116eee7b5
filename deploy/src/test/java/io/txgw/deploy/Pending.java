package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.model.PayoutStatus;
import io.txgw.common.validation.PayoutLine;
import io.txgw.loadgen.GatewayClient;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** How many payouts of some batches are not final yet, and what their results must say. */
final class Pending {
  private Pending() {}

  /**
   * Payouts not final yet (ACCEPTED, BROADCAST waiting for its depth, or REORGED); a batch the
   * gateway does not know yet counts whole.
   */
  static int of(GatewayClient client, Map<String, List<PayoutLine>> batches) throws Exception {
    int pending = 0;
    for (var batch : batches.entrySet()) {
      var answer = client.batch(batch.getKey());
      if (answer.status() != 200) {
        pending += batch.getValue().size();
        continue;
      }
      JsonNode counts = answer.body().path("counts");
      for (String status : Demo.NOT_FINAL) {
        pending += counts.path(status).asInt(0);
      }
    }
    return pending;
  }

  /**
   * Checks the results topic: every payout of {@code payouts} keys has exactly two results,
   * BROADCAST then CONFIRMED, with one txid; no other result at all.
   */
  static void assertEachBroadcastOnceThenConfirmed(List<PayoutResult> results, int payouts) {
    Map<String, List<PayoutResult>> perPayout = new LinkedHashMap<>();
    results.forEach(r -> perPayout.computeIfAbsent(r.resultKey(), k -> new ArrayList<>()).add(r));
    assertThat(perPayout).hasSize(payouts);
    assertThat(perPayout.values())
        .allSatisfy(
            rs -> {
              assertThat(rs)
                  .extracting(PayoutResult::status)
                  .containsExactly(PayoutStatus.BROADCAST, PayoutStatus.CONFIRMED);
              assertThat(rs.get(1).txid()).isEqualTo(rs.get(0).txid());
            });
  }
}
