package io.txgw.gateway;

import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.config.ConfigReader;
import io.txgw.common.config.Secret;
import io.txgw.common.config.Setting;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.KafkaSecurity;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Everything the gateway is configured with, read once from the environment. */
public record GatewayConfig(
    String httpHost,
    int httpPort,
    String kafkaBootstrap,
    String instanceId,
    int topicPartitions,
    ApiKeys apiKeys,
    BitcoinNetwork bitcoinNetwork,
    int maxBatchPayouts,
    int maxBodyBytes,
    Map<Chain, Amount> maxPerPayout,
    int writerLanes,
    Path stateDir,
    String consumerGroup,
    long maxLag,
    String zookeeper,
    KafkaSecurity kafkaSecurity) {

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
          API_KEYS,
          BTC_NETWORK,
          MAX_PAYOUTS,
          MAX_BODY,
          MAX_BTC,
          MAX_ETH,
          WRITER_LANES,
          STATE_DIR,
          CONSUMER_GROUP,
          MAX_LAG,
          ZOOKEEPER);

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
    Secret keysText = reader.get(API_KEYS);
    ApiKeys keys = null;
    if (keysText != null) {
      try {
        keys = ApiKeys.parse(keysText);
      } catch (IllegalArgumentException e) {
        reader.problem(API_KEYS.name() + ": " + e.getMessage());
      }
    }
    BitcoinNetwork network = reader.get(BTC_NETWORK);
    Integer maxPayouts = reader.get(MAX_PAYOUTS);
    Integer maxBody = reader.get(MAX_BODY);
    Amount maxBtc = reader.get(MAX_BTC);
    Amount maxEth = reader.get(MAX_ETH);
    Integer lanes = reader.get(WRITER_LANES);
    String stateDir = reader.get(STATE_DIR);
    String group = reader.get(CONSUMER_GROUP);
    Integer maxLag = reader.get(MAX_LAG);
    String zookeeper = reader.get(ZOOKEEPER);
    KafkaSecurity kafkaSecurity = KafkaSecurity.read(reader);
    reader.throwIfProblems();
    return new GatewayConfig(
        host,
        port,
        kafka,
        instance,
        partitions,
        keys,
        network,
        maxPayouts,
        maxBody,
        Map.of(Chain.BTC, maxBtc, Chain.ETH, maxEth),
        lanes,
        Path.of(stateDir),
        group,
        maxLag,
        zookeeper,
        kafkaSecurity);
  }
}
