package io.txgw.gateway.policy;

import io.txgw.common.security.ClientPolicy;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/** A client's limits as {@code GET /v1/limits} answers them. */
public final class ClientLimits {
  private ClientLimits() {}

  /**
   * Its sources, its per-batch maxima and, per asset with a daily maximum, what its batches paid in
   * the 24 hours before {@code now} and what is left.
   *
   * @param dailySpend null when the gateway counts no daily spend: the maxima alone are answered
   */
  public static Map<String, Object> of(ClientPolicy p, DailySpend dailySpend, Instant now) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("client", p.client());
    body.put("sources", new TreeSet<>(p.spend()));
    Map<String, String> perBatch = new TreeMap<>();
    p.maxBatchTotal().forEach((asset, max) -> perBatch.put(asset, max.toString()));
    body.put("maxBatchTotal", perBatch);
    Map<String, Object> daily = new TreeMap<>();
    p.maxDailyTotal()
        .forEach(
            (asset, max) -> {
              Map<String, String> d = new LinkedHashMap<>();
              d.put("max", max.toString());
              if (dailySpend != null) {
                BigDecimal spent = dailySpend.total(p.client(), asset, now);
                d.put("spent", spent.stripTrailingZeros().toPlainString());
                d.put(
                    "left",
                    max.toBigDecimal()
                        .subtract(spent)
                        .max(BigDecimal.ZERO)
                        .stripTrailingZeros()
                        .toPlainString());
              }
              daily.put(asset, d);
            });
    body.put("maxDailyTotal", daily);
    return body;
  }
}
