package io.txgw.common.model;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * An accepted batch as kept on the compacted batches topic: enough to answer a re-post (same
 * fingerprint: same answer; other fingerprint: conflict) and to list the batch's payouts.
 */
public record BatchRecord(
    String clientId,
    String batchId,
    Chain chain,
    String source,
    String fingerprint,
    List<String> payoutIds,
    Instant acceptedAt) {
  public BatchRecord {
    Objects.requireNonNull(clientId, "clientId");
    Objects.requireNonNull(batchId, "batchId");
    Objects.requireNonNull(chain, "chain");
    Objects.requireNonNull(fingerprint, "fingerprint");
    payoutIds = List.copyOf(payoutIds);
  }

  public String key() {
    return key(clientId, batchId);
  }

  public static String key(String clientId, String batchId) {
    return clientId + "/" + batchId;
  }
}
