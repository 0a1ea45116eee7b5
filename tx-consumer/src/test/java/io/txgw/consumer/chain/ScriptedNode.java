package io.txgw.consumer.chain;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.json.Json;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;

/** A JSON-RPC node for failure-path tests: answers per method from a script, records calls. */
final class ScriptedNode extends Dispatcher {
  private final Map<String, Deque<MockResponse>> script = new HashMap<>();
  private final Map<String, MockResponse> always = new HashMap<>();
  private final Map<String, MockResponse> byParam = new HashMap<>();
  final List<JsonNode> calls = Collections.synchronizedList(new ArrayList<>());

  static MockResponse resultAnswer(String resultJson) {
    return new MockResponse.Builder()
        .body("{\"result\":" + resultJson + ",\"error\":null,\"id\":1}")
        .build();
  }

  static MockResponse errorAnswer(int httpCode, int code, String message) {
    return new MockResponse.Builder()
        .code(httpCode)
        .body(
            "{\"result\":null,\"error\":{\"code\":"
                + code
                + ",\"message\":\""
                + message
                + "\"},\"id\":1}")
        .build();
  }

  ScriptedNode result(String method, String resultJson) {
    return then(method, resultAnswer(resultJson));
  }

  ScriptedNode error(String method, int code, String message) {
    return then(method, errorAnswer(200, code, message));
  }

  ScriptedNode then(String method, MockResponse response) {
    script.computeIfAbsent(method, m -> new ArrayDeque<>()).add(response);
    return this;
  }

  /** The answer for every call of {@code method} once its scripted answers are used up. */
  ScriptedNode alwaysResult(String method, String resultJson) {
    always.put(method, resultAnswer(resultJson));
    return this;
  }

  ScriptedNode alwaysError(String method, int code, String message) {
    always.put(method, errorAnswer(200, code, message));
    return this;
  }

  /**
   * The hash of the block a read of "latest" answers (unless scripted), at which an account's state
   * is then asked (EIP-1898): such a read matches a script for "latest".
   */
  static final String HEAD = "0x" + "4e".repeat(32);

  private static String paramKey(JsonNode param) {
    if (param.isObject() && param.has("blockHash")) {
      String hash = param.path("blockHash").asText();
      return hash.equals(HEAD) ? "latest" : hash;
    }
    return param.asText();
  }

  /** Whole blocks asked for by number: reads of "latest" for its hash left out. */
  List<JsonNode> blockReads() {
    return calls("eth_getBlockByNumber").stream()
        .filter(c -> !c.path("params").path(0).asText().equals("latest"))
        .toList();
  }

  /** The answer for every call of {@code method} with {@code param} among its parameters. */
  ScriptedNode resultFor(String method, String param, String resultJson) {
    byParam.put(method + " " + param, resultAnswer(resultJson));
    return this;
  }

  private io.txgw.consumer.signing.EthSigner signer;

  /**
   * Answers {@code eth_signTransaction} as a node holding the key would: the asked transaction,
   * really signed (scripted answers still come first).
   */
  ScriptedNode signingWith(io.txgw.consumer.signing.EthSigner keys) {
    this.signer = keys;
    return this;
  }

  /** The transaction an {@code eth_signTransaction} request asks for. */
  static io.txgw.consumer.signing.EthTransaction requested(JsonNode tx) {
    io.txgw.consumer.signing.EthFees fees =
        tx.has("maxFeePerGas")
            ? new io.txgw.consumer.signing.EthFees.Dynamic(
                hex(tx, "maxFeePerGas"), hex(tx, "maxPriorityFeePerGas"))
            : new io.txgw.consumer.signing.EthFees.Legacy(hex(tx, "gasPrice"));
    return new io.txgw.consumer.signing.EthTransaction(
        hex(tx, "chainId").longValueExact(),
        hex(tx, "nonce").longValueExact(),
        tx.path("from").asText(),
        tx.path("to").asText(),
        hex(tx, "value"),
        hex(tx, "gas").longValueExact(),
        fees,
        tx.path("data").asText("0x"));
  }

  private static java.math.BigInteger hex(JsonNode tx, String field) {
    return new java.math.BigInteger(tx.path(field).asText().substring(2), 16);
  }

  List<JsonNode> calls(String method) {
    synchronized (calls) {
      return calls.stream().filter(c -> c.path("method").asText().equals(method)).toList();
    }
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    JsonNode call;
    try {
      call = Json.mapper().readTree(request.getBody().utf8());
    } catch (IOException e) {
      return new MockResponse.Builder().code(400).build();
    }
    calls.add(call);
    String method = call.path("method").asText();
    for (JsonNode param : call.path("params")) {
      MockResponse specific = byParam.get(method + " " + paramKey(param));
      if (specific != null) {
        return specific;
      }
    }
    Deque<MockResponse> queue = script.get(method);
    if (queue != null && !queue.isEmpty()) {
      return queue.poll();
    }
    MockResponse fallback = always.get(method);
    if (fallback != null) {
      return fallback;
    }
    if (method.equals("eth_getBlockByNumber")
        && call.path("params").path(0).asText().equals("latest")) {
      return resultAnswer("{\"number\":\"0x1\",\"hash\":\"" + HEAD + "\",\"transactions\":[]}");
    }
    if (signer != null && method.equals("eth_signTransaction")) {
      try {
        return resultAnswer("\"" + signer.sign(requested(call.path("params").get(0))) + "\"");
      } catch (io.txgw.consumer.signing.SigningException e) {
        return errorAnswer(200, -32000, e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return new MockResponse.Builder().code(500).build();
      }
    }
    return new MockResponse.Builder()
        .body(
            "{\"result\":null,\"error\":{\"code\":-32601,\"message\":\"unscripted "
                + method
                + "\"},\"id\":1}")
        .build();
  }
}
