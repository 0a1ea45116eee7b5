package io.txgw.common.config;

/**
 * txgw's ZooKeeper digest identity, one setting for every process that talks to ZooKeeper: the
 * consumers and the operator tool create znodes readable by it alone, the gateway reads them as it.
 */
public final class ZkAuth {
  public static final Setting<Secret> AUTH =
      Setting.secret(
          "TXGW_ZK_AUTH",
          "",
          "user:password of txgw's ZooKeeper digest identity (or TXGW_ZK_AUTH_FILE); every znode"
              + " txgw creates is then readable and writable by it alone. Empty: unauthenticated"
              + " and world-open");

  private ZkAuth() {}

  /**
   * The identity the setting names, recording a malformed one in {@code reader}.
   *
   * @return null when unset or malformed: unauthenticated
   */
  public static Secret read(ConfigReader reader) {
    Secret auth = reader.get(AUTH);
    return auth == null || auth.reveal().isEmpty() ? null : checked(reader, auth);
  }

  /**
   * @return {@code auth} if well-formed; else null, the problem recorded in {@code reader}
   */
  public static Secret checked(ConfigReader reader, Secret auth) {
    try {
      check(auth.reveal());
      return auth;
    } catch (IllegalArgumentException e) {
      reader.problem(AUTH.name() + ": " + e.getMessage());
      return null;
    }
  }

  /**
   * @throws IllegalArgumentException unless {@code user:password}, both non-empty
   */
  public static void check(String text) {
    int colon = text.indexOf(':');
    if (colon < 1 || colon == text.length() - 1) {
      throw new IllegalArgumentException("must be user:password, both non-empty");
    }
  }
}
