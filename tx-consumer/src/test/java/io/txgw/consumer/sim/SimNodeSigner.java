package io.txgw.consumer.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.txgw.common.json.Json;
import io.txgw.consumer.rpc.Rpc;
import io.txgw.consumer.rpc.RpcException;
import io.txgw.consumer.signing.EthSigner;
import io.txgw.consumer.signing.EthTransaction;
import io.txgw.consumer.signing.SigningException;

/**
 * The simulated node's {@code eth_signTransaction}, with its faults: the simulation packs a
 * transaction's fields into its own raw format rather than RLP with a signature, so the check real
 * signers' answers get does not apply. What is simulated is the sender's handling of the node.
 */
final class SimNodeSigner implements EthSigner {
  private final Rpc node;

  SimNodeSigner(Rpc node) {
    this.node = node;
  }

  @Override
  public String name() {
    return "the simulated node";
  }

  @Override
  public boolean holds(String account) {
    return true;
  }

  @Override
  public String sign(EthTransaction tx) throws SigningException, InterruptedException {
    ObjectNode request = Json.mapper().createObjectNode();
    request.put("from", tx.from());
    request.put("to", tx.to());
    request.put("value", "0x" + tx.value().toString(16));
    request.put("nonce", "0x" + Long.toHexString(tx.nonce()));
    request.put("gasPrice", "0x" + tx.fees().cap().toString(16));
    try {
      JsonNode raw = node.call("eth_signTransaction", request);
      return raw.asText();
    } catch (RpcException e) {
      throw new SigningException(e.getMessage(), e.kind() == RpcException.Kind.NODE_ERROR, e);
    }
  }
}
