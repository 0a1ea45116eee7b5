package io.txgw.gateway.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.txgw.common.validation.Violation;
import io.txgw.gateway.status.PayoutIndex;
import java.util.List;

/**
 * An RFC 9457 problem body: every client error is answered with one. {@code violations} lists the
 * invalid items of a batch; {@code conflicts} the payouts whose ids earlier batches hold; {@code
 * unconfirmed} the payouts whose ids are in batches whose write is not confirmed; {@code more} how
 * many violations are not listed.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record Problem(
    String type,
    String title,
    int status,
    String detail,
    List<Violation> violations,
    List<PayoutIndex.Conflict> conflicts,
    List<PayoutIndex.InDoubt> unconfirmed,
    Integer more) {
  Problem(String type, String title, int status, String detail, List<Violation> violations) {
    this(type, title, status, detail, violations, null, null, null);
  }

  Problem(
      String type,
      String title,
      int status,
      String detail,
      List<Violation> violations,
      List<PayoutIndex.Conflict> conflicts,
      List<PayoutIndex.InDoubt> unconfirmed) {
    this(type, title, status, detail, violations, conflicts, unconfirmed, null);
  }

  static Problem of(int status, String type, String title, String detail) {
    return new Problem("urn:txgw:problem:" + type, title, status, detail, null);
  }
}
