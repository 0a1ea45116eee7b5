package io.txgw.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.loadgen.GatewayClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Waits for batches to be handled and collects their payouts' states. */
final class BatchWait {
  private BatchWait() {}

  /** Polls until no payout of these batches is still ACCEPTED; returns every payout's state. */
  static List<JsonNode> handled(GatewayClient client, List<String> batchIds, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      List<JsonNode> payouts = new ArrayList<>();
      int pending = 0;
      for (String id : batchIds) {
        GatewayClient.Answer answer = client.batch(id);
        if (answer.status() != 200) {
          throw new IllegalStateException("batch " + id + ": HTTP " + answer.status());
        }
        pending += answer.body().path("counts").path("ACCEPTED").asInt(0);
        answer.body().path("payouts").forEach(payouts::add);
      }
      if (pending == 0) {
        return payouts;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(pending + " payouts still pending after " + timeout);
      }
      Thread.sleep(50);
    }
  }

  static long count(List<JsonNode> payouts, String status) {
    return payouts.stream().filter(p -> status.equals(p.path("status").asText())).count();
  }

  /** Payouts the chain holds or has confirmed: BROADCAST or CONFIRMED. */
  static long sent(List<JsonNode> payouts) {
    return payouts.stream().filter(BatchWait::isSent).count();
  }

  static boolean isSent(JsonNode payout) {
    String status = payout.path("status").asText();
    return status.equals("BROADCAST") || status.equals("CONFIRMED");
  }
}
