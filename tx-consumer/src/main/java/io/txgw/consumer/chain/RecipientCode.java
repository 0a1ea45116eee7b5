package io.txgw.consumer.chain;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.consumer.rpc.Rpc;
import io.txgw.consumer.rpc.RpcException;
import java.math.BigInteger;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether a native payout's recipient holds code, for clients that may not pay contracts: a round's
 * recipients are read at once ({@link CodeSizes}), and only those seen with code, or not seen, are
 * asked one by one ({@code eth_getCode}). What one round learned is never used in the next. Bounded
 * by one round's recipients.
 */
final class RecipientCode {
  private static final Logger log = LoggerFactory.getLogger(RecipientCode.class);
  private static final Pattern HEX_CODE = Pattern.compile("0x([0-9a-fA-F]{2})*");

  private final Rpc rpc;

  /** Recipients of this round seen without code at the latest block. */
  private final Set<String> codeless = new HashSet<>();

  RecipientCode(Rpc rpc) {
    this.rpc = rpc;
  }

  /** Forgets the last round, then reads the code sizes of {@code addresses} for this one. */
  void preview(List<String> addresses) throws InterruptedException {
    codeless.clear();
    List<String> asked =
        addresses.stream().map(a -> a.toLowerCase(Locale.ROOT)).distinct().toList();
    if (asked.size() < 2) {
      // One address costs one call either way.
      return;
    }
    for (int from = 0; from < asked.size(); from += CodeSizes.MAX_PER_CALL) {
      List<String> some =
          asked.subList(from, Math.min(asked.size(), from + CodeSizes.MAX_PER_CALL));
      List<BigInteger> sizes;
      try {
        sizes = CodeSizes.of(rpc, some);
      } catch (RpcException | RuntimeException e) {
        // Whatever went wrong, nothing is learned: each recipient is asked alone.
        log.debug("recipients' code not read at once ({}): each is asked alone", e.toString());
        return;
      }
      if (sizes == null) {
        log.debug("recipients' code sizes came back malformed: each is asked alone");
        return;
      }
      for (int i = 0; i < some.size(); i++) {
        // Only "no code" is taken from here: any code is read whole (a delegation is paid).
        if (sizes.get(i).signum() == 0) {
          codeless.add(some.get(i));
        }
      }
    }
  }

  void clear() {
    codeless.clear();
  }

  /**
   * Whether the address holds code at the latest block: a chain fact, so an answer that is not hex
   * code is a failed call (nothing is decided), never "no code". An account that delegates to code
   * (EIP-7702, code {@code 0xef0100} and an address) is a person's account: it is paid, and if its
   * code runs out of a transfer's gas the transaction reverts (FAILED, fee spent, nothing lost).
   * Best effort: code deployed after the check (or not yet seen by a lagging node) is not seen.
   * Recipients seen without code by this round's {@link #preview} are not asked again.
   */
  boolean isContract(String address) throws RpcException, InterruptedException {
    if (codeless.contains(address.toLowerCase(Locale.ROOT))) {
      return false;
    }
    JsonNode answer = rpc.call("eth_getCode", address, "latest");
    String code = answer == null || !answer.isTextual() ? null : answer.asText();
    if (code == null || !HEX_CODE.matcher(code).matches()) {
      throw new RpcException(
          RpcException.Kind.MALFORMED, null, 0, "eth_getCode: the answer is not hex code", null);
    }
    if (code.equals("0x")) {
      return false;
    }
    return !(code.length() == 2 + 46 && code.toLowerCase(Locale.ROOT).startsWith("0xef0100"));
  }
}
