package io.txgw.consumer.rpc;

import io.txgw.common.config.Secret;
import io.txgw.coordinator.nodes.NodeUrls;
import java.time.Duration;
import java.util.Objects;

/**
 * Where and how to call one node's JSON-RPC port. The password is a {@link Secret} and never part
 * of {@link #toString()}.
 *
 * @param name the node's name in logs and results
 * @param jsonRpc2 true to send {@code "jsonrpc":"2.0"}; false for Bitcoin-style 1.0
 */
public record RpcEndpoint(
    String name, String url, String user, Secret password, boolean jsonRpc2, Duration timeout) {
  public RpcEndpoint {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(url, "url");
    Objects.requireNonNull(timeout, "timeout");
  }

  @Override
  public String toString() {
    // A URL's path can hold a key (https://host/v3/KEY): scheme, host and port only.
    return "RpcEndpoint["
        + name
        + " "
        + NodeUrls.shown(url)
        + (user == null ? "" : " user=" + user)
        + "]";
  }
}
