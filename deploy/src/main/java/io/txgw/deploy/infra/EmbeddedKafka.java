package io.txgw.deploy.infra;

import io.txgw.common.config.Secret;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.KafkaSecurity;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

/**
 * A real single-node Kafka broker in KRaft mode (broker and controller in one) in this JVM, on
 * loopback ports of its own, with the settings transactions need on one broker.
 *
 * <p>{@link #withScram} starts it authenticated: clients log in with SCRAM-SHA-512 on a
 * SASL_PLAINTEXT listener and are authorized by ACLs, denied where none allows.
 */
public final class EmbeddedKafka implements KafkaService {
  /** The super user of a SCRAM broker; it also carries the broker's own requests. */
  public static final String ADMIN = "admin";

  private static final String SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule";
  private static final String PLAIN = "org.apache.kafka.common.security.plain.PlainLoginModule";

  private final KafkaRaftServer server;
  private final int port;
  private final Map<String, Secret> users;
  private final Tls tls;

  /**
   * TLS on the client listener, from PEM files.
   *
   * @param keystore the broker's private key (unencrypted PKCS#8) and certificate chain
   * @param truststore the CA certificates clients verify the broker with
   */
  public record Tls(Path keystore, Path truststore) {}

  public EmbeddedKafka(Path dataDir) {
    this(dataDir, Map.of(), null);
  }

  /**
   * A broker whose only client listener takes SCRAM-SHA-512 logins, with the StandardAuthorizer:
   * {@value #ADMIN} is the super user, everyone else may do only what an ACL allows.
   *
   * @param users name and password of every SCRAM user, {@value #ADMIN} among them
   */
  public static EmbeddedKafka withScram(Path dataDir, Map<String, Secret> users) {
    return withScram(dataDir, users, null);
  }

  /** As {@link #withScram(Path, Map)}, the client listener SASL_SSL when {@code tls} is given. */
  public static EmbeddedKafka withScram(Path dataDir, Map<String, Secret> users, Tls tls) {
    if (!users.containsKey(ADMIN)) {
      throw new IllegalArgumentException("a SCRAM broker needs the user " + ADMIN);
    }
    // The format tool's --add-scram and the broker's own JAAS text take these unquoted.
    users.forEach(
        (name, password) -> {
          if (!name.matches("[A-Za-z0-9._-]+") || !password.reveal().matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException(
                "SCRAM user " + name + ": names and passwords are letters, digits, . _ - only");
          }
        });
    return new EmbeddedKafka(dataDir, users, tls);
  }

