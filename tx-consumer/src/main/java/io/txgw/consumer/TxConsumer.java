package io.txgw.consumer;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.txgw.common.budget.MemberReport;
import io.txgw.common.concurrent.Daemons;
import io.txgw.common.config.Secret;
import io.txgw.common.json.Json;
import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.TopicLayout;
import io.txgw.common.kafka.Topics;
import io.txgw.common.metrics.MetricsEndpoint;
import io.txgw.common.metrics.Telemetry;
import io.txgw.common.model.Chain;
import io.txgw.consumer.chain.BcoinSender;
import io.txgw.consumer.chain.BitcoinCoreSender;
import io.txgw.consumer.chain.ChainSender;
import io.txgw.consumer.chain.EthereumSender;
import io.txgw.consumer.finality.Finality;
import io.txgw.consumer.nodes.Credentials;
import io.txgw.consumer.nodes.NodePool;
import io.txgw.consumer.nodes.NodeRouting;
import io.txgw.consumer.rpc.JsonRpcClient;
import io.txgw.consumer.rpc.RpcException;
import io.txgw.coordinator.AccountLeases;
import io.txgw.coordinator.Membership;
import io.txgw.coordinator.nodes.NodeSpec;
import java.io.Closeable;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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

/**
 * A consumer process: Kafka clients, node pools with their budgets, ZooKeeper membership, and the
 * loop thread.
 */
