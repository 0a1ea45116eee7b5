package io.txgw.common.kafka;

import io.txgw.common.config.ConfigException;
import io.txgw.common.config.ConfigReader;
import io.txgw.common.config.Secret;
import io.txgw.common.config.Setting;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How every Kafka client of a txgw process authenticates to the brokers, read once from the
 * environment: the protocol, the SASL/SCRAM user and password, PEM trust and key stores. {@link
 * #clientProperties()} is merged into the properties of each producer, consumer, admin client and
 * Streams application, so that no client connects with other settings than the rest.
 *
 * <p>The password reaches Kafka only inside {@code sasl.jaas.config} and {@code ssl.key.password},
 * both declared as passwords in Kafka's own config definitions, which it logs as {@code [hidden]}.
 */
public final class KafkaSecurity {
  /** The broker listener's security protocol, as Kafka names it. */
  public enum Protocol {
    PLAINTEXT,
    SASL_PLAINTEXT,
    SASL_SSL,
    SSL;

    boolean sasl() {
      return this == SASL_PLAINTEXT || this == SASL_SSL;
    }

    boolean tls() {
      return this == SSL || this == SASL_SSL;
    }
  }

  /** The SASL mechanisms txgw can log in with, each with the login module Kafka needs for it. */
  public enum Mechanism {
    SCRAM_SHA_512("SCRAM-SHA-512", "org.apache.kafka.common.security.scram.ScramLoginModule"),
    SCRAM_SHA_256("SCRAM-SHA-256", "org.apache.kafka.common.security.scram.ScramLoginModule"),
    PLAIN("PLAIN", "org.apache.kafka.common.security.plain.PlainLoginModule");

    private final String kafkaName;
    private final String loginModule;

    Mechanism(String kafkaName, String loginModule) {
      this.kafkaName = kafkaName;
      this.loginModule = loginModule;
    }

    public String kafkaName() {
      return kafkaName;
    }

    static Mechanism parse(String text) {
      String wanted = text.trim().toUpperCase(Locale.ROOT);
      for (Mechanism m : values()) {
        if (m.kafkaName.equals(wanted)) {
          return m;
        }
      }
      throw new IllegalArgumentException("must be one of SCRAM-SHA-512, SCRAM-SHA-256, PLAIN");
    }
  }

  public static final Setting<Protocol> PROTOCOL =
      Setting.choice(
          "TXGW_KAFKA_SECURITY_PROTOCOL",
          Protocol.class,
          Protocol.PLAINTEXT,
          "Kafka security protocol: PLAINTEXT, SASL_PLAINTEXT, SASL_SSL or SSL");
  public static final Setting<Mechanism> MECHANISM =
      new Setting<>(
          "TXGW_KAFKA_SASL_MECHANISM",
          "SASL mechanism when the protocol is SASL_*: SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN",
          "SCRAM-SHA-512",
          Mechanism::parse,
          false);
  public static final Setting<String> USERNAME =
      Setting.string("TXGW_KAFKA_USERNAME", "", "SASL user (the Kafka principal) of this process");
  public static final Setting<Secret> PASSWORD =
      Setting.secret("TXGW_KAFKA_PASSWORD", "", "SASL password of TXGW_KAFKA_USERNAME (or _FILE)");
  public static final Setting<String> TRUSTSTORE =
      Setting.string(
          "TXGW_KAFKA_TRUSTSTORE",
          "",
          "PEM file of the CA certificates trusted for the brokers (SSL, SASL_SSL); empty uses the"
              + " JVM's");
  public static final Setting<String> KEYSTORE =
      Setting.string(
          "TXGW_KAFKA_KEYSTORE",
          "",
          "PEM file with this client's private key and certificate chain, for mutual TLS");
  public static final Setting<Secret> KEY_PASSWORD =
      Setting.secret(
          "TXGW_KAFKA_KEY_PASSWORD",
          "",
          "password of the encrypted private key in TXGW_KAFKA_KEYSTORE (or _FILE)");

  /** Every setting, for documentation and checks. */
  public static final List<Setting<?>> SETTINGS =
      List.of(PROTOCOL, MECHANISM, USERNAME, PASSWORD, TRUSTSTORE, KEYSTORE, KEY_PASSWORD);

  /** No authentication, no encryption: the broker's PLAINTEXT listener. */
  public static final KafkaSecurity PLAINTEXT =
      new KafkaSecurity(
          Protocol.PLAINTEXT, Mechanism.SCRAM_SHA_512, "", new Secret(""), "", "", new Secret(""));

  private final Protocol protocol;
  private final Mechanism mechanism;
  private final String username;
  private final Secret password;
  private final String truststore;
  private final String keystore;
  private final Secret keyPassword;

  private KafkaSecurity(
      Protocol protocol,
      Mechanism mechanism,
      String username,
      Secret password,
      String truststore,
      String keystore,
      Secret keyPassword) {
    this.protocol = protocol;
    this.mechanism = mechanism;
    this.username = username;
    this.password = password;
    this.truststore = truststore;
    this.keystore = keystore;
    this.keyPassword = keyPassword;
  }

  /** SASL/SCRAM-SHA-512 without TLS, as the local broker's client listener offers it. */
  public static KafkaSecurity scram(String username, Secret password) {
    return new KafkaSecurity(
        Protocol.SASL_PLAINTEXT,
        Mechanism.SCRAM_SHA_512,
        username,
        password,
        "",
        "",
        new Secret(""));
  }

  /**
   * @throws ConfigException listing every problem
   */
  public static KafkaSecurity fromEnv(Map<String, String> env) {
    ConfigReader reader = new ConfigReader(env);
    KafkaSecurity security = read(reader);
    reader.throwIfProblems();
    return security;
  }

  /**
   * Reads the settings through a caller's reader, so that their problems are reported with the
   * caller's own; returns null when any was recorded.
   */
  public static KafkaSecurity read(ConfigReader reader) {
    Protocol protocol = reader.get(PROTOCOL);
    Mechanism mechanism = reader.get(MECHANISM);
    String username = reader.get(USERNAME);
    Secret password = reader.get(PASSWORD);
    String truststore = reader.get(TRUSTSTORE);
    String keystore = reader.get(KEYSTORE);
    Secret keyPassword = reader.get(KEY_PASSWORD);
    if (protocol == null
        || username == null
        || password == null
        || truststore == null
        || keystore == null
        || keyPassword == null) {
      return null;
    }
    List<String> problems =
        problems(protocol, username, password, truststore, keystore, keyPassword);
    problems.forEach(reader::problem);
    if (!problems.isEmpty() || mechanism == null) {
      return null;
    }
    return new KafkaSecurity(
        protocol, mechanism, username, password, truststore, keystore, keyPassword);
  }

  private static List<String> problems(
      Protocol protocol,
      String username,
      Secret password,
      String truststore,
      String keystore,
      Secret keyPassword) {
    List<String> problems = new ArrayList<>();
    String why = " (" + PROTOCOL.name() + " is " + protocol + ")";
    String notSasl = " is set but only used with SASL_PLAINTEXT or SASL_SSL" + why;
    String notTls = " is set but only used with SSL or SASL_SSL" + why;
    boolean sasl = protocol.sasl();
    boolean tls = protocol.tls();
    check(problems, sasl && username.isBlank(), USERNAME.name() + " is required with SASL" + why);
    check(
        problems,
        sasl && password.reveal().isEmpty(),
        PASSWORD.name() + " is required with SASL" + why);
    check(problems, !sasl && !username.isEmpty(), USERNAME.name() + notSasl);
    check(problems, !sasl && !password.reveal().isEmpty(), PASSWORD.name() + notSasl);
    check(problems, !tls && !truststore.isEmpty(), TRUSTSTORE.name() + notTls);
    check(problems, !tls && !keystore.isEmpty(), KEYSTORE.name() + notTls);
    check(
        problems,
        keystore.isEmpty() && !keyPassword.reveal().isEmpty(),
        KEY_PASSWORD.name() + " is set without " + KEYSTORE.name());
    if (tls) {
      readable(TRUSTSTORE, truststore, problems);
      readable(KEYSTORE, keystore, problems);
    }
    return problems;
  }

  private static void check(List<String> problems, boolean wrong, String problem) {
    if (wrong) {
      problems.add(problem);
    }
  }

  private static void readable(Setting<String> setting, String path, List<String> problems) {
    if (!path.isEmpty() && !Files.isReadable(Path.of(path))) {
      problems.add(setting.name() + ": cannot read " + path);
    }
  }

  public Protocol protocol() {
    return protocol;
  }

  /**
   * The client properties these settings stand for, to merge into a client's own: {@code
   * security.protocol} always, SASL and TLS properties as the protocol needs them.
   */
  public Map<String, Object> clientProperties() {
    Map<String, Object> props = new HashMap<>();
    props.put("security.protocol", protocol.name());
    if (protocol.sasl()) {
      props.put("sasl.mechanism", mechanism.kafkaName());
      props.put("sasl.jaas.config", jaasConfig());
    }
    if (protocol.tls()) {
      if (!truststore.isEmpty()) {
        props.put("ssl.truststore.type", "PEM");
        props.put("ssl.truststore.location", truststore);
      }
      if (!keystore.isEmpty()) {
        props.put("ssl.keystore.type", "PEM");
        props.put("ssl.keystore.location", keystore);
        if (!keyPassword.reveal().isEmpty()) {
          props.put("ssl.key.password", keyPassword.reveal());
        }
      }
    }
    return props;
  }

  private String jaasConfig() {
    return mechanism.loginModule
        + " required username=\""
        + jaasQuoted(username)
        + "\" password=\""
        + jaasQuoted(password.reveal())
        + "\";";
  }

  /**
   * Kafka reads sasl.jaas.config with a {@link java.io.StreamTokenizer}, whose quoted strings take
   * backslash escapes and end at a line break: escaping those keeps any password one value.
   */
  static String jaasQuoted(String text) {
    StringBuilder out = new StringBuilder(text.length() + 8);
    for (char c : text.toCharArray()) {
      switch (c) {
        case '\\' -> out.append("\\\\");
        case '"' -> out.append("\\\"");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        default -> out.append(c);
      }
    }
    return out.toString();
  }

  @Override
  public String toString() {
    if (!protocol.sasl()) {
      return protocol.name();
    }
    return protocol + " " + mechanism.kafkaName() + " as " + username;
  }
}
