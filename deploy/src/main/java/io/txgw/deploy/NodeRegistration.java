package io.txgw.deploy;

import io.txgw.common.model.Chain;
import io.txgw.coordinator.nodes.NodeRegistry;
import io.txgw.coordinator.nodes.NodeSpec;
import io.txgw.deploy.nodes.BcoinNode;
import java.util.List;
import java.util.Locale;
import org.apache.curator.framework.CuratorFramework;

/** How a local stack puts its nodes in the registry, where the consumers find them. */
final class NodeRegistration {
  private NodeRegistration() {}

  /** Each bcoin node, its API key named by an environment variable, never in the registry. */
  static void bcoins(CuratorFramework zk, List<BcoinNode> bcoins, LocalStack.NodeLimits limits)
      throws Exception {
    NodeRegistry registry = new NodeRegistry(zk);
    for (BcoinNode b : bcoins) {
      registry.put(
          new NodeSpec(
              Chain.BTC,
              b.name(),
              b.nodeUrl(),
              b.walletUrl(),
              "x",
              "env:" + keyVariable(b),
              limits.maxRequestsPerSecond(),
              limits.maxInFlight(),
              100,
              false));
    }
  }

  /** Anvil as the ETH node {@code anvil} at {@code url}. */
  static void anvil(CuratorFramework zk, String url, LocalStack.NodeLimits limits)
      throws Exception {
    new NodeRegistry(zk)
        .put(
            new NodeSpec(
                Chain.ETH,
                "anvil",
                url,
                null,
                null,
                null,
                limits.maxRequestsPerSecond(),
                limits.maxInFlight(),
                100,
                false));
  }

  /** Where consumers find a bcoin node's API key: their environment, never the registry. */
  static String keyVariable(BcoinNode b) {
    return "TXGW_NODE_KEY_" + b.name().toUpperCase(Locale.ROOT).replace('-', '_');
  }
}
