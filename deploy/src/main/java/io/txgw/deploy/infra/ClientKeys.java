package io.txgw.deploy.infra;

import io.txgw.common.config.Secret;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The API keys a local stack's gateways accept, fresh for each stack: a demo client, a second
 * client, and a treasury client whose payroll office posts and whose treasurer approves.
 */
public record ClientKeys(Secret demo, Secret other, Secret treasuryPayer, Secret treasuryApprover) {
  /** Four new random keys. */
  public static ClientKeys random() {
    return new ClientKeys(random24(), random24(), random24(), random24());
  }

  /** A random key of 24 bytes, in hex. */
  public static Secret random24() {
    byte[] key = new byte[24];
    new SecureRandom().nextBytes(key);
    return new Secret(HexFormat.of().formatHex(key));
  }

  /** The keys as {@code TXGW_API_KEYS} takes them, each with its client, person and scopes. */
  public String apiKeysSetting(String demoClient, String otherClient, String treasuryClient) {
    return String.join(
        ",",
        demoClient + "=" + demo.reveal(),
        otherClient + "=" + other.reveal(),
        treasuryClient + "/payroll-office:pay+read=" + treasuryPayer.reveal(),
        treasuryClient + "/treasurer:approve+read=" + treasuryApprover.reveal());
  }
}
