package io.txgw.coordinator.nodes;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.model.Chain;
import org.junit.jupiter.api.Test;

class NodeUrlsTest {
  @Test
  void aUrlIsShownAsSchemeHostAndPortOnly() {
    assertThat(NodeUrls.shown("https://mainnet.infura.io/v3/0123456789abcdef"))
        .isEqualTo("https://mainnet.infura.io:443");
    assertThat(NodeUrls.shown("http://user:pass@10.0.0.5:8545/?key=abc#x"))
        .isEqualTo("http://10.0.0.5:8545");
    assertThat(NodeUrls.shown("http://[::1]:8545/k")).isEqualTo("http://[::1]:8545");
    assertThat(NodeUrls.shown("not a url /with/KEY")).doesNotContain("KEY");
  }

  @Test
  void aNodeSpecPrintsWithoutItsUrlPaths() {
    NodeSpec spec =
        new NodeSpec(
            Chain.BTC,
            "b",
            "https://n.example/KEY1",
            "https://n.example:8334/KEY2",
            "x",
            "env:TXGW_NODE_B",
            1,
            1,
            1,
            false);
    assertThat(spec.toString())
        .contains("BTC/b", "https://n.example:443", "https://n.example:8334", "env:TXGW_NODE_B")
        .doesNotContain("KEY1", "KEY2");
    assertThat(NodeUrls.shown(spec).url()).isEqualTo("https://n.example:443");
  }
}
