package io.txgw.deploy;

import io.txgw.deploy.infra.TrustFiles;
import io.txgw.gateway.Gateway;
import io.txgw.gateway.GatewayConfig;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A gateway in the test's JVM, on free loopback ports, for one client paying from one source. */
final class TestGateways {
  private TestGateways() {}

  /**
   * Starts a gateway on the Kafka {@code kafkaEnv} names (its bootstrap, security and topic
   * settings), with state and trust files under {@code dir}: client {@code client} holds {@code
   * key} and may spend from {@code source} (as CHAIN:source); no request rate limit.
   */
  static Gateway start(
      Map<String, String> kafkaEnv, Path dir, String client, String key, String source)
      throws InterruptedException {
    Map<String, String> env = new HashMap<>(kafkaEnv);
    env.put("TXGW_HTTP_PORT", "0");
    env.put("TXGW_ADMIN_PORT", "0");
    env.put("TXGW_API_KEYS", client + "=" + key);
    env.put("TXGW_RATE_LIMIT", "0");
    env.put("TXGW_STATE_DIR", dir.resolve("gateway-state").toString());
    env.putAll(TrustFiles.create(dir.resolve("trust"), Map.of(client, List.of(source))).env());
    return new Gateway(GatewayConfig.fromEnv(env)).start();
  }
}
