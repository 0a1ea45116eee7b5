package io.txgw.common.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An accepted batch as kept on the compacted batches topic: enough to answer a re-post (same
 * fingerprint: same answer; other fingerprint: conflict), to list the batch's payouts, and to tell
 * whether a payout id posted again later is the same payout.
 *
 * @param lines what each payout pays, in the order of {@code payoutIds}; empty in batches written
 *     before it was kept
 * @param acceptedEarlier payout ids of this batch that an earlier batch had already accepted with
 *     the same content, to that batch's id: this batch did not write them again, and their state is
 *     that batch's payment of them
 */
public record BatchRecord(
    String clientId,
    String batchId,
    Chain chain,
    String source,
    String fingerprint,
    List<String> payoutIds,
    Instant acceptedAt,
    @JsonInclude(JsonInclude.Include.NON_EMPTY) List<Line> lines,
    @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, String> acceptedEarlier) {
  public BatchRecord {
    Objects.requireNonNull(clientId, "clientId");
    Objects.requireNonNull(batchId, "batchId");
    Objects.requireNonNull(chain, "chain");
    Objects.requireNonNull(fingerprint, "fingerprint");
    payoutIds = List.copyOf(payoutIds);
    // Absent in records written before these were kept.
    lines = lines == null ? List.of() : List.copyOf(lines);
    acceptedEarlier = acceptedEarlier == null ? Map.of() : Map.copyOf(acceptedEarlier);
  }

  /** A batch whose payouts' content is not kept (tests, and records from before it was). */
  public BatchRecord(
      String clientId,
      String batchId,
      Chain chain,
      String source,
      String fingerprint,
      List<String> payoutIds,
      Instant acceptedAt) {
    this(clientId, batchId, chain, source, fingerprint, payoutIds, acceptedAt, null, null);
  }

  /**
   * What one payout pays. {@code asset} is null for the chain's native coin, which is every payout
   * today: it would otherwise repeat on each of up to 10,000 lines.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Line(Address to, Amount amount, Asset asset) {
    public Line {
      Objects.requireNonNull(to, "to");
      Objects.requireNonNull(amount, "amount");
    }

    public static Line of(Payout p) {
      return new Line(
          p.to(), p.amount(), p.asset().equals(p.chain().nativeAsset()) ? null : p.asset());
    }

    /** The asset paid, given the batch's chain. */
    public Asset assetOn(Chain chain) {
      return asset == null ? chain.nativeAsset() : asset;
    }
  }

  /**
   * This batch, with the payouts an earlier batch already accepted (see {@code acceptedEarlier}).
   */
  public BatchRecord withAcceptedEarlier(Map<String, String> earlier) {
    return new BatchRecord(
        clientId, batchId, chain, source, fingerprint, payoutIds, acceptedAt, lines, earlier);
  }

  /** The line of the payout at {@code index}, or null when this record does not keep lines. */
  public Line line(int index) {
    return lines.size() == payoutIds.size() ? lines.get(index) : null;
  }

  public String key() {
    return key(clientId, batchId);
  }

  public static String key(String clientId, String batchId) {
    return clientId + "/" + batchId;
  }
}
