package io.txgw.coordinator.nodes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txgw.common.config.ConfigException;
import io.txgw.common.model.Chain;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeEndpointRulesTest {
  private static final NodeEndpointRules DEFAULTS = NodeEndpointRules.defaults();
  private static final NodeEndpointRules WITH_DIR =
      new NodeEndpointRules("TXGW_NODE_", Path.of("/etc/txgw/nodes"), false);

  private static NodeSpec node(String url, String credentials) {
    return new NodeSpec(Chain.ETH, "n", url, null, null, credentials, 10, 4, 100, false);
  }

  @Test
  void anEnvReferenceWithTheNodePrefixIsTaken() {
    assertThat(DEFAULTS.problems(node("https://node.example", "env:TXGW_NODE_GETH_KEY"))).isEmpty();
  }

  @Test
  void anEnvReferenceToAnotherVariableIsRefused() {
    assertThat(DEFAULTS.problems(node("https://node.example", "env:TXGW_BTC_RPC_PASSWORD")))
        .singleElement()
        .asString()
        .contains("outside TXGW_NODE_*");
    assertThat(DEFAULTS.problems(node("https://node.example", "env:AWS_SECRET_ACCESS_KEY")))
        .hasSize(1);
  }

  @Test
  void aFileReferenceIsRefusedWhileNoDirectoryIsConfigured() {
    assertThat(DEFAULTS.problems(node("https://node.example", "file:/etc/txgw/nodes/geth")))
        .singleElement()
        .asString()
        .contains("file references are off");
  }

  @Test
  void aFileReferenceOutsideTheCredentialsDirectoryIsRefused() {
    assertThat(WITH_DIR.problems(node("https://node.example", "file:/etc/txgw/nodes/geth")))
        .isEmpty();
    assertThat(WITH_DIR.problems(node("https://node.example", "file:/proc/self/environ")))
        .singleElement()
        .asString()
        .contains("lies outside /etc/txgw/nodes");
    assertThat(WITH_DIR.problems(node("https://node.example", "file:/etc/txgw/nodes-other/k")))
        .hasSize(1);
  }

  @Test
  void aFileReferenceWithDotDotOrRelativeIsRefused() {
    assertThat(WITH_DIR.problems(node("https://n.example", "file:/etc/txgw/nodes/../../shadow")))
        .singleElement()
        .asString()
        .contains("without '.' or '..'");
    assertThat(WITH_DIR.problems(node("https://n.example", "file:nodes/geth"))).hasSize(1);
  }

  @Test
  void plainHttpIsTakenOnLoopbackOnly() {
    for (String url :
        new String[] {
          "http://127.0.0.1:8545", "http://127.9.8.7", "http://localhost:8545", "http://[::1]:8545"
        }) {
      assertThat(DEFAULTS.urlProblems(node(url, null))).as(url).isEmpty();
    }
    for (String url :
        new String[] {
          "http://10.0.0.5:8545",
          "http://node.example",
          "http://127.0.0.1.example.com",
          "http://[::ffff:10.0.0.1]:80"
        }) {
      assertThat(DEFAULTS.urlProblems(node(url, null)))
          .as(url)
          .singleElement()
          .asString()
          .contains("must be https off loopback");
    }
    assertThat(DEFAULTS.urlProblems(node("https://10.0.0.5:8545", null))).isEmpty();
  }

  @Test
  void plainHttpOffLoopbackIsTakenWhenAllowed() {
    NodeEndpointRules plain =
        NodeEndpointRules.fromEnv(Map.of("TXGW_NODE_ALLOW_PLAIN_HTTP", "true"));
    assertThat(plain.urlProblems(node("http://10.0.0.5:8545", null))).isEmpty();
  }

  @Test
  void aWalletUrlIsHeldToTheSameRule() {
    NodeSpec spec =
        new NodeSpec(
            Chain.BTC,
            "b",
            "https://n.example",
            "http://n.example:8334",
            null,
            null,
            1,
            1,
            1,
            false);
    assertThat(DEFAULTS.urlProblems(spec)).singleElement().asString().startsWith("walletUrl");
  }

  @Test
  void theRulesAreReadFromTheEnvironmentWithEveryProblemAtOnce() {
    NodeEndpointRules rules =
        NodeEndpointRules.fromEnv(
            Map.of(
                "TXGW_CREDENTIALS_ENV_PREFIX", "ACME_NODE_", "TXGW_CREDENTIALS_DIR", "/run/keys/"));
    assertThat(rules.envPrefix()).isEqualTo("ACME_NODE_");
    assertThat(rules.credentialsDir()).isEqualTo(Path.of("/run/keys"));
    assertThat(rules.allowPlainHttp()).isFalse();
    assertThatThrownBy(
            () ->
                NodeEndpointRules.fromEnv(
                    Map.of(
                        "TXGW_CREDENTIALS_ENV_PREFIX",
                        "",
                        "TXGW_CREDENTIALS_DIR",
                        "relative",
                        "TXGW_NODE_ALLOW_PLAIN_HTTP",
                        "yes")))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).problems()).hasSize(3));
  }
}
