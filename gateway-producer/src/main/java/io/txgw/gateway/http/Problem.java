package io.txgw.gateway.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.txgw.common.validation.Violation;
import java.util.List;

/** An RFC 9457 problem body: every client error is answered with one. */
@JsonInclude(JsonInclude.Include.NON_NULL)
record Problem(String type, String title, int status, String detail, List<Violation> violations) {
  static Problem of(int status, String type, String title, String detail) {
    return new Problem("urn:txgw:problem:" + type, title, status, detail, null);
  }
}