public final class TxConsumer implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(TxConsumer.class);

  /** Set by {@link #close()}: the loop's end is then asked for, not a failure. */
  private final AtomicBoolean closing = new AtomicBoolean();

  /** The clients, routing and membership are closed once, by whichever thread comes first. */
  private final AtomicBoolean released = new AtomicBoolean();

  /** An environment node without a configured limit: in flight is bounded by the loop anyway. */
  private static final int UNLIMITED_IN_FLIGHT = 1_000;

  private static final double UNLIMITED_RPS = 1_000_000;

  private final TxConsumerConfig config;
  private final Map<String, String> env;
  private final OkHttpClient http = JsonRpcClient.httpClient();
  private final ScheduledExecutorService reporter =
      Executors.newSingleThreadScheduledExecutor(Daemons.named("member-report"));
  private Membership membership;
  private PrometheusMeterRegistry meters;
  private MetricsEndpoint metrics;

  /** Written by the loop thread (a new producer), read by whichever thread releases. */
  private final List<KafkaClientMetrics> clientMetrics = new CopyOnWriteArrayList<>();

  private KafkaClientMetrics producerMetrics;
  private NodeRouting routing;
  private PayoutProcessor processor;
  private Thread thread;

  /** The threads a round's Ethereum sends overlap on; null sends one at a time. */
  private java.util.concurrent.ExecutorService sends;

  public TxConsumer(TxConsumerConfig config) {
    this(config, System.getenv());
  }

  /**
   * @param env where registered nodes' {@code env:} credentials are read
   */
  public TxConsumer(TxConsumerConfig config, Map<String, String> env) {
    this.config = config;
    this.env = Map.copyOf(env);
  }

  public TxConsumer start() throws InterruptedException {
    try {
      return startParts();
    } catch (RuntimeException | InterruptedException e) {
      // A consumer that refuses to run leaves nothing behind: no ZooKeeper member, no threads.
      close();
      throw e;
    }
  }

  private TxConsumer startParts() throws InterruptedException {
    // Before anything consumes: topics less durable than configured, or a layout that moved
    // accounts off their journal, are refused.
    try (org.apache.kafka.clients.admin.Admin admin =
        io.txgw.common.kafka.LayoutStore.admin(config.kafka())) {
      io.txgw.common.kafka.Topics.checkSettings(
          admin, config.topics(), io.txgw.common.kafka.Topics.CONSUMED);
    }
    TopicLayout.check(config.kafka(), TopicLayout.Role.CONSUMER);
    meters = Telemetry.registry("consumer", config.instanceId());
    metrics = MetricsEndpoint.start(meters, config.metricsHost(), config.metricsPort());
    if (!config.zookeeper().isEmpty()) {
      membership =
          new Membership(config.zookeeper(), Membership.CONSUMERS, config.instanceId(), report(0));
      membership.start(30, TimeUnit.SECONDS);
    }
    routing =
        new NodeRouting(
            config.instanceId(),
            membership,
            new NodeRouting.Settings(
                http,
                config.rpcTimeout(),
                config.nodeMaxLag(),
                config.throttleMaxWait(),
                config.healthInterval(),
                new Credentials(env),
                meters));
    try {
      routing.start(environmentNodes());
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("cannot read the node registry: " + e.getMessage(), e);
    }
    // The chain checks below, and the first payouts, go to a node the health checks have seen;
    // a chain none of whose nodes answers yet starts anyway, and waits for one.
    java.time.Instant rotationBy =
        java.time.Instant.now().plus(config.healthInterval().multipliedBy(3));
    for (NodePool pool : routing.pools().values()) {
      // One wait for all: their first checks run at the same time.
      Duration left = Duration.between(java.time.Instant.now(), rotationBy);
      if (!left.isNegative()) {
        pool.awaitRotation(left);
      }
    }
    Map<Chain, ChainSender> senders = new EnumMap<>(Chain.class);
    NodePool eth = routing.pools().get(Chain.ETH);
    if (eth != null) {
      EthereumSender sender;
      try {
        sender =
            new EthereumSender(
                eth.node(),
                Clock.systemUTC(),
                config.intake()::contractsAllowed,
                config.ethMaxGasPrice(),
                config.ethSigning().build(eth.node(), http, config.rpcTimeout()),
                config.ethSigning().chainId());
      } catch (RpcException e) {
        throw new IllegalStateException("cannot reach the remote signer: " + e.getMessage(), e);
      }
      long configured = config.ethSigning().chainId();
      if (configured != 0) {
        // Only nodes of the configured chain take calls, the chain check's included; nodes that
        // all serve another refuse the start.
        eth.expectChainId(configured);
        Map<String, Long> served = eth.chainIds();
        if (!served.isEmpty() && !served.containsValue(configured)) {
          throw new IllegalStateException(
              served.entrySet().stream()
                      .map(
                          n ->
                              "the Ethereum node "
                                  + n.getKey()
                                  + " serves chain id "
                                  + n.getValue())
                      .collect(java.util.stream.Collectors.joining("; "))
                  + "; this consumer signs for chain id "
                  + configured);
        }
      }
      // Once the chain is known, the pool admits no node serving another.
      sender.onChainChecked(eth::expectChainId);
      try {
        // Refuses to run on another chain than configured (IllegalStateException).
        log.info("Ethereum payouts signed for chain id {}", sender.checkChain());
      } catch (RpcException e) {
        // Checked before the first signature instead; meanwhile no node of another chain joins.
        log.warn("cannot ask the Ethereum node its chain id yet: {}", e.getMessage());
      }
      if (!config.ethMultiSend().isEmpty()) {
        sender.withMultiSend(config.ethMultiSend(), config.ethMultiSendMax());
      }
      if (config.ethSendsInFlight() > 1) {
        sends =
            java.util.concurrent.Executors.newFixedThreadPool(
                config.ethSendsInFlight(),
                io.txgw.common.concurrent.Daemons.named("eth-sends-" + config.instanceId()));
        sender.sendingAhead(sends, config.ethSendsInFlight());
      }
      try {
        sender.checkContracts(
            config.intake().assets().tokens(Chain.ETH).stream()
                .map(io.txgw.common.model.AssetRegistry.Token::asset)
                .toList());
      } catch (RpcException e) {
        log.warn("cannot check the Ethereum contracts yet: {}", e.getMessage());
      }
      senders.put(Chain.ETH, sender);
    }
    NodePool btc = routing.pools().get(Chain.BTC);
    if (btc != null) {
      senders.put(
          Chain.BTC,
          config.btcDialect() == TxConsumerConfig.BitcoinDialect.CORE
              ? new BitcoinCoreSender(
                      btc.node(), btc.wallet(), config.btcWallet(), config.btcMaxOutputs())
                  .withFeeCeiling(config.btcMaxFeeRate())
                  .liftingStuck(!config.btcBumpAfter().isZero())
              : new BcoinSender(
                      btc.node(), btc.wallet(), config.btcWallet(), config.btcMaxOutputs())
                  .withFeeCeiling(config.btcMaxFeeRate())
                  .liftingStuck(!config.btcBumpAfter().isZero()));
    }
    KafkaConsumer<String, byte[]> kafkaConsumer = kafkaConsumer();
    keepMetrics(new KafkaClientMetrics(kafkaConsumer));
    processor =
        new PayoutProcessor(
            kafkaConsumer,
            this::kafkaProducer,
            senders,
            new JournalReader(config.kafka()),
            membership == null
                ? AccountGuard.unguarded()
                : AccountGuard.of(new AccountLeases(membership.client())),
            Clock.systemUTC(),
            !config.unjournaledForBenchmark(),
            meters,
            config.intake(),
            Finality.of(senders, config.finality(), Clock.systemUTC(), meters)
                .withBumps(bumpAfter()));
    processor.haltAt(FaultPoint.parse(config.faultHalt()));
    // Payouts resting for a paused chain go on as soon as it is resumed, not up to a rest later.
    routing.onResumed(processor::endRestsSoon);
    if (config.unjournaledForBenchmark()) {
      log.warn(
          "consumer {} broadcasts WITHOUT journaling: a benchmark mode that can pay twice, and"
              + " loses units not mined yet on a crash or a rebalance",
          config.instanceId());
    }
    thread = new Thread(this::runLoop, "payouts-" + config.instanceId());
    thread.start();
    if (membership != null) {
      reporter.scheduleWithFixedDelay(
          () -> membership.update(report(processor.backlog())), 500, 500, TimeUnit.MILLISECONDS);
      // And at once when new shares are in force: a smaller one is handed on only once reported.
      // One extra report pending at most, however many tables arrive meanwhile.
      java.util.concurrent.atomic.AtomicBoolean queued =
          new java.util.concurrent.atomic.AtomicBoolean();
      routing.onSharesApplied(
          () -> {
            if (!queued.compareAndSet(false, true)) {
              return;
            }
            try {
              reporter.execute(
                  () -> {
                    queued.set(false);
                    membership.update(report(processor.backlog()));
                  });
            } catch (java.util.concurrent.RejectedExecutionException e) {
              // Closing: nothing more to report.
            }
          });
    }
    log.info("consumer {} started for {}", config.instanceId(), senders.keySet());
    return this;
  }

  /** Each chain's wait before a stuck transaction is bumped; a chain that never bumps is absent. */
  private Map<Chain, Duration> bumpAfter() {
    Map<Chain, Duration> after = new EnumMap<>(Chain.class);
    if (!config.ethBumpAfter().isZero()) {
      after.put(Chain.ETH, config.ethBumpAfter());
    }
    if (!config.btcBumpAfter().isZero()) {
      after.put(Chain.BTC, config.btcBumpAfter());
    }
    return after;
  }

  private void keepMetrics(KafkaClientMetrics binder) {
    binder.bindTo(meters);
    clientMetrics.add(binder);
  }

  /** Where this consumer's Prometheus metrics are served. */
  public String metricsUrl() {
    return metrics.url();
  }

  /** The nodes named in the environment, used for chains that have none in the registry. */
  private Map<Chain, NodeSpec> environmentNodes() {
    Map<Chain, NodeSpec> nodes = new EnumMap<>(Chain.class);
    if (!config.ethRpcUrl().isEmpty()) {
      nodes.put(
          Chain.ETH,
          new NodeSpec(
              Chain.ETH,
              "eth",
              config.ethRpcUrl(),
              null,
              emptyToNull(config.ethRpcUser()),
              credentials(config.ethRpcPassword(), TxConsumerConfig.ETH_PASSWORD.name()),
              limit(config.ethMaxRps()),
              UNLIMITED_IN_FLIGHT,
              1,
              false));
    }
    if (!config.btcNodeUrl().isEmpty()) {
      nodes.put(
          Chain.BTC,
          new NodeSpec(
              Chain.BTC,
              "btc",
              config.btcNodeUrl(),
              config.btcWalletUrl(),
              emptyToNull(config.btcRpcUser()),
              credentials(config.btcRpcPassword(), TxConsumerConfig.BTC_PASSWORD.name()),
              limit(config.btcMaxRps()),
              UNLIMITED_IN_FLIGHT,
              1,
              false));
    }
    return nodes;
  }

  private static String credentials(Secret secret, String variable) {
    return secret == null || secret.reveal().isEmpty() ? null : "env:" + variable;
  }

  private static double limit(int maxRps) {
    return maxRps == 0 ? UNLIMITED_RPS : maxRps;
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  private KafkaConsumer<String, byte[]> kafkaConsumer() {
    Map<String, Object> props = config.kafka().clientProperties();
    props.put(ConsumerConfig.GROUP_ID_CONFIG, config.group());
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, config.instanceId());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    // Never reset silently: a committed offset the log no longer holds means payouts retention
    // deleted before they were paid. The loop starts a partition never committed at its start.
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
    // A grown sendto is seen within 30 s, well inside the time a record that looks misplaced by a
    // stale partition count may wait (RecordIntake.MISPLACED_LIMIT).
    props.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, 30_000);
    props.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 120_000);
    // A dead consumer's partitions move after this long; the journal makes the move safe.
    props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6_000);
    props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_500);
    return new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
  }

  /**
   * A new transactional producer, its metrics in place of its predecessor's: a producer left
   * unusable is replaced (PayoutProcessor), and two with one client id would share meters.
   */
  private KafkaProducer<String, Object> kafkaProducer() {
    KafkaProducer<String, Object> producer = newKafkaProducer();
    if (producerMetrics != null) {
      producerMetrics.close();
      clientMetrics.remove(producerMetrics);
    }
    producerMetrics = new KafkaClientMetrics(producer);
    keepMetrics(producerMetrics);
    return producer;
  }

  private KafkaProducer<String, Object> newKafkaProducer() {
    Map<String, Object> props = config.kafka().clientProperties();
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "txgw-" + config.instanceId());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    props.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 10);
    // A consumer frozen inside a transaction keeps the journal's next owner waiting this long at
    // most (see JournalReader); a round commits well within it.
    props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 10_000);
    props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.MAX_MESSAGE_BYTES);
    return new KafkaProducer<>(
        props, new StringSerializer(), new JsonSerde<>(Object.class).serializer());
  }

  /** What this consumer tells the others through ZooKeeper, the budget leader among them. */
  private String report(long backlog) {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      host = "unknown";
    }
    MemberReport report =
        new MemberReport(
            host,
            ProcessHandle.current().pid(),
            config.group(),
            backlog,
            routing == null ? Map.of() : routing.usage());
    try {
      return Json.mapper().writeValueAsString(report);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** True once the loop has ended by itself, on a fatal error: a supervisor restarts it. */
  public boolean hasStopped() {
    return thread != null && !thread.isAlive() && !closing.get();
  }

  /** Blocks until the loop ends (on {@link #close()} or a fatal error). */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    thread.join(timeout.toMillis());
    return !thread.isAlive();
  }

  /** True while this consumer sees the chain paused by an operator. */
  public boolean paused(Chain chain) {
    return routing != null && routing.paused(chain);
  }

  /** The node pools, by chain, for operators' views and tests. */
  public Map<Chain, NodePool> pools() {
    return routing == null ? Map.of() : routing.pools();
  }

  /**
   * The loop, and what follows when it ends by itself (a fatal error: fenced, refused, offsets
   * gone): the consumer leaves the group and ZooKeeper at once, so that the others take its
   * partitions, accounts and budget shares now, rather than when its process exits, if ever. Its
   * round's sends have all had their answers by then, and what it journaled the next owner reads.
   */
  private void runLoop() {
    try {
      processor.run();
    } finally {
      if (!closing.get()) {
        log.error(
            "consumer {} has stopped: leaving its group and ZooKeeper; restart it to take part"
                + " again",
            config.instanceId());
      }
      // On this thread alone while it runs: no lease is let go under a round still sending.
      release();
    }
  }

  @Override
  public void close() {
    closing.set(true);
    reporter.shutdownNow();
    if (processor != null) {
      processor.stop();
    }
    if (thread == null || thread == Thread.currentThread()) {
      release();
      return;
    }
    try {
      thread.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (thread.isAlive()) {
      // A round still sending keeps its leases: the loop thread lets go once the round ends.
      log.warn(
          "consumer {} still ends its round; it leaves when that is over", config.instanceId());
    } else {
      release(); // done already by the loop thread, unless it never ran
    }
  }

  /**
   * Closes the clients, the node routing and the membership, once. Each step is tried whatever the
   * others did, and the membership (the ZooKeeper session holding the account leases) last, always.
   */
  private void release() {
    if (!released.compareAndSet(false, true)) {
      return;
    }
    try {
      reporter.shutdownNow();
      quietly(
          "Kafka clients",
          () -> {
            if (processor != null) {
              processor.closeClients();
            }
          });
      if (sends != null) {
        // After the loop: a round's sends all have their answers before it ends.
        sends.shutdownNow();
      }
      quietly("client metrics", () -> clientMetrics.forEach(KafkaClientMetrics::close));
      quietly(
          "metrics",
          () -> {
            if (metrics != null) {
              metrics.close();
            }
          });
      quietly(
          "node routing",
          () -> {
            if (routing != null) {
              routing.close();
            }
          });
      quietly("node clients", () -> JsonRpcClient.shutdown(http));
    } finally {
      if (membership != null) {
        membership.close();
      }
    }
  }

  private void quietly(String what, Runnable step) {
    try {
      step.run();
    } catch (RuntimeException e) {
      log.warn("closing the {} of consumer {} failed: {}", what, config.instanceId(), e.toString());
    }
  }
}
