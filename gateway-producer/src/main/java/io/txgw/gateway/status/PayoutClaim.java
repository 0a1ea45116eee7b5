package io.txgw.gateway.status;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.txgw.common.model.Address;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Asset;
import io.txgw.common.model.BatchRecord;
import io.txgw.common.model.Chain;
import io.txgw.common.model.Payout;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What a client's payout id stands for once a batch has accepted it: the batch, and the payment.
 * Payout ids are the client's forever, so the id may only come back as this same payment.
 *
 * <p>{@code to} and {@code amount} are null for a batch written before its records kept them: such
 * a payout cannot be shown to be the same as a later one, and is never taken for it.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PayoutClaim(
    String batchId,
    Chain chain,
    Asset asset,
    String source,
    Address to,
    Amount amount,
    Instant acceptedAt) {
  public PayoutClaim {
    Objects.requireNonNull(batchId, "batchId");
    Objects.requireNonNull(chain, "chain");
    Objects.requireNonNull(acceptedAt, "acceptedAt");
  }

  public static PayoutClaim of(Payout p) {
    return new PayoutClaim(
        p.batchId(), p.chain(), p.asset(), p.source(), p.to(), p.amount(), p.acceptedAt());
  }

  /** The claim of the payout at {@code index} of an accepted batch. */
  static PayoutClaim of(BatchRecord batch, int index) {
    BatchRecord.Line line = batch.line(index);
    return new PayoutClaim(
        batch.batchId(),
        batch.chain(),
        line == null ? batch.chain().nativeAsset() : line.assetOn(batch.chain()),
        batch.source(),
        line == null ? null : line.to(),
        line == null ? null : line.amount(),
        batch.acceptedAt());
  }

  /** True when {@code p} pays exactly what this claim pays: it is the same payout posted again. */
  public boolean samePayment(Payout p) {
    return differences(p).isEmpty();
  }

  /**
   * The fields in which {@code p} is another payment: {@code chain}, {@code asset}, {@code source},
   * {@code to}, {@code amount} (exact: 1.50 and 1.5 are the same amount). A field this claim does
   * not know counts as different.
   */
  public List<String> differences(Payout p) {
    List<String> fields = new ArrayList<>(2);
    if (chain != p.chain()) {
      fields.add("chain");
    }
    if (!Objects.equals(asset, p.asset())) {
      fields.add("asset");
    }
    if (!Objects.equals(source, p.source())) {
      fields.add("source");
    }
    if (!Objects.equals(to, p.to())) {
      fields.add("to");
    }
    if (!Objects.equals(amount, p.amount())) {
      fields.add("amount");
    }
    return fields;
  }

  /**
   * The order two batches claiming one id (from before the index, or from two gateways racing) are
   * taken in, the same on every gateway: the earlier accepted, then the smaller batch id.
   */
  boolean precedes(PayoutClaim other) {
    int time = acceptedAt.compareTo(other.acceptedAt);
    return time != 0 ? time < 0 : batchId.compareTo(other.batchId) < 0;
  }
}
