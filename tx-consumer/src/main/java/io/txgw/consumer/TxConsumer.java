package io.txgw.consumer;

import io.txgw.common.json.Json;
import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.model.Chain;
import io.txgw.consumer.chain.BcoinSender;
import io.txgw.consumer.chain.BitcoinCoreSender;
import io.txgw.consumer.chain.ChainSender;
import io.txgw.consumer.chain.EthereumSender;
import io.txgw.consumer.rpc.JsonRpcClient;
import io.txgw.consumer.rpc.RetryPolicy;
import io.txgw.consumer.rpc.RpcEndpoint;
import io.txgw.coordinator.AccountLeases;
import io.txgw.coordinator.Membership;
import java.io.Closeable;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A consumer process: Kafka clients, node clients, ZooKeeper membership, and the loop thread. */
public final class TxConsumer implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(TxConsumer.class);

  private final TxConsumerConfig config;
  private final OkHttpClient http = new OkHttpClient();
  private Membership membership;
  private PayoutProcessor processor;
  private Thread thread;

  public TxConsumer(TxConsumerConfig config) {
    this.config = config;
  }

  public TxConsumer start() throws InterruptedException {
    if (!config.zookeeper().isEmpty()) {
      membership =
          new Membership(config.zookeeper(), "consumers", config.instanceId(), describeSelf());
      membership.start(30, TimeUnit.SECONDS);
    }
    Map<Chain, ChainSender> senders = new EnumMap<>(Chain.class);
    if (!config.ethRpcUrl().isEmpty()) {
      senders.put(
          Chain.ETH,
          new EthereumSender(
              client("eth", config.ethRpcUrl(), config.ethRpcUser(), config.ethRpcPassword(), true),
              Clock.systemUTC()));
    }
    if (!config.btcNodeUrl().isEmpty()) {
      JsonRpcClient node =
          client("btc", config.btcNodeUrl(), config.btcRpcUser(), config.btcRpcPassword(), false);
      JsonRpcClient wallet =
          client(
              "btc-wallet",
              config.btcWalletUrl(),
              config.btcRpcUser(),
              config.btcRpcPassword(),
              false);
      senders.put(
          Chain.BTC,
          config.btcDialect() == TxConsumerConfig.BitcoinDialect.CORE
              ? new BitcoinCoreSender(node, wallet, config.btcWallet(), config.btcMaxOutputs())
              : new BcoinSender(node, wallet, config.btcWallet(), config.btcMaxOutputs()));
    }
    processor =
        new PayoutProcessor(
            kafkaConsumer(),
            kafkaProducer(),
            senders,
            new JournalReader(config.kafkaBootstrap()),
            membership == null
                ? AccountGuard.unguarded()
                : AccountGuard.of(new AccountLeases(membership.client())),
            Clock.systemUTC(),
            !config.unjournaledForBenchmark());
    processor.haltAt(FaultPoint.parse(config.faultHalt()));
    if (config.unjournaledForBenchmark()) {
      log.warn(
          "consumer {} broadcasts WITHOUT journaling: a benchmark mode that can pay twice",
          config.instanceId());
    }
    thread = new Thread(processor::run, "payouts-" + config.instanceId());
    thread.start();
    log.info("consumer {} started for {}", config.instanceId(), senders.keySet());
    return this;
  }

  private JsonRpcClient client(
      String name, String url, String user, io.txgw.common.config.Secret password, boolean v2) {
    String reveal = password == null ? "" : password.reveal();
    RpcEndpoint endpoint =
        new RpcEndpoint(
            name,
            url,
            user == null || user.isEmpty() ? null : user,
            reveal.isEmpty() ? null : password,
            v2,
            config.rpcTimeout());
    return new JsonRpcClient(endpoint, RetryPolicy.standard(), http);
  }

  private KafkaConsumer<String, byte[]> kafkaConsumer() {
    Map<String, Object> props = new HashMap<>();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafkaBootstrap());
    props.put(ConsumerConfig.GROUP_ID_CONFIG, config.group());
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, config.instanceId());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
    props.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 120_000);
    // A dead consumer's partitions move after this long; the journal makes the move safe.
    props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6_000);
    props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_500);
    return new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
  }

  private KafkaProducer<String, Object> kafkaProducer() {
    Map<String, Object> props = new HashMap<>();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafkaBootstrap());
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "txgw-" + config.instanceId());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    props.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 10);
    // A consumer frozen inside a transaction keeps the journal's next owner waiting this long at
    // most (see JournalReader); a round commits well within it.
    props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 10_000);
    props.put(
        ProducerConfig.MAX_REQUEST_SIZE_CONFIG, io.txgw.common.kafka.Topics.MAX_MESSAGE_BYTES);
    return new KafkaProducer<>(
        props, new StringSerializer(), new JsonSerde<>(Object.class).serializer());
  }

  private String describeSelf() {
    Map<String, Object> self = new HashMap<>();
    try {
      self.put("host", InetAddress.getLocalHost().getHostName());
    } catch (UnknownHostException e) {
      self.put("host", "unknown");
    }
    self.put("pid", ProcessHandle.current().pid());
    self.put("group", config.group());
    return Json.mapper().valueToTree(self).toString();
  }

  /** Blocks until the loop ends (on {@link #close()} or a fatal error). */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    thread.join(timeout.toMillis());
    return !thread.isAlive();
  }

  @Override
  public void close() {
    if (processor != null) {
      processor.stop();
      try {
        thread.join(30_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      processor.closeClients();
    }
    if (membership != null) {
      membership.close();
    }
    JsonRpcClient.shutdown(http);
  }
}
