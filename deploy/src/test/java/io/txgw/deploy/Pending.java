package io.txgw.deploy;

import io.txgw.common.validation.PayoutLine;
import io.txgw.loadgen.GatewayClient;
import java.util.List;
import java.util.Map;

/** How many payouts of some batches the gateway still shows as ACCEPTED (not yet handled). */
final class Pending {
  private Pending() {}

  /** A batch the gateway does not know yet counts whole. */
  static int of(GatewayClient client, Map<String, List<PayoutLine>> batches) throws Exception {
    int pending = 0;
    for (var batch : batches.entrySet()) {
      var answer = client.batch(batch.getKey());
      pending +=
          answer.status() == 200
              ? answer.body().path("counts").path("ACCEPTED").asInt(0)
              : batch.getValue().size();
    }
    return pending;
  }
}
