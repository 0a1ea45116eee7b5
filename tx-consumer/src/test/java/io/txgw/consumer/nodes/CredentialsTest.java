package io.txgw.consumer.nodes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txgw.common.model.Chain;
import io.txgw.coordinator.nodes.NodeEndpointRules;
import io.txgw.coordinator.nodes.NodeSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CredentialsTest {
  private static final Map<String, String> ENV =
      Map.of(
          "TXGW_NODE_GETH", "geth-key",
          "TXGW_BTC_RPC_PASSWORD", "wallet-key",
          "HOME", "/root");

  @TempDir Path root;
  private Path dir;
  private Credentials credentials;

  @BeforeEach
  void layout() throws Exception {
    dir = Files.createDirectories(root.resolve("nodes"));
    Files.writeString(dir.resolve("geth"), "file-key\n");
    Files.writeString(root.resolve("outside"), "outside-key");
    credentials = new Credentials(ENV, new NodeEndpointRules("TXGW_NODE_", dir, false));
  }

  private static NodeSpec node(String url, String reference) {
    return new NodeSpec(Chain.ETH, "n", url, null, "u", reference, 10, 4, 100, false);
  }

  @Test
  void anEnvReferenceWithTheNodePrefixIsResolved() {
    assertThat(credentials.apply("env:TXGW_NODE_GETH").reveal()).isEqualTo("geth-key");
  }

  @Test
  void anEnvReferenceOutsideTheNodePrefixIsRefusedWithoutItsValue() {
    assertThatThrownBy(() -> credentials.apply("env:TXGW_BTC_RPC_PASSWORD"))
        .isInstanceOf(UnusableNodeException.class)
        .hasMessageContaining("outside TXGW_NODE_*")
        .hasMessageNotContaining("wallet-key");
    assertThatThrownBy(() -> credentials.apply("env:HOME"))
        .isInstanceOf(UnusableNodeException.class);
  }

  @Test
  void aFileInsideTheCredentialsDirectoryIsRead() {
    assertThat(credentials.apply("file:" + dir.resolve("geth")).reveal()).isEqualTo("file-key");
  }

  @Test
  void aFileReferenceOutsideTheCredentialsDirectoryIsRefused() {
    for (String reference :
        new String[] {"file:/proc/self/environ", "file:" + root.resolve("outside")}) {
      assertThatThrownBy(() -> credentials.apply(reference))
          .as(reference)
          .isInstanceOf(UnusableNodeException.class)
          .hasMessageContaining("lies outside")
          .hasMessageNotContaining("outside-key");
    }
  }

  @Test
  void aDotDotEscapeFromTheCredentialsDirectoryIsRefused() {
    assertThatThrownBy(() -> credentials.apply("file:" + dir + "/../outside"))
        .isInstanceOf(UnusableNodeException.class)
        .hasMessageContaining("without '.' or '..'");
  }

  @Test
  void aSymlinkInTheCredentialsDirectoryLeadingOutIsRefused() throws Exception {
    Files.createSymbolicLink(dir.resolve("environ"), Path.of("/proc/self/environ"));
    Files.createSymbolicLink(dir.resolve("sneaky"), root.resolve("outside"));
    Files.createSymbolicLink(dir.resolve("up"), root);
    for (String reference :
        new String[] {
          "file:" + dir.resolve("environ"),
          "file:" + dir.resolve("sneaky"),
          "file:" + dir.resolve("up/outside")
        }) {
      assertThatThrownBy(() -> credentials.apply(reference))
          .as(reference)
          .isInstanceOf(UnusableNodeException.class)
          .hasMessageContaining("leads outside")
          .hasMessageNotContaining("outside-key");
    }
  }

  @Test
  void aSymlinkStayingInTheCredentialsDirectoryIsFollowed() throws Exception {
    Files.createSymbolicLink(dir.resolve("current"), dir.resolve("geth"));
    assertThat(credentials.apply("file:" + dir.resolve("current")).reveal()).isEqualTo("file-key");
  }

  @Test
  void fileReferencesAreRefusedWhileNoCredentialsDirectoryIsSet() {
    Credentials noDir = new Credentials(ENV);
    assertThatThrownBy(() -> noDir.apply("file:" + dir.resolve("geth")))
        .isInstanceOf(UnusableNodeException.class)
        .hasMessageContaining("TXGW_CREDENTIALS_DIR");
  }

  @Test
  void aNodeOffLoopbackOverPlainHttpIsRefusedBeforeItsCredentialsAreRead() {
    assertThatThrownBy(() -> credentials.forNode(node("http://10.0.0.5:8545/KEY", "env:NOPE")))
        .isInstanceOf(UnusableNodeException.class)
        .hasMessageContaining("must be https off loopback")
        .hasMessageNotContaining("KEY");
    assertThat(credentials.forNode(node("https://10.0.0.5:8545", "env:TXGW_NODE_GETH")).reveal())
        .isEqualTo("geth-key");
    assertThat(credentials.forNode(node("http://127.0.0.1:8545", null))).isNull();
  }

  @Test
  void theConsumersOwnEnvironmentNodesMayNameItsPasswordSettings() {
    assertThat(
            credentials
                .forEnvironmentNodes()
                .forNode(node("http://127.0.0.1:48332", "env:TXGW_BTC_RPC_PASSWORD"))
                .reveal())
        .isEqualTo("wallet-key");
    assertThatThrownBy(
            () ->
                credentials
                    .forEnvironmentNodes()
                    .forNode(node("http://10.0.0.5:48332", "env:TXGW_BTC_RPC_PASSWORD")))
        .isInstanceOf(UnusableNodeException.class);
  }

  @Test
  void aMissingVariableMakesTheNodeUnusable() {
    assertThatThrownBy(() -> credentials.apply("env:TXGW_NODE_MISSING"))
        .isInstanceOf(UnusableNodeException.class)
        .hasMessageContaining("neither TXGW_NODE_MISSING nor TXGW_NODE_MISSING_FILE");
  }
}
