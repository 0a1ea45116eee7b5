package io.txgw.gateway;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.config.ConfigReader;
import io.txgw.common.config.ReloadingFile;
import io.txgw.common.config.Secret;
import io.txgw.common.config.Setting;
import io.txgw.common.config.ZkAuth;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.KafkaSecurity;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import io.txgw.common.security.ClientPolicies;
import io.txgw.common.security.RecordSeal;
import io.txgw.common.security.TrustSettings;
import io.txgw.gateway.events.Webhooks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** Everything the gateway is configured with, read once from the environment. */
public record GatewayConfig(
    String httpHost,
    int httpPort,
    String kafkaBootstrap,
    String instanceId,
    int topicPartitions,
    io.txgw.common.kafka.TopicSettings topics,
    Supplier<ApiKeys> apiKeys,
    Supplier<ClientPolicies> policies,
    RecordSeal seal,
    HttpLimits http,
    Path tlsCert,
    Path tlsKey,
    String adminHost,
    int adminPort,
    Path auditLog,
    BitcoinNetwork bitcoinNetwork,
    int maxBatchPayouts,
    int maxBodyBytes,
    Map<Chain, Amount> maxPerPayout,
    int writerLanes,
    Path stateDir,
    String consumerGroup,
    long maxLag,
    String zookeeper,
    Secret zookeeperAuth,
    KafkaSecurity kafkaSecurity,
    Duration approvalWait,
    Duration approvalSweep,
    Duration approvalWriteLease,
    int maxPendingApprovals,
    Webhooks webhooks,
    io.txgw.common.model.AssetRegistry assets) {

  /**
   * What one client, one address and all of them together may hold of the HTTP server.
   *
   * @param rateLimit requests per second per client (a burst of twice as many); 0 is off
   */
  public record HttpLimits(
      int idleTimeoutSeconds,
      int maxConnections,
      int maxConnectionsPerAddress,
      int rateLimit,
      int maxStreamsPerClient,
      int maxStreams,
      int authFailureMaxDelayMillis,
      long bodyBytesInFlight,
      long bodyBytesInFlightPerClient) {}

  static final Setting<String> HTTP_HOST =
      Setting.string("TXGW_HTTP_HOST", "127.0.0.1", "address the HTTP API binds to");
  static final Setting<Integer> HTTP_PORT =
      Setting.integer("TXGW_HTTP_PORT", 8080, 0, 65535, "HTTP API port; 0 picks a free one");
  static final Setting<String> KAFKA =
      Setting.string("TXGW_KAFKA_BOOTSTRAP", "127.0.0.1:9092", "Kafka bootstrap servers");
  static final Setting<String> INSTANCE =
      Setting.string(
          "TXGW_GATEWAY_ID",
          "gateway-1",
          "stable id of this gateway instance; a restart with the same id fences its predecessor");
  static final Setting<Integer> PARTITIONS =
      Setting.integer(
          "TXGW_TOPIC_PARTITIONS", 6, 1, 1000, "partitions of sendto and results when created");
  static final Setting<Secret> API_KEYS =
      Setting.secret(
          "TXGW_API_KEYS",
          null,
          "client API keys as client=key pairs separated by commas (or TXGW_API_KEYS_FILE)");
  static final Setting<String> API_KEYS_RELOAD =
      Setting.string(
          "TXGW_API_KEYS_FILE",
          "",
          "file of client[:scopes]=key lines, read again within 2 s of a change (no restart)");
  static final Setting<String> TLS_CERT =
      Setting.string("TXGW_TLS_CERT", "", "PEM certificate chain for HTTPS; empty serves HTTP");
  static final Setting<String> TLS_KEY =
      Setting.string("TXGW_TLS_KEY", "", "PEM private key (PKCS#8) of TXGW_TLS_CERT");
  static final Setting<Integer> ADMIN_PORT =
      Setting.integer(
          "TXGW_ADMIN_PORT",
          8081,
          0,
          65535,
          "port of /metrics, /healthz and /readyz, on TXGW_HTTP_HOST; 0 picks a free one");
  static final Setting<String> AUDIT_LOG =
      Setting.string(
          "TXGW_AUDIT_LOG",
          "",
          "file of one JSON line per accepted or refused batch; empty is audit.log in the state"
              + " directory");
  static final Setting<Integer> IDLE_TIMEOUT =
      Setting.integer(
          "TXGW_IDLE_TIMEOUT_S", 30, 1, 3600, "seconds a connection may send and receive nothing");
  static final Setting<Integer> MAX_CONNECTIONS =
      Setting.integer("TXGW_MAX_CONNECTIONS", 1024, 1, 1_000_000, "open connections in all");
  static final Setting<Integer> MAX_CONNECTIONS_PER_ADDRESS =
      Setting.integer(
          "TXGW_MAX_CONNECTIONS_PER_ADDRESS", 64, 1, 1_000_000, "open connections per client IP");
  static final Setting<Integer> RATE_LIMIT =
      Setting.integer(
          "TXGW_RATE_LIMIT",
          50,
          0,
          1_000_000,
          "API requests per second per client, with bursts of twice as many; 0 is off");
  static final Setting<Integer> MAX_STREAMS_PER_CLIENT =
      Setting.integer(
          "TXGW_MAX_STREAMS_PER_CLIENT", 16, 1, 100_000, "open event streams per client");
  static final Setting<Integer> AUTH_DELAY =
      Setting.integer(
          "TXGW_AUTH_FAILURE_MAX_DELAY_MS",
          5_000,
          0,
          60_000,
          "longest wait before answering a failed authentication; each failure from an address"
              + " in 10 minutes doubles it from 100 ms");
  static final Setting<Integer> BODY_BYTES_IN_FLIGHT =
      Setting.integer(
          "TXGW_BODY_BYTES_IN_FLIGHT",
          64 * 1024 * 1024,
          1024,
          Integer.MAX_VALUE,
          "bytes of request bodies received at once, in all (a body without Content-Length counts"
              + " as TXGW_MAX_BODY_BYTES); more waits for 429 and a retry");
  static final Setting<Integer> BODY_BYTES_PER_CLIENT =
      Setting.integer(
          "TXGW_BODY_BYTES_IN_FLIGHT_PER_CLIENT",
          24 * 1024 * 1024,
          1024,
          Integer.MAX_VALUE,
          "bytes of request bodies received at once from one client");
  static final Setting<String> ADMIN_HOST =
      Setting.string(
          "TXGW_ADMIN_HOST", "127.0.0.1", "address the admin port (metrics, health) binds to");
  static final Setting<Integer> MAX_STREAMS =
      Setting.integer("TXGW_MAX_STREAMS", 1000, 1, 1_000_000, "open event streams in all");
  static final Setting<BitcoinNetwork> BTC_NETWORK =
      Setting.choice(
          "TXGW_BTC_NETWORK",
          BitcoinNetwork.class,
          BitcoinNetwork.MAIN,
          "accepted Bitcoin address network: MAIN, TESTNET, REGTEST, BCOIN_REGTEST");
  static final Setting<Integer> MAX_PAYOUTS =
      Setting.integer("TXGW_MAX_BATCH_PAYOUTS", 10_000, 1, 1_000_000, "most payouts in a batch");
  static final Setting<Integer> MAX_BODY =
      Setting.integer(
          "TXGW_MAX_BODY_BYTES", 8 * 1024 * 1024, 1024, 256 * 1024 * 1024, "largest request body");
  static final Setting<Integer> WRITER_LANES =
      Setting.integer(
          "TXGW_WRITER_LANES",
          2,
          1,
          16,
          "Kafka transactions in flight at once (one transactional producer each); keep it the same"
              + " across restarts of an instance so that each lane fences its predecessor");
  static final Setting<String> STATE_DIR =
      Setting.string(
          "TXGW_STATE_DIR",
          Path.of(System.getProperty("java.io.tmpdir"), "txgw-state").toString(),
          "where the batch status view keeps its stores (rebuilt from Kafka when missing)");
  static final Setting<String> CONSUMER_GROUP =
      Setting.string(
          "TXGW_CONSUMER_GROUP",
          "txgw-payouts",
          "the payout consumers' group, whose lag is watched");
  static final Setting<Integer> MAX_LAG =
      Setting.integer(
          "TXGW_MAX_LAG",
          0,
          0,
          Integer.MAX_VALUE,
          "payouts waiting in sendto above which new batches get 429 with Retry-After; 0 is off");
  static final Setting<String> ZOOKEEPER =
      Setting.string(
          "TXGW_ZOOKEEPER",
          "",
          "ZooKeeper connect string, for the dashboard's node budgets; empty shows none");
  static final Setting<Integer> APPROVAL_WAIT =
      Setting.integer(
          "TXGW_APPROVAL_WAIT_S",
          86_400,
          5,
          302_400,
          "seconds a batch held for approval waits for a decision before it expires unpaid");
  static final Setting<Integer> APPROVAL_SWEEP =
      Setting.integer(
          "TXGW_APPROVAL_SWEEP_S",
          10,
          1,
          3600,
          "seconds between sweeps that expire overdue holds and write approved batches not yet"
              + " written (an approval's own write is given three sweeps)");
  static final Setting<Integer> APPROVAL_WRITE_LEASE =
      Setting.integer(
          "TXGW_APPROVAL_WRITE_LEASE_S",
          180,
          1,
          3600,
          "seconds an approved batch's writer holds its write before another gateway may take it"
              + " over (fencing it); keep it above 130, the longest a write takes to be decided");
  static final Setting<Integer> MAX_PENDING_APPROVALS =
      Setting.integer(
          "TXGW_MAX_PENDING_APPROVALS",
          100,
          1,
          10_000,
          "batches one client may have waiting for approval at once; more get 429");
  static final Setting<String> WEBHOOKS =
      Setting.string(
          "TXGW_WEBHOOKS",
          "",
          "client=url pairs separated by commas: where each client is told its payouts' state"
              + " changes; https, or http to this machine only");
  static final Setting<Secret> WEBHOOK_SECRETS =
      Setting.secret(
          "TXGW_WEBHOOK_SECRETS",
          "",
          "client=secret pairs (at least 32 characters each; two for one client while rotating)"
              + " that sign each client's webhook deliveries");
  static final Setting<Integer> WEBHOOK_TIMEOUT =
      Setting.integer(
          "TXGW_WEBHOOK_TIMEOUT_S", 10, 1, 300, "seconds one webhook attempt may take in all");
  static final Setting<Integer> WEBHOOK_MAX_BACKOFF =
      Setting.integer(
          "TXGW_WEBHOOK_MAX_BACKOFF_S",
          300,
          1,
          86_400,
          "longest wait between two attempts of a webhook delivery (the waits double from 1 s)");
  static final Setting<Amount> MAX_BTC = amount("TXGW_MAX_PAYOUT_BTC", "100");
  static final Setting<Amount> MAX_ETH = amount("TXGW_MAX_PAYOUT_ETH", "1000");

  /** Every setting, for documentation and checks. */
  public static final List<Setting<?>> SETTINGS =
      List.of(
          HTTP_HOST,
          HTTP_PORT,
          KAFKA,
          INSTANCE,
          PARTITIONS,
          io.txgw.common.kafka.TopicSettings.REPLICATION,
          io.txgw.common.kafka.TopicSettings.MIN_INSYNC,
          API_KEYS,
          API_KEYS_RELOAD,
          TrustSettings.CLIENTS_FILE,
          TrustSettings.RECORD_KEYS,
          TrustSettings.ASSETS,
          TLS_CERT,
          TLS_KEY,
          ADMIN_PORT,
          AUDIT_LOG,
          IDLE_TIMEOUT,
          MAX_CONNECTIONS,
          MAX_CONNECTIONS_PER_ADDRESS,
          RATE_LIMIT,
          MAX_STREAMS_PER_CLIENT,
          MAX_STREAMS,
          AUTH_DELAY,
          BODY_BYTES_IN_FLIGHT,
          BODY_BYTES_PER_CLIENT,
          ADMIN_HOST,
          BTC_NETWORK,
          MAX_PAYOUTS,
          MAX_BODY,
          MAX_BTC,
          MAX_ETH,
          WRITER_LANES,
          STATE_DIR,
          CONSUMER_GROUP,
          MAX_LAG,
          APPROVAL_WAIT,
          APPROVAL_SWEEP,
          APPROVAL_WRITE_LEASE,
          MAX_PENDING_APPROVALS,
          WEBHOOKS,
          WEBHOOK_SECRETS,
          WEBHOOK_TIMEOUT,
          WEBHOOK_MAX_BACKOFF,
          ZOOKEEPER,
          ZkAuth.AUTH);

  private static final Duration RELOAD_EVERY = TrustSettings.RELOAD_EVERY;

  private static int orZero(Integer value) {
    return value == null ? 0 : value;
  }

  /**
   * The API keys: from {@code TXGW_API_KEYS_FILE}, read again when it changes, or from {@code
   * TXGW_API_KEYS}, fixed for the process's life.
   */
  private static Supplier<ApiKeys> apiKeys(Map<String, String> env, ConfigReader reader) {
    String file = reader.get(API_KEYS_RELOAD);
    if (file != null && !file.isEmpty() && !env.containsKey(API_KEYS.name())) {
      try {
        return new ReloadingFile<>(
                Path.of(file),
                path -> {
                  try {
                    return ApiKeys.parse(new Secret(Files.readString(path)));
                  } catch (IOException e) {
                    throw new IllegalArgumentException("cannot read the file");
                  }
                },
                RELOAD_EVERY,
                Clock.systemUTC())
            ::get;
      } catch (IllegalArgumentException e) {
        reader.problem(API_KEYS_RELOAD.name() + ": " + e.getMessage());
        return null;
      }
    }
    Secret text = reader.get(API_KEYS);
    if (text == null) {
      return null;
    }
    try {
      ApiKeys keys = ApiKeys.parse(text);
      return () -> keys;
    } catch (IllegalArgumentException e) {
      reader.problem(API_KEYS.name() + ": " + e.getMessage());
      return null;
    }
  }

  /** The connection every Kafka client of the gateway starts from. */
  public KafkaConnection kafka() {
    return new KafkaConnection(kafkaBootstrap, kafkaSecurity);
  }

  private static Setting<Amount> amount(String name, String defaultValue) {
    return new Setting<>(
        name, "largest single payout, in coin units", defaultValue, Amount::parse, false);
  }

  /**
   * @throws io.txgw.common.config.ConfigException listing every problem
   */
  public static GatewayConfig fromEnv(Map<String, String> env) {
    ConfigReader reader = new ConfigReader(env);
    String host = reader.get(HTTP_HOST);
    Integer port = reader.get(HTTP_PORT);
    String kafka = reader.get(KAFKA);
    String instance = reader.get(INSTANCE);
    Integer partitions = reader.get(PARTITIONS);
    io.txgw.common.kafka.TopicSettings topics = io.txgw.common.kafka.TopicSettings.read(reader);
    BitcoinNetwork network = reader.get(BTC_NETWORK);
    AddressCodec addresses = network == null ? null : new AddressCodec(network);
    Supplier<ApiKeys> keys = apiKeys(env, reader);
    io.txgw.common.model.AssetRegistry assets = reader.get(TrustSettings.ASSETS);
    Supplier<ClientPolicies> policies =
        TrustSettings.policies(
            reader, addresses, assets == null ? io.txgw.common.model.AssetRegistry.NONE : assets);
    RecordSeal seal = TrustSettings.seal(reader);
    String tlsCert = reader.get(TLS_CERT);
    String tlsKey = reader.get(TLS_KEY);
    if (tlsCert != null && tlsKey != null && tlsCert.isEmpty() != tlsKey.isEmpty()) {
      reader.problem("TXGW_TLS_CERT and TXGW_TLS_KEY are set together or not at all");
    }
    Integer adminPort = reader.get(ADMIN_PORT);
    String auditLog = reader.get(AUDIT_LOG);
    HttpLimits limits =
        new HttpLimits(
            orZero(reader.get(IDLE_TIMEOUT)),
            orZero(reader.get(MAX_CONNECTIONS)),
            orZero(reader.get(MAX_CONNECTIONS_PER_ADDRESS)),
            orZero(reader.get(RATE_LIMIT)),
            orZero(reader.get(MAX_STREAMS_PER_CLIENT)),
            orZero(reader.get(MAX_STREAMS)),
            orZero(reader.get(AUTH_DELAY)),
            orZero(reader.get(BODY_BYTES_IN_FLIGHT)),
            orZero(reader.get(BODY_BYTES_PER_CLIENT)));
    String adminHost = reader.get(ADMIN_HOST);
    Integer maxPayouts = reader.get(MAX_PAYOUTS);
    Integer maxBody = reader.get(MAX_BODY);
    Amount maxBtc = reader.get(MAX_BTC);
    Amount maxEth = reader.get(MAX_ETH);
    Integer lanes = reader.get(WRITER_LANES);
    String stateDir = reader.get(STATE_DIR);
    String group = reader.get(CONSUMER_GROUP);
    Integer maxLag = reader.get(MAX_LAG);
    Integer approvalWait = reader.get(APPROVAL_WAIT);
    Integer approvalSweep = reader.get(APPROVAL_SWEEP);
    Integer approvalLease = reader.get(APPROVAL_WRITE_LEASE);
    Integer maxPendingApprovals = reader.get(MAX_PENDING_APPROVALS);
    String zookeeper = reader.get(ZOOKEEPER);
    Secret zookeeperAuth = ZkAuth.read(reader);
    KafkaSecurity kafkaSecurity = KafkaSecurity.read(reader);
    List<String> hookProblems = new java.util.ArrayList<>();
    Integer hookTimeout = reader.get(WEBHOOK_TIMEOUT);
    Integer hookBackoff = reader.get(WEBHOOK_MAX_BACKOFF);
    Webhooks webhooks =
        Webhooks.parse(
            reader.get(WEBHOOKS),
            reader.get(WEBHOOK_SECRETS),
            Duration.ofSeconds(hookTimeout == null ? 10 : hookTimeout),
            Duration.ofSeconds(hookBackoff == null ? 300 : hookBackoff),
            hookProblems);
    hookProblems.forEach(reader::problem);
    reader.throwIfProblems();
    return new GatewayConfig(
        host,
        port,
        kafka,
        instance,
        partitions,
        topics,
        keys,
        policies,
        seal,
        limits,
        tlsCert == null || tlsCert.isEmpty() ? null : Path.of(tlsCert),
        tlsKey == null || tlsKey.isEmpty() ? null : Path.of(tlsKey),
        adminHost,
        adminPort,
        auditLog == null || auditLog.isEmpty()
            ? Path.of(stateDir == null ? "." : stateDir, "audit.log")
            : Path.of(auditLog),
        network,
        maxPayouts,
        maxBody,
        Map.of(Chain.BTC, maxBtc, Chain.ETH, maxEth),
        lanes,
        Path.of(stateDir),
        group,
        maxLag,
        zookeeper == null ? "" : zookeeper,
        zookeeperAuth,
        kafkaSecurity,
        Duration.ofSeconds(approvalWait),
        Duration.ofSeconds(approvalSweep),
        Duration.ofSeconds(approvalLease),
        maxPendingApprovals,
        webhooks,
        assets == null ? io.txgw.common.model.AssetRegistry.NONE : assets);
  }
}