  private EmbeddedKafka(Path dataDir, Map<String, Secret> users, Tls tls) {
    this.users = Map.copyOf(users);
    this.tls = tls;
    port = Ports.freeLoopbackPort();
    int controllerPort = Ports.freeLoopbackPort();
    Properties props = new Properties();
    props.put("process.roles", "broker,controller");
    props.put("node.id", "1");
    props.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
    if (users.isEmpty()) {
      props.put(
          "listeners",
          "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
      props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
      props.put("controller.listener.names", "CONTROLLER");
      props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
      props.put("inter.broker.listener.name", "PLAINTEXT");
    } else {
      scramListeners(props, controllerPort);
    }
    props.put("log.dirs", dataDir.toAbsolutePath().toString());
    props.put("offsets.topic.replication.factor", "1");
    props.put("offsets.topic.num.partitions", "6");
    props.put("transaction.state.log.replication.factor", "1");
    props.put("transaction.state.log.min.isr", "1");
    props.put("transaction.state.log.num.partitions", "6");
    props.put("share.coordinator.state.topic.replication.factor", "1");
    props.put("share.coordinator.state.topic.min.isr", "1");
    props.put("min.insync.replicas", "1");
    props.put("group.initial.rebalance.delay.ms", "0");
    props.put("message.max.bytes", Integer.toString(16 * 1024 * 1024));
    props.put("auto.create.topics.enable", "false");
    props.put("log.flush.interval.messages", Long.toString(Long.MAX_VALUE));
    try {
      Files.createDirectories(dataDir);
      Path config = dataDir.resolveSibling(dataDir.getFileName() + ".properties");
      try (OutputStream out = Files.newOutputStream(config)) {
        props.store(out, "txgw local broker");
      }
      ByteArrayOutputStream formatLog = new ByteArrayOutputStream();
      int rc =
          StorageTool.execute(
              formatArguments(config), new PrintStream(formatLog, true, StandardCharsets.UTF_8));
      if (rc != 0) {
        throw new IllegalStateException(
            "kafka storage format failed: " + formatLog.toString(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare the Kafka data directory", e);
    }
    server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
    server.startup();
  }

  /**
   * Clients and the broker's own requests (transaction markers, for one) go through CLIENT, with
   * SCRAM; KRaft keeps SCRAM credentials in its metadata log, which the controller cannot read
   * before it runs, so the controller listener takes PLAIN with the admin's password instead.
   */
  private void scramListeners(Properties props, int controllerPort) {
    String admin = users.get(ADMIN).reveal();
    props.put(
        "listeners", "CLIENT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
    props.put("advertised.listeners", "CLIENT://127.0.0.1:" + port);
    props.put("controller.listener.names", "CONTROLLER");
    props.put(
        "listener.security.protocol.map",
        "CLIENT:" + clientProtocol() + ",CONTROLLER:SASL_PLAINTEXT");
    if (tls != null) {
      // The broker's own connections to CLIENT verify it with the same CA as the clients do.
      props.put("listener.name.client.ssl.keystore.type", "PEM");
      props.put("listener.name.client.ssl.keystore.location", tls.keystore().toString());
      props.put("listener.name.client.ssl.truststore.type", "PEM");
      props.put("listener.name.client.ssl.truststore.location", tls.truststore().toString());
    }
    props.put("inter.broker.listener.name", "CLIENT");
    props.put("sasl.mechanism.inter.broker.protocol", "SCRAM-SHA-512");
    props.put("sasl.mechanism.controller.protocol", "PLAIN");
    props.put("listener.name.client.sasl.enabled.mechanisms", "SCRAM-SHA-512");
    props.put("listener.name.controller.sasl.enabled.mechanisms", "PLAIN");
    props.put(
        "listener.name.client.scram-sha-512.sasl.jaas.config",
        SCRAM + " required username=\"" + ADMIN + "\" password=\"" + admin + "\";");
    props.put(
        "listener.name.controller.plain.sasl.jaas.config",
        PLAIN
            + " required username=\""
            + ADMIN
            + "\" password=\""
            + admin
            + "\" user_"
            + ADMIN
            + "=\""
            + admin
            + "\";");
    props.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
    props.put("super.users", "User:" + ADMIN);
    props.put("allow.everyone.if.no.acl.found", "false");
  }

  private KafkaSecurity.Protocol clientProtocol() {
    return tls == null ? KafkaSecurity.Protocol.SASL_PLAINTEXT : KafkaSecurity.Protocol.SASL_SSL;
  }

  /** SCRAM users are written into the first metadata at format time: they exist at start. */
  private String[] formatArguments(Path config) {
    List<String> args =
        new ArrayList<>(
            List.of("format", "-t", Uuid.randomUuid().toString(), "-c", config.toString()));
    users.forEach(
        (name, password) -> {
          args.add("--add-scram");
          args.add("SCRAM-SHA-512=[name=" + name + ",password=" + password.reveal() + "]");
        });
    return args.toArray(String[]::new);
  }

  @Override
  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  /**
   * How {@code user} connects: plaintext on a plain broker, with its SCRAM login on a SCRAM one.
   */
  @Override
  public KafkaConnection connection(String user) {
    return new KafkaConnection(bootstrapServers(), KafkaSecurity.fromEnv(clientEnv(user)));
  }

  /** The environment a txgw process needs to connect as {@code user}. */
  @Override
  public Map<String, String> clientEnv(String user) {
    Map<String, String> env = new HashMap<>();
    env.put("TXGW_KAFKA_BOOTSTRAP", bootstrapServers());
    // One broker: every topic has one replica, and a write is taken once it holds it.
    env.putAll(io.txgw.common.kafka.TopicSettings.ONE_BROKER.env());
    if (!users.isEmpty()) {
      Secret password = users.get(user);
      if (password == null) {
        throw new IllegalArgumentException("no SCRAM user " + user);
      }
      env.put(KafkaSecurity.PROTOCOL.name(), clientProtocol().name());
      env.put(KafkaSecurity.USERNAME.name(), user);
      env.put(KafkaSecurity.PASSWORD.name(), password.reveal());
      if (tls != null) {
        env.put(KafkaSecurity.TRUSTSTORE.name(), tls.truststore().toString());
      }
    }
    return env;
  }

  @Override
  public void close() {
    server.shutdown();
    server.awaitShutdown();
  }
}
