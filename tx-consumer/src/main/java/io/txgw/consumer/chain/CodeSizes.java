package io.txgw.consumer.chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.txgw.common.json.Json;
import io.txgw.consumer.rpc.Rpc;
import io.txgw.consumer.rpc.RpcException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The code size of many addresses at the latest block, in one {@code eth_call}: a standard call
 * without a recipient runs its data as a contract's creation code, and returns what that code
 * returns. The code here asks {@code EXTCODESIZE} of each address and returns the sizes, one
 * 32-byte word each. Nothing is deployed and nothing is sent; every node that serves {@code
 * eth_call} answers it alike, since it is the chain's own state that answers.
 *
 * <p>Bounded: {@link #MAX_PER_CALL} addresses per call, whose answer (32 bytes each) stays under
 * the 24,576 bytes a creation may return, and whose code under the 49,152 bytes creation code may
 * have.
 */
public final class CodeSizes {
  public static final int MAX_PER_CALL = 500;

  private static final HexFormat HEX = HexFormat.of();

  private CodeSizes() {}

  /**
   * Each address's code size, in order; null when the node's answer is not one word per address
   * (then nothing is known from it).
   */
  public static List<BigInteger> of(Rpc rpc, List<String> addresses)
      throws RpcException, InterruptedException {
    if (addresses.isEmpty() || addresses.size() > MAX_PER_CALL) {
      throw new IllegalArgumentException("1 to " + MAX_PER_CALL + " addresses per call");
    }
    ObjectNode call = Json.mapper().createObjectNode();
    call.put("data", program(addresses));
    JsonNode answer = rpc.call("eth_call", call, "latest");
    return answer == null || !answer.isTextual() ? null : sizes(answer.asText(), addresses.size());
  }

  /**
   * Creation code: per address {@code PUSH20 address, EXTCODESIZE, PUSH2 32*i, MSTORE}, then {@code
   * PUSH2 32*n, PUSH1 0, RETURN}.
   */
  static String program(List<String> addresses) {
    StringBuilder code = new StringBuilder("0x");
    for (int i = 0; i < addresses.size(); i++) {
      String a = addresses.get(i);
      if (!a.matches("0x[0-9a-fA-F]{40}")) {
        throw new IllegalArgumentException("not an address: " + a);
      }
      code.append("73").append(a.substring(2).toLowerCase(java.util.Locale.ROOT));
      code.append("3b");
      code.append("61").append(String.format("%04x", 32 * i));
      code.append("52");
    }
    code.append("61").append(String.format("%04x", 32 * addresses.size()));
    code.append("6000f3");
    return code.toString();
  }

  static List<BigInteger> sizes(String answer, int n) {
    if (!answer.startsWith("0x") || answer.length() != 2 + 64 * n) {
      return null;
    }
    byte[] bytes;
    try {
      bytes = HEX.parseHex(answer.substring(2));
    } catch (IllegalArgumentException e) {
      return null;
    }
    List<BigInteger> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      byte[] word = java.util.Arrays.copyOfRange(bytes, 32 * i, 32 * (i + 1));
      out.add(new BigInteger(1, word));
    }
    return out;
  }
}
