package io.txgw.consumer.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.txgw.common.json.Json;

/**
 * Calls on one node, or on whichever node of a chain is in rotation. Failures are {@link
 * RpcException}s classified by whether the node may have acted.
 */
public interface Rpc {
  /** The node that answers now, for logs and results. */
  String name();

  JsonNode call(String method, ArrayNode params) throws RpcException, InterruptedException;

  /**
   * A call to a JSON REST endpoint of the same node (bcoin's wallet API), classified like a
   * JSON-RPC call: an answer {@code {"error":{"message":...}}} is the node's decision.
   *
   * @param path appended to the endpoint URL, e.g. {@code /wallet/primary/create}
   */
  JsonNode rest(String httpMethod, String path, JsonNode body)
      throws RpcException, InterruptedException;

  /**
   * Hands the same call to the chain's other nodes in rotation, best effort: a broadcast then
   * survives the loss of the node that took it first. A single node has no others.
   */
  default void relay(String method, Object... params) throws InterruptedException {}

  /** Calls {@code method} with positional parameters and returns its result (maybe null). */
  default JsonNode call(String method, Object... params) throws RpcException, InterruptedException {
    ArrayNode array = Json.mapper().createArrayNode();
    for (Object p : params) {
      array.add(Json.mapper().<JsonNode>valueToTree(p));
    }
    return call(method, array);
  }
}
