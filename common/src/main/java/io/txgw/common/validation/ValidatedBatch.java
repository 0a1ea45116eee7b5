package io.txgw.common.validation;

import io.txgw.common.model.Payout;
import java.util.List;

/**
 * The outcome of validating a batch: either the payouts, canonical and ready to write, or every
 * violation found. Never both.
 */
public record ValidatedBatch(List<Payout> payouts, String fingerprint, List<Violation> violations) {
  public ValidatedBatch {
    payouts = List.copyOf(payouts);
    violations = List.copyOf(violations);
  }

  public boolean valid() {
    return violations.isEmpty();
  }
}
