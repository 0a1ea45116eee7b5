package io.txgw.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txgw.common.config.ConfigException;
import io.txgw.common.model.Chain;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GatewayConfigTest {
  @Test
  void readsKeysAndLimitsAndNeverShowsAKey() {
    GatewayConfig config =
        GatewayConfig.fromEnv(
            Map.of(
                "TXGW_API_KEYS", "acme=acme-key-0123456789,globex=globex-key-0123456789",
                "TXGW_MAX_PAYOUT_BTC", "2.5",
                "TXGW_BTC_NETWORK", "bcoin_regtest"));
    assertThat(config.apiKeys().clientFor("globex-key-0123456789")).contains("globex");
    assertThat(config.apiKeys().clientFor("globex-key-012345678")).isEmpty();
    assertThat(config.maxPerPayout().get(Chain.BTC).toString()).isEqualTo("2.5");
    assertThat(config.httpHost()).isEqualTo("127.0.0.1");
    assertThat(config.toString()).doesNotContain("acme-key", "globex-key");
  }

  @Test
  void reportsEveryProblemTogetherWithoutRevealingKeys() {
    assertThatThrownBy(
            () ->
                GatewayConfig.fromEnv(
                    Map.of(
                        "TXGW_API_KEYS", "acme=k3yZ",
                        "TXGW_HTTP_PORT", "99999",
                        "TXGW_BTC_NETWORK", "moon")))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).hasSize(3))
        .hasMessageNotContaining("k3yZ");
  }

  @Test
  void apiKeysAreRequired() {
    assertThatThrownBy(() -> GatewayConfig.fromEnv(Map.of()))
        .hasMessageContaining("TXGW_API_KEYS is required");
  }
}
