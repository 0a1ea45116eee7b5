package io.txgw.consumer;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.config.ConfigReader;
import io.txgw.common.config.Secret;
import io.txgw.common.config.Setting;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.KafkaSecurity;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import io.txgw.common.security.ClientPolicies;
import io.txgw.common.security.RecordSeal;
import io.txgw.common.security.TrustSettings;
import io.txgw.consumer.finality.ChainFollower;
import io.txgw.coordinator.nodes.NodeEndpointRules;
import io.txgw.coordinator.zk.ZkClients;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Everything a consumer is configured with, read once from the environment. A chain whose node URL
 * is empty is not served by this consumer.
 */
public record TxConsumerConfig(
    String kafkaBootstrap,
    String group,
    String instanceId,
    ZkClients zookeeper,
    Duration rpcTimeout,
    String ethRpcUrl,
    String ethRpcUser,
    Secret ethRpcPassword,
    String btcNodeUrl,
    String btcWalletUrl,
    String btcRpcUser,
    Secret btcRpcPassword,
    String btcWallet,
    int btcMaxOutputs,
    BitcoinDialect btcDialect,
    boolean unjournaledForBenchmark,
    String faultHalt,
    int ethMaxRps,
    int btcMaxRps,
    int nodeMaxLag,
    Duration throttleMaxWait,
    Duration healthInterval,
    String metricsHost,
    int metricsPort,
    RecordIntake intake,
    KafkaSecurity kafkaSecurity,
    io.txgw.common.kafka.TopicSettings topics,
    Map<Chain, ChainFollower.Settings> finality,
    Duration ethBumpAfter,
    java.math.BigInteger ethMaxGasPrice,
    Duration btcBumpAfter,
    long btcMaxFeeRate,
    io.txgw.consumer.signing.SignerSettings ethSigning,
    String ethMultiSend,
    int ethMultiSendMax,
    int ethSendsInFlight) {

  static final Setting<String> KAFKA =
      Setting.string("TXGW_KAFKA_BOOTSTRAP", "127.0.0.1:9092", "Kafka bootstrap servers");
  static final Setting<String> GROUP =
      Setting.string("TXGW_CONSUMER_GROUP", "txgw-payouts", "consumer group on sendto");
  static final Setting<String> INSTANCE =
      Setting.string(
          "TXGW_CONSUMER_ID",
          "consumer-1",
          "stable id of this consumer; its transactional id, so a restart fences its predecessor");
  static final Setting<String> ZOOKEEPER =
      Setting.string(
          "TXGW_ZOOKEEPER", "", "ZooKeeper connect string; empty runs without coordination");
  static final Setting<Integer> RPC_TIMEOUT =
      Setting.integer("TXGW_RPC_TIMEOUT_MS", 10_000, 100, 600_000, "node call read timeout");
  static final Setting<String> ETH_URL =
      Setting.string("TXGW_ETH_RPC_URL", "", "Ethereum node JSON-RPC URL");
  static final Setting<String> ETH_USER =
      Setting.string("TXGW_ETH_RPC_USER", "", "Ethereum node Basic-auth user, if any");
  public static final Setting<Secret> ETH_PASSWORD =
      Setting.secret("TXGW_ETH_RPC_PASSWORD", "", "Ethereum node Basic-auth password (or _FILE)");
  static final Setting<String> BTC_NODE_URL =
      Setting.string("TXGW_BTC_RPC_URL", "", "bcoin node JSON-RPC URL (node port)");
  static final Setting<String> BTC_WALLET_URL =
      Setting.string("TXGW_BTC_WALLET_RPC_URL", "", "bcoin wallet JSON-RPC URL (wallet port)");
  static final Setting<String> BTC_USER =
      Setting.string("TXGW_BTC_RPC_USER", "x", "bcoin Basic-auth user (bcoin ignores it)");
  public static final Setting<Secret> BTC_PASSWORD =
      Setting.secret("TXGW_BTC_RPC_PASSWORD", "", "bcoin API key (or TXGW_BTC_RPC_PASSWORD_FILE)");
  static final Setting<String> BTC_WALLET =
      Setting.string("TXGW_BTC_WALLET", "primary", "the bcoin wallet that pays BTC payouts");

  static final Setting<Integer> BTC_MAX_OUTPUTS =
      Setting.integer(
          "TXGW_BTC_MAX_OUTPUTS", 100, 1, 2_000, "most payouts paid by one Bitcoin transaction");

  /** Which Bitcoin node the BTC URLs point at. */
  public enum BitcoinDialect {
    BCOIN,
    CORE
  }

  static final Setting<BitcoinDialect> BTC_DIALECT =
      Setting.choice(
          "TXGW_BTC_DIALECT",
          BitcoinDialect.class,
          BitcoinDialect.BCOIN,
          "BCOIN (wallet port and REST) or CORE (Bitcoin Core; wallet URL ending /wallet/<name>)");

  static final Setting<Boolean> UNJOURNALED =
      Setting.bool(
          "TXGW_BENCHMARK_UNJOURNALED",
          false,
          "true only to measure what the journal costs: broadcasts without journaling first, so a"
              + " crash can pay twice. Never in production.");

  static final Setting<String> FAULT_HALT =
      new Setting<>(
          "TXGW_FAULT_HALT",
          "crash tests only: after-journal:N or after-broadcast:N halts the process at once after"
              + " its Nth journal commit or Nth broadcast round, as a power cut would",
          "",
          s -> {
            if (!s.isEmpty() && !s.matches("after-(journal|broadcast):[1-9][0-9]{0,5}")) {
              throw new IllegalArgumentException("must be after-journal:N or after-broadcast:N");
            }
            return s;
          },
          false);

  static final Setting<Integer> ETH_MAX_RPS =
      Setting.integer(
          "TXGW_ETH_MAX_RPS",
          0,
          0,
          1_000_000,
          "requests/s for the Ethereum node from the environment; 0 = unlimited. Registered nodes"
              + " carry their own limits");
  static final Setting<Integer> BTC_MAX_RPS =
      Setting.integer(
          "TXGW_BTC_MAX_RPS", 0, 0, 1_000_000, "as TXGW_ETH_MAX_RPS, for the Bitcoin node");
  static final Setting<Integer> NODE_MAX_LAG =
      Setting.integer(
          "TXGW_NODE_MAX_LAG",
          3,
          0,
          1_000,
          "a node whose height lags the chain's best node by more blocks leaves the rotation");
  static final Setting<Integer> THROTTLE_MAX_WAIT =
      Setting.integer(
          "TXGW_THROTTLE_MAX_WAIT_MS",
          2_000,
          10,
          60_000,
          "how long a call waits for its share of a node's budget before the work is retried later");
  static final Setting<Integer> HEALTH_INTERVAL =
      Setting.integer(
          "TXGW_HEALTH_INTERVAL_MS", 1_000, 100, 60_000, "how often each node's height is checked");

  static final Setting<String> METRICS_HOST =
      Setting.string("TXGW_METRICS_HOST", "127.0.0.1", "address /metrics binds to");
  static final Setting<Integer> METRICS_PORT =
      Setting.integer(
          "TXGW_METRICS_PORT", 0, 0, 65535, "port of /metrics (Prometheus); 0 picks a free one");

  static final Setting<BitcoinNetwork> BTC_NETWORK =
      Setting.choice(
          "TXGW_BTC_NETWORK",
          BitcoinNetwork.class,
          BitcoinNetwork.MAIN,
          "Bitcoin address network payouts are checked against, as the gateway's");
  static final Setting<Amount> MAX_BTC =
      new Setting<>(
          "TXGW_MAX_PAYOUT_BTC",
          "largest single payout paid, as the gateway's",
          "100",
          Amount::parse,
          false);
  static final Setting<Amount> MAX_ETH =
      new Setting<>(
          "TXGW_MAX_PAYOUT_ETH",
          "largest single payout paid, as the gateway's",
          "1000",
          Amount::parse,
          false);

  static final Setting<Integer> ETH_CONFIRMATIONS =
      Setting.integer(
          "TXGW_ETH_CONFIRMATIONS",
          12,
          0,
          10_000,
          "blocks on top of (and including) a payout's block before it is CONFIRMED; 0 takes a"
              + " broadcast as final (tests only)");
  static final Setting<Integer> BTC_CONFIRMATIONS =
      Setting.integer(
          "TXGW_BTC_CONFIRMATIONS", 6, 0, 10_000, "as TXGW_ETH_CONFIRMATIONS, for Bitcoin");
  static final Setting<Integer> ETH_REORG_WINDOW =
      Setting.integer(
          "TXGW_ETH_REORG_WINDOW",
          0,
          0,
          100_000,
          "blocks the tracker keeps to find a reorganisation (deeper ones alert); 0 = four times"
              + " the depth, at least 16");
  static final Setting<Integer> BTC_REORG_WINDOW =
      Setting.integer(
          "TXGW_BTC_REORG_WINDOW", 0, 0, 100_000, "as TXGW_ETH_REORG_WINDOW, for Bitcoin");
  static final Setting<Integer> FOLLOW_INTERVAL =
      Setting.integer(
          "TXGW_FOLLOW_INTERVAL_MS",
          1_000,
          10,
          600_000,
          "how often the tracker asks each chain's node for its head block");
  static final Setting<Integer> ETH_LOOKUP_AFTER =
      Setting.integer(
          "TXGW_ETH_LOOKUP_AFTER_S",
          600,
          1,
          86_400,
          "a transaction in no block this long after broadcast is looked up; if the node holds it"
              + " nowhere, its same bytes are broadcast again");
  static final Setting<Integer> BTC_LOOKUP_AFTER =
      Setting.integer(
          "TXGW_BTC_LOOKUP_AFTER_S", 3_600, 1, 86_400, "as TXGW_ETH_LOOKUP_AFTER_S, for Bitcoin");

  static final Setting<Integer> ETH_BUMP_AFTER =
      Setting.integer(
          "TXGW_ETH_BUMP_AFTER_S",
          0,
          0,
          86_400,
          "a transaction not mined this long after it was signed is replaced at its nonce with a"
              + " higher gas price (12.5% more at least, or the node's price); 0 (the default)"
              + " never replaces: set it (180 is a fair value) once every consumer runs a version"
              + " that knows replacements");
  static final Setting<Integer> ETH_MAX_GAS_PRICE =
      Setting.integer(
          "TXGW_ETH_MAX_GAS_PRICE_GWEI",
          200,
          1,
          1_000_000,
          "the highest gas price any transaction is signed with, first or replacement; at it a"
              + " stuck transaction waits and txgw_fee_ceiling_units says so");

  static final Setting<Integer> BTC_BUMP_AFTER =
      Setting.integer(
          "TXGW_BTC_BUMP_AFTER_S",
          0,
          0,
          86_400,
          "a transaction in no block this long after it was broadcast (or last lifted) is lifted"
              + " to a higher fee by a child spending its change back to the wallet (child pays for"
              + " parent); the payout's transaction and txid stay. 0 (the default) never lifts:"
              + " set it (3600 is a fair value) once every consumer funds payouts from confirmed"
              + " coins only");
  static final Setting<Integer> BTC_MAX_FEE_RATE =
      Setting.integer(
          "TXGW_BTC_MAX_FEE_RATE_SAT_VB",
          100,
          1,
          100_000,
          "the highest fee rate, satoshis per vbyte, a Bitcoin transaction and the children lifting"
              + " it pay together; at it a stuck transaction waits and txgw_fee_ceiling_units says"
              + " so");

  static final Setting<String> ETH_MULTISEND =
      Setting.string(
          "TXGW_ETH_MULTISEND",
          "",
          "the multi-send contract (deploy/contracts/TxgwMultiSend.sol, deployed with txgw-contracts"
              + " deploy): up to TXGW_ETH_MULTISEND_MAX payouts of one account and asset in one"
              + " transaction; empty pays each payout alone");
  static final Setting<Integer> ETH_MULTISEND_MAX =
      Setting.integer(
          "TXGW_ETH_MULTISEND_MAX",
          100,
          2,
          500,
          "most payouts in one multi-send call (at most 200,000 gas each)");

  static final Setting<Integer> ETH_SENDS_IN_FLIGHT =
      Setting.integer(
          "TXGW_ETH_SENDS_IN_FLIGHT",
          4,
          1,
          16,
          "journaled Ethereum transactions on their way to the node at once, started in nonce order;"
              + " 1 sends one at a time, and the node's answer time then caps the sends a second");

  public static final List<Setting<?>> SETTINGS =
      java.util.stream.Stream.concat(
              Stream.of(
                  KAFKA,
                  GROUP,
                  INSTANCE,
                  ZOOKEEPER,
                  ZkClients.AUTH,
                  ZkClients.ACL_EXTRA,
                  NodeEndpointRules.ENV_PREFIX,
                  NodeEndpointRules.CREDENTIALS_DIR,
                  NodeEndpointRules.ALLOW_PLAIN_HTTP,
                  RPC_TIMEOUT,
                  ETH_URL,
                  ETH_USER,
                  ETH_PASSWORD,
                  BTC_NODE_URL,
                  BTC_WALLET_URL,
                  BTC_USER,
                  BTC_PASSWORD,
                  BTC_WALLET,
                  BTC_MAX_OUTPUTS,
                  BTC_DIALECT,
                  ETH_MAX_RPS,
                  BTC_MAX_RPS,
                  NODE_MAX_LAG,
                  THROTTLE_MAX_WAIT,
                  HEALTH_INTERVAL,
                  METRICS_HOST,
                  METRICS_PORT,
                  TrustSettings.CLIENTS_FILE,
                  TrustSettings.RECORD_KEYS,
                  TrustSettings.ASSETS,
                  BTC_NETWORK,
                  MAX_BTC,
                  MAX_ETH,
                  ETH_CONFIRMATIONS,
                  BTC_CONFIRMATIONS,
                  ETH_REORG_WINDOW,
                  BTC_REORG_WINDOW,
                  FOLLOW_INTERVAL,
                  ETH_LOOKUP_AFTER,
                  BTC_LOOKUP_AFTER,
                  ETH_BUMP_AFTER,
                  ETH_MAX_GAS_PRICE,
                  BTC_BUMP_AFTER,
                  BTC_MAX_FEE_RATE,
                  ETH_MULTISEND,
                  ETH_MULTISEND_MAX,
                  ETH_SENDS_IN_FLIGHT),
              java.util.stream.Stream.concat(
                  io.txgw.common.kafka.TopicSettings.SETTINGS.stream(),
                  io.txgw.consumer.signing.SignerSettings.settings().stream()))
          .toList();

  /**
   * @throws io.txgw.common.config.ConfigException listing every problem
   */
  public static TxConsumerConfig fromEnv(Map<String, String> env) {
    ConfigReader r = new ConfigReader(env);
    BitcoinNetwork network = r.get(BTC_NETWORK);
    AddressCodec addresses = network == null ? null : new AddressCodec(network);
    io.txgw.common.model.AssetRegistry assets = r.get(TrustSettings.ASSETS);
    if (assets == null) {
      assets = io.txgw.common.model.AssetRegistry.NONE;
    }
    Supplier<ClientPolicies> policies = TrustSettings.policies(r, addresses, assets);
    RecordSeal seal = TrustSettings.seal(r);
    Amount maxBtc = r.get(MAX_BTC);
    Amount maxEth = r.get(MAX_ETH);
    RecordIntake intake =
        policies == null || seal == null || maxBtc == null || maxEth == null
            ? null
            : new RecordIntake(
                    seal, policies, addresses, Map.of(Chain.BTC, maxBtc, Chain.ETH, maxEth))
                .withAssets(assets);
    TxConsumerConfig config =
        new TxConsumerConfig(
            r.get(KAFKA),
            r.get(GROUP),
            r.get(INSTANCE),
            ZkClients.read(r, r.get(ZOOKEEPER)),
            Duration.ofMillis(orZero(r.get(RPC_TIMEOUT))),
            r.get(ETH_URL),
            r.get(ETH_USER),
            r.get(ETH_PASSWORD),
            r.get(BTC_NODE_URL),
            r.get(BTC_WALLET_URL),
            r.get(BTC_USER),
            r.get(BTC_PASSWORD),
            r.get(BTC_WALLET),
            orZero(r.get(BTC_MAX_OUTPUTS)),
            r.get(BTC_DIALECT),
            Boolean.TRUE.equals(r.get(UNJOURNALED)),
            r.get(FAULT_HALT),
            orZero(r.get(ETH_MAX_RPS)),
            orZero(r.get(BTC_MAX_RPS)),
            orZero(r.get(NODE_MAX_LAG)),
            Duration.ofMillis(orZero(r.get(THROTTLE_MAX_WAIT))),
            Duration.ofMillis(orZero(r.get(HEALTH_INTERVAL))),
            r.get(METRICS_HOST),
            orZero(r.get(METRICS_PORT)),
            intake,
            KafkaSecurity.read(r),
            io.txgw.common.kafka.TopicSettings.read(r),
            finality(r),
            Duration.ofSeconds(orZero(r.get(ETH_BUMP_AFTER))),
            java.math.BigInteger.valueOf(orZero(r.get(ETH_MAX_GAS_PRICE)))
                .multiply(java.math.BigInteger.TEN.pow(9)),
            Duration.ofSeconds(orZero(r.get(BTC_BUMP_AFTER))),
            orZero(r.get(BTC_MAX_FEE_RATE)),
            io.txgw.consumer.signing.SignerSettings.read(r),
            r.get(ETH_MULTISEND),
            orZero(r.get(ETH_MULTISEND_MAX)),
            orZero(r.get(ETH_SENDS_IN_FLIGHT)));
    if (config.ethMultiSend() != null
        && !config.ethMultiSend().isEmpty()
        && !config.ethMultiSend().matches("0x[0-9a-fA-F]{40}")) {
      r.problem("TXGW_ETH_MULTISEND must be the contract's 0x address");
    }
    if (config.btcNodeUrl() != null
        && config.btcWalletUrl() != null
        && config.btcNodeUrl().isEmpty() != config.btcWalletUrl().isEmpty()) {
      r.problem("TXGW_BTC_RPC_URL and TXGW_BTC_WALLET_RPC_URL go together");
    }
    if ("".equals(config.ethRpcUrl()) && "".equals(config.btcNodeUrl())) {
      r.problem("no node configured: set TXGW_ETH_RPC_URL, TXGW_BTC_RPC_URL or both");
    }
    // Reported with the rest; the consumer reads the rules again where it admits nodes.
    NodeEndpointRules.read(r);
    r.throwIfProblems();
    return config;
  }

  /** Each followed chain's tracker settings; a chain with depth 0 is not followed. */
  private static Map<Chain, ChainFollower.Settings> finality(ConfigReader r) {
    Duration interval = Duration.ofMillis(orZero(r.get(FOLLOW_INTERVAL)));
    Map<Chain, ChainFollower.Settings> out = new java.util.EnumMap<>(Chain.class);
    follow(
        out,
        Chain.ETH,
        r.get(ETH_CONFIRMATIONS),
        r.get(ETH_REORG_WINDOW),
        interval,
        r.get(ETH_LOOKUP_AFTER));
    follow(
        out,
        Chain.BTC,
        r.get(BTC_CONFIRMATIONS),
        r.get(BTC_REORG_WINDOW),
        interval,
        r.get(BTC_LOOKUP_AFTER));
    return out;
  }

  private static void follow(
      Map<Chain, ChainFollower.Settings> out,
      Chain chain,
      Integer depth,
      Integer window,
      Duration interval,
      Integer lookupAfter) {
    if (depth == null || depth == 0 || window == null || lookupAfter == null) {
      return;
    }
    int size = window > 0 ? Math.max(window, depth + 1) : Math.max(16, 4 * depth);
    out.put(
        chain, new ChainFollower.Settings(depth, size, interval, Duration.ofSeconds(lookupAfter)));
  }

  /** The connection every Kafka client of the consumer starts from. */
  public KafkaConnection kafka() {
    return new KafkaConnection(kafkaBootstrap, kafkaSecurity);
  }

  private static int orZero(Integer value) {
    return value == null ? 0 : value;
  }
}
