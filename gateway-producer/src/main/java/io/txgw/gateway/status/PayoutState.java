package io.txgw.gateway.status;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.model.PayoutStatus;
import java.time.Instant;
import java.util.Objects;

/** The latest known state of one payout, as the status view keeps it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PayoutState(
    PayoutStatus status, String txid, String node, String error, Instant updatedAt) {
  public PayoutState {
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(updatedAt, "updatedAt");
  }

  static PayoutState of(PayoutResult r) {
    return new PayoutState(r.status(), r.txid(), r.node(), r.error(), r.updatedAt());
  }

  /**
   * True when {@code next} is news after this state. Results can arrive out of order (a consumer's
   * retry recorded after its successor's) and twice (a re-sent record): the later update wins, and
   * an update at the same instant wins only when it moves the payout to a later status.
   */
  boolean isSupersededBy(PayoutState next) {
    int time = next.updatedAt.compareTo(updatedAt);
    if (time != 0) {
      return time > 0;
    }
    return next.status.ordinal() > status.ordinal();
  }
}
