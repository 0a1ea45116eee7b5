package io.txgw.coordinator.zk;

import io.txgw.common.config.ConfigReader;
import io.txgw.common.config.Secret;
import io.txgw.common.config.Setting;
import io.txgw.common.config.ZkAuth;
import java.nio.charset.StandardCharsets;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.RetryPolicy;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every Curator client txgw makes is built here (the gateway only reads, with ZooKeeper's own
 * client, under the same identity): where ZooKeeper is, which digest identity the session
 * authenticates as ({@code TXGW_ZK_AUTH}), and the ACL every znode it creates carries. With an
 * identity, that ACL grants everything to it (and to the ids in {@code TXGW_ZK_ACL_EXTRA}) and
 * nothing to anyone else: the node registry holds URLs, and its entries decide where consumers send
 * node credentials. Without one, znodes are world-open as ZooKeeper's default, and the first client
 * built says so once.
 */
public final class ZkClients {
  private static final Logger log = LoggerFactory.getLogger(ZkClients.class);
  private static final AtomicBoolean openWarned = new AtomicBoolean();

  public static final Setting<Secret> AUTH = ZkAuth.AUTH;

  public static final Setting<List<Id>> ACL_EXTRA =
      new Setting<>(
          "TXGW_ZK_ACL_EXTRA",
          "more ids granted everything on the znodes txgw creates, comma-separated:"
              + " digest:user:base64(sha1(user:password)) (e.g. an operator's), sasl:name or"
              + " x509:name",
          "",
          ZkClients::parseIds,
          true);

  public static final List<Setting<?>> SETTINGS = List.of(AUTH, ACL_EXTRA);

  private final String connectString;
  private final String user;
  private final Secret auth;
  private final List<ACL> acl;

  private ZkClients(String connectString, Secret auth, List<Id> extra) {
    this.connectString = connectString;
    boolean authenticated = auth != null && !auth.reveal().isEmpty();
    this.auth = authenticated ? auth : null;
    this.user = authenticated ? auth.reveal().substring(0, auth.reveal().indexOf(':')) : null;
    this.acl = authenticated ? acl(auth, extra) : ZooDefs.Ids.OPEN_ACL_UNSAFE;
  }

  /** Unauthenticated clients of that ensemble, world-open znodes: for tests and tools. */
  public static ZkClients open(String connectString) {
    return new ZkClients(connectString, null, List.of());
  }

  /** Clients of that ensemble authenticating as {@code user:password}. */
  public static ZkClients authenticated(String connectString, Secret auth, List<Id> extra) {
    ZkAuth.check(auth.reveal());
    return new ZkClients(connectString, auth, extra);
  }

  /**
   * Reads the identity settings, recording problems in {@code reader}.
   *
   * @param connectString the ensemble; may be empty for a process that runs without ZooKeeper
   */
  public static ZkClients read(ConfigReader reader, String connectString) {
    Secret auth = reader.get(AUTH);
    List<Id> extra = reader.get(ACL_EXTRA);
    if (auth != null && !auth.reveal().isEmpty()) {
      auth = ZkAuth.checked(reader, auth);
    } else if (extra != null && !extra.isEmpty()) {
      reader.problem(ACL_EXTRA.name() + " needs " + AUTH.name() + ": an ACL without it is open");
    }
    return new ZkClients(
        connectString == null ? "" : connectString, auth, extra == null ? List.of() : extra);
  }

  /**
   * @throws io.txgw.common.config.ConfigException listing every problem
   */
  public static ZkClients fromEnv(String connectString, Map<String, String> env) {
    ConfigReader reader = new ConfigReader(env);
    ZkClients clients = read(reader, connectString);
    reader.throwIfProblems();
    return clients;
  }

  public String connectString() {
    return connectString;
  }

  /** True when no ensemble is configured: the process runs without ZooKeeper. */
  public boolean isEmpty() {
    return connectString.isEmpty();
  }

  public boolean authenticated() {
    return auth != null;
  }

  /** The ACL of every znode these clients create. */
  public List<ACL> acl() {
    return acl;
  }

