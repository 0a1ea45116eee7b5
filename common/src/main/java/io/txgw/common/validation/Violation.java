package io.txgw.common.validation;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One reason a batch was refused. {@code index} and {@code id} name the payout (null for a
 * batch-level field); {@code field} names the field.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Violation(Integer index, String id, String field, String reason) {
  public static Violation ofBatch(String field, String reason) {
    return new Violation(null, null, field, reason);
  }
}
