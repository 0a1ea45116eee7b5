package io.txgw.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txgw.common.config.ConfigException;
import io.txgw.common.model.Chain;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GatewayConfigTest {
  @TempDir Path dir;

  private Path clientsFile() {
    try {
      Path file = dir.resolve("clients.json");
      Files.writeString(file, "{\"clients\": {\"acme\": {\"spend\": [\"BTC:payouts\"]}}}");
      return file;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void readsKeysAndLimitsAndNeverShowsAKey() {
    GatewayConfig config =
        GatewayConfig.fromEnv(
            Map.of(
                "TXGW_API_KEYS", "acme=acme-key-0123456789,globex:read=globex-key-0123456789",
                "TXGW_MAX_PAYOUT_BTC", "2.5",
                "TXGW_BTC_NETWORK", "bcoin_regtest",
                "TXGW_CLIENTS_FILE", clientsFile().toString(),
                "TXGW_RECORD_KEYS", "k1=" + "A".repeat(44)));
    assertThat(config.apiKeys().get().clientFor("globex-key-0123456789")).contains("globex");
    assertThat(config.apiKeys().get().clientFor("globex-key-012345678")).isEmpty();
    assertThat(config.apiKeys().get().callerFor("globex-key-0123456789").orElseThrow().scopes())
        .containsExactly(ApiKeys.Scope.READ);
    assertThat(config.apiKeys().get().callerFor("acme-key-0123456789").orElseThrow().scopes())
        .containsExactlyInAnyOrder(ApiKeys.Scope.READ, ApiKeys.Scope.PAY);
    assertThat(config.policies().get().of("acme").maySpend(Chain.BTC, "payouts")).isTrue();
    assertThat(config.policies().get().of("globex").maySpend(Chain.BTC, "payouts")).isFalse();
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
                        "TXGW_BTC_NETWORK", "moon",
                        "TXGW_RECORD_KEYS", "k1=c2hvcnQ=")))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(e.problems())
                    .hasSize(5)
                    .anySatisfy(
                        p -> assertThat(p).contains("TXGW_RECORD_KEYS: key k1 has 5 bytes")))
        .hasMessageNotContaining("k3yZ");
  }

  @Test
  void apiKeysAreRequired() {
    assertThatThrownBy(() -> GatewayConfig.fromEnv(Map.of()))
        .hasMessageContaining("TXGW_API_KEYS is required");
  }
}