  /**
   * A builder for this ensemble with the identity and ACL set; the caller adds timeouts and retry.
   */
  public CuratorFrameworkFactory.Builder builder() {
    CuratorFrameworkFactory.Builder builder =
        CuratorFrameworkFactory.builder()
            .connectString(connectString)
            // The configured addresses are the ones used: Curator would otherwise replace them
            // with the servers' own client addresses from the ensemble's configuration, going
            // round whatever the operator put between (a proxy, a balancer, names that move).
            // Servers added to an ensemble are used once TXGW_ZOOKEEPER names them.
            .ensembleTracker(false);
    if (auth == null) {
      if (openWarned.compareAndSet(false, true)) {
        log.warn(
            "ZooKeeper at {} is used without authentication ({} unset): anyone who reaches it can"
                + " read the node registry, register nodes, pause or drain",
            connectString,
            AUTH.name());
      }
      return builder;
    }
    return builder
        .authorization("digest", auth.reveal().getBytes(StandardCharsets.UTF_8))
        .aclProvider(new FixedAcl(acl));
  }

  /** A client with the given timeouts; not started. */
  public CuratorFramework newClient(
      int sessionTimeoutMs, int connectionTimeoutMs, RetryPolicy retry) {
    return builder()
        .sessionTimeoutMs(sessionTimeoutMs)
        .connectionTimeoutMs(connectionTimeoutMs)
        .retryPolicy(retry)
        .build();
  }

  /** The digest id a {@code user:password} authenticates as, as ACLs name it. */
  public static Id digestId(String userColonPassword) {
    try {
      return new Id("digest", DigestAuthenticationProvider.generateDigest(userColonPassword));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is missing from this JVM", e);
    }
  }

  private static List<ACL> acl(Secret auth, List<Id> extra) {
    List<ACL> acl = new ArrayList<>();
    acl.add(new ACL(ZooDefs.Perms.ALL, digestId(auth.reveal())));
    for (Id id : extra) {
      ACL entry = new ACL(ZooDefs.Perms.ALL, id);
      if (!acl.contains(entry)) {
        acl.add(entry);
      }
    }
    // Not List.copyOf: ZooKeeper asks the list whether it contains null, which that one refuses.
    return java.util.Collections.unmodifiableList(acl);
  }

  /** The ids in {@code TXGW_ZK_ACL_EXTRA}; a message names the rule only, never an entry. */
  static List<Id> parseIds(String text) {
    List<Id> ids = new ArrayList<>();
    for (String item : text.split(",")) {
      String entry = item.strip();
      if (entry.isEmpty()) {
        continue;
      }
      int colon = entry.indexOf(':');
      String scheme = colon < 0 ? entry : entry.substring(0, colon);
      String id = colon < 0 ? "" : entry.substring(colon + 1);
      if (id.isEmpty()) {
        throw new IllegalArgumentException("every entry must be scheme:id");
      }
      switch (scheme) {
        case "digest" -> checkDigest(id);
        case "sasl", "x509" -> {}
        default ->
            throw new IllegalArgumentException(
                "scheme '"
                    + scheme
                    + "' is not allowed (digest, sasl or x509): world, ip and auth ids would open"
                    + " the registry to more than named principals");
      }
      ids.add(new Id(scheme, id));
    }
    return List.copyOf(ids);
  }

  /** A digest id is {@code user:base64(sha1)}; a password given by mistake is refused unshown. */
  private static void checkDigest(String id) {
    int colon = id.indexOf(':');
    boolean shaped = colon > 0 && id.indexOf(':', colon + 1) < 0;
    if (shaped) {
      try {
        shaped = java.util.Base64.getDecoder().decode(id.substring(colon + 1)).length == 20;
      } catch (IllegalArgumentException e) {
        shaped = false;
      }
    }
    if (!shaped) {
      throw new IllegalArgumentException(
          "a digest id must be digest:user:base64(sha1(user:password)), not a password");
    }
  }

  @Override
  public String toString() {
    return "ZkClients[" + connectString + (user == null ? " unauthenticated" : " as " + user) + "]";
  }

  /** The same ACL for every path, parents created on the way included. */
  private record FixedAcl(List<ACL> acl) implements ACLProvider {
    @Override
    public List<ACL> getDefaultAcl() {
      return acl;
    }

    @Override
    public List<ACL> getAclForPath(String path) {
      return acl;
    }
  }
}
