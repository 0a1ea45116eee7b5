package io.txgw.consumer.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txgw.common.config.ConfigReader;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SignerSettingsTest {
  private static SignerSettings read(Map<String, String> env) {
    ConfigReader r = new ConfigReader(env);
    SignerSettings s = SignerSettings.read(r);
    r.throwIfProblems();
    return s;
  }

  @Test
  void plainHttpToARemoteSignerIsTakenOnlyForThisMachine() {
    assertThat(SignerSettings.signerUrlProblem("http://127.0.0.1:9000")).isNull();
    assertThat(SignerSettings.signerUrlProblem("http://localhost:9000/")).isNull();
    assertThat(SignerSettings.signerUrlProblem("https://signer.example:9000")).isNull();
    assertThat(SignerSettings.signerUrlProblem("http://localhost.evil.example:9000"))
        .contains("https");
    assertThat(SignerSettings.signerUrlProblem("http://127.0.0.1.nip.io")).contains("https");
    assertThat(SignerSettings.signerUrlProblem("http://localhost@10.1.2.3:8545"))
        .contains("credentials");
    assertThat(SignerSettings.signerUrlProblem("https://user:pw@signer.example"))
        .contains("credentials");
  }

  @Test
  void signingInTxgwNeedsTheChainIdAndAKeystoreItsPassword() {
    assertThatThrownBy(() -> read(Map.of("TXGW_ETH_KEYSTORE_DIR", "/keys")))
        .hasMessageContaining("TXGW_ETH_CHAIN_ID must be set")
        .hasMessageContaining("needs TXGW_ETH_KEYSTORE_PASSWORD");
    assertThatThrownBy(() -> read(Map.of("TXGW_ETH_NODE_SIGNS", "false")))
        .hasMessageContaining("needs a keystore or a remote signer");
    assertThatThrownBy(
            () ->
                read(
                    Map.of(
                        "TXGW_ETH_CHAIN_ID",
                        "1",
                        "TXGW_ETH_SIGNER_URL",
                        "https://signer.example",
                        "TXGW_ETH_SIGNER_ACCOUNTS",
                        "0x12, nonsense")))
        .hasMessageContaining("0x12 is not an Ethereum address");
    SignerSettings s =
        read(
            Map.of(
                "TXGW_ETH_CHAIN_ID",
                "8453",
                "TXGW_ETH_SIGNER_URL",
                "https://signer.example",
                "TXGW_ETH_SIGNER_PASSWORD",
                "hunter2-hunter2",
                "TXGW_ETH_NODE_SIGNS",
                "false"));
    assertThat(s.chainId()).isEqualTo(8453L);
    assertThat(s.nodeSigns()).isFalse();
    assertThat(s.toString()).doesNotContain("hunter2");
  }
}
