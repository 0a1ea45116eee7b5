package io.txgw.deploy;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.config.Secret;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.model.Chain;
import io.txgw.consumer.TxConsumer;
import io.txgw.consumer.TxConsumerConfig;
import io.txgw.coordinator.zk.ZkClients;
import io.txgw.deploy.infra.ClientKeys;
import io.txgw.deploy.infra.EmbeddedKafka;
import io.txgw.deploy.infra.EmbeddedZooKeeper;
import io.txgw.deploy.infra.GatewayProcess;
import io.txgw.deploy.infra.KafkaCluster;
import io.txgw.deploy.infra.KafkaService;
import io.txgw.deploy.infra.ScramKafka;
import io.txgw.deploy.infra.ScrapeConfig;
import io.txgw.deploy.infra.TcpProxy;
import io.txgw.deploy.infra.TempDirs;
import io.txgw.deploy.infra.TrustFiles;
import io.txgw.deploy.infra.ZooKeeperEnsemble;
import io.txgw.deploy.infra.ZooKeeperService;
import io.txgw.deploy.nodes.AnvilNode;
import io.txgw.deploy.nodes.BcoinNode;
import io.txgw.deploy.nodes.NodePackages;
import io.txgw.deploy.nodes.RegtestMiner;
import io.txgw.gateway.Gateway;
import io.txgw.gateway.GatewayConfig;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.retry.RetryOneTime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole system on loopback: a KRaft broker, a ZooKeeper server, anvil, a funded bcoin regtest
 * node with a miner, the gateway and consumers. Everything it started is stopped on close, in
 * reverse order.
 */
public final class LocalStack implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(LocalStack.class);

  /** The client the stack's API key belongs to. */
  public static final String CLIENT = "demo";

  /** A second client, to show that clients cannot see each other's batches. */
  public static final String OTHER_CLIENT = "other";

  /**
   * A client whose batches above {@link #TREASURY_APPROVE_ABOVE} ETH wait for a second person: its
   * payroll office posts, its treasurer approves.
   */
  public static final String TREASURY = "treasury";

  public static final String TREASURY_APPROVE_ABOVE = "1";

  /**
   * Sizes of the stack.
   *
   * @param bcoinNodes 1 for a lone node; more are peered on loopback and share one wallet
   * @param ethLimits anvil's limits in the node registry; null leaves it out of the registry, and
   *     consumers call it unbudgeted from their environment
   * @param btcLimits each bcoin node's limits, likewise
   */
  public record Options(
      int consumers,
      int anvilBlockTimeSeconds,
      int fundingBlocks,
      Duration mineEvery,
      int bcoinNodes,
      NodeLimits ethLimits,
      NodeLimits btcLimits,
      boolean ethMultiSend,
      boolean cluster) {
    public Options(
        int consumers,
        int anvilBlockTimeSeconds,
        int fundingBlocks,
        Duration mineEvery,
        int bcoinNodes,
        NodeLimits ethLimits,
        NodeLimits btcLimits,
        boolean ethMultiSend) {
      this(
          consumers,
          anvilBlockTimeSeconds,
          fundingBlocks,
          mineEvery,
          bcoinNodes,
          ethLimits,
          btcLimits,
          ethMultiSend,
          false);
    }

    public Options(
        int consumers,
        int anvilBlockTimeSeconds,
        int fundingBlocks,
        Duration mineEvery,
        int bcoinNodes,
        NodeLimits ethLimits,
        NodeLimits btcLimits) {
      this(
          consumers,
          anvilBlockTimeSeconds,
          fundingBlocks,
          mineEvery,
          bcoinNodes,
          ethLimits,
          btcLimits,
          false);
    }

    /**
     * Consumers pack Ethereum payouts of one account and asset into calls of the multi-send
     * contract (up to {@link #MULTISEND_MAX} each).
     */
    public Options withMultiSend() {
      return new Options(
          consumers,
          anvilBlockTimeSeconds,
          fundingBlocks,
          mineEvery,
          bcoinNodes,
          ethLimits,
          btcLimits,
          true,
          cluster);
    }

    /**
     * The local cluster: three Kafka nodes (topics replicated three ways, two in sync), a
     * three-server ZooKeeper ensemble, two gateways (the second in a JVM of its own), three
     * consumers (the third reaching Kafka and ZooKeeper through proxies that can be cut), anvil and
     * three peered bcoin nodes.
     */
    public static Options localCluster() {
      return new Options(3, 0, 400, Duration.ofMillis(500), 3, GENEROUS, GENEROUS, false, true);
    }

    /** Generous: far above what one consumer asks of these nodes, so only a failure throttles. */
    public static final NodeLimits GENEROUS = new NodeLimits(5_000, 64);

    public Options(
        int consumers, int anvilBlockTimeSeconds, int fundingBlocks, Duration mineEvery) {
      this(consumers, anvilBlockTimeSeconds, fundingBlocks, mineEvery, 1, GENEROUS, GENEROUS);
    }

    public static Options defaults() {
      return new Options(1, 0, 400, Duration.ofMillis(500));
    }

    public Options withBcoinNodes(int n) {
      return new Options(
          consumers,
          anvilBlockTimeSeconds,
          fundingBlocks,
          mineEvery,
          n,
          ethLimits,
          btcLimits,
          ethMultiSend,
          cluster);
    }

    public Options withLimits(NodeLimits eth, NodeLimits btc) {
      return new Options(
          consumers,
          anvilBlockTimeSeconds,
          fundingBlocks,
          mineEvery,
          bcoinNodes,
          eth,
          btc,
          ethMultiSend,
          cluster);
    }
  }

  /** What a node bears from all consumers together. */
  public record NodeLimits(double maxRequestsPerSecond, int maxInFlight) {}

  private final Deque<Closeable> started = new ArrayDeque<>();
  private final Map<String, TxConsumer> consumers = new HashMap<>();

  /** What each consumer's environment differs by from the stack's, for its restarts. */
  private final Map<String, Map<String, String>> consumerOverrides = new HashMap<>();

  private final Path workDir;
  private final ClientKeys keys = ClientKeys.random();

  /** The stack's ZooKeeper identity: every process it starts authenticates as it. */
  private final Secret zkAuth;

  private KafkaService kafka;
  private ZooKeeperService zooKeeper;

  /** The cluster's second gateway, in a JVM of its own so that it can be killed; null otherwise. */
  private GatewayProcess secondGateway;

  /** Proxies in front of each ZooKeeper server, for the consumer that can be cut off. */
  private final List<TcpProxy> zkProxies = new ArrayList<>();

  private AnvilNode anvil;
  private final List<BcoinNode> bcoins = new CopyOnWriteArrayList<>();
  private Options options;
  private NodePackages packages;
  private CuratorFramework zk;
  private Gateway gateway;
  private boolean kafkaScram;
  private String ethSource;

  /** The test token (TUSD, 6 decimals) and the multi-send contract, deployed at start. */
  private String token;

  private String multiSend;

  /** Payouts per multi-send call when the stack's consumers use it. */
  public static final int MULTISEND_MAX = 100;

  /** The most of the test token one payout may pay here. */
  public static final String TOKEN_MAX_PAYOUT = "1000000";

  private List<String> ethAccounts = List.of();
  private TrustFiles trust;

  private LocalStack(Path workDir) {
    this.workDir = workDir;
    this.zkAuth = new Secret("txgw:" + ClientKeys.random24().reveal());
  }

  public static LocalStack start(Options options) throws InterruptedException {
    return start(options, false);
  }

  /**
   * As {@link #start}, with Kafka taking SCRAM logins only and authorizing by {@link
   * io.txgw.common.kafka.KafkaAcls}: the gateway and the consumers connect as their principals.
   */
  public static LocalStack startWithKafkaScram(Options options) throws InterruptedException {
    return start(options, true);
  }

  private static LocalStack start(Options options, boolean kafkaScram) throws InterruptedException {
    Path workDir;
    try {
      workDir = Files.createTempDirectory("txgw-stack-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    LocalStack stack = new LocalStack(workDir);
    stack.kafkaScram = kafkaScram;
    try {
      stack.startAll(options);
      return stack;
    } catch (RuntimeException | Error | InterruptedException e) {
      stack.close();
      throw e;
    }
  }

  private void startAll(Options options) throws InterruptedException {
    long t0 = System.nanoTime();
    this.options = options;
    packages = NodePackages.locate().ensureInstalled();
    // Kafka and ZooKeeper on one thread, the chain nodes with their funds and contracts on
    // another: neither needs the other, and each mostly waits on processes of its own.
    ExecutorService starting = Executors.newFixedThreadPool(2, r -> new Thread(r, "stack-start"));
    try {
      Future<?> messaging =
          starting.submit(
              () -> {
                startMessaging(options);
                return null;
              });
      Future<?> chains =
          starting.submit(
              () -> {
                startChains(options);
                return null;
              });
      awaitAll(List.of(messaging, chains));
    } finally {
      starting.shutdownNow();
    }
    try {
      register();
    } catch (Exception e) {
      throw new IllegalStateException("cannot register the nodes: " + e.getMessage(), e);
    }
    trust = writeTrust();
    gateway = keep(new Gateway(GatewayConfig.fromEnv(gatewayEnv())).start());
    if (options.cluster()) {
      // The second gateway's JVM starts while the consumers do here.
      ExecutorService second =
          Executors.newSingleThreadExecutor(r -> new Thread(r, "stack-start-gateway-2"));
      try {
        Future<?> started =
            second.submit(
                () -> {
                  startSecondGateway();
                  return null;
                });
        for (int i = 1; i < options.consumers(); i++) {
          startConsumer("consumer-" + i);
        }
        startConsumer("consumer-" + options.consumers(), cuttableConsumerEnv());
        awaitAll(List.of(started));
      } finally {
        second.shutdownNow();
      }
    } else {
      for (int i = 1; i <= options.consumers(); i++) {
        startConsumer("consumer-" + i);
      }
    }
    log.info(
        "local stack up in {} ms: gateway {}, kafka {}, zookeeper {}, anvil {}, bcoin {}",
        (System.nanoTime() - t0) / 1_000_000,
        gatewayUrl(),
        kafka.bootstrapServers(),
        zooKeeper.connectString(),
        anvil.rpcUrl(),
        bcoins.stream().map(BcoinNode::nodeUrl).toList());
  }

  /** ZooKeeper with the stack's client on it, and Kafka. */
  private void startMessaging(Options options) throws InterruptedException {
    zooKeeper =
        keep(
            options.cluster()
                ? new ZooKeeperEnsemble(createDirectory("zookeeper"), 3)
                : new EmbeddedZooKeeper(workDir.resolve("zookeeper")));
    writeZkAuthFile();
    zk = zkClients().newClient(60_000, 15_000, new RetryOneTime(200));
    keep(zk::close);
    zk.start();
    kafka =
        keep(
            kafkaScram
                // Topics as the gateway would create them: its default partition count.
                ? ScramKafka.start(workDir.resolve("kafka"), 6)
                : options.cluster()
                    ? new KafkaCluster(createDirectory("kafka"), 3)
                    : new EmbeddedKafka(workDir.resolve("kafka")));
  }

  /** anvil with the test token and the multi-send contract; bcoin funded, with its miner. */
  private void startChains(Options options) throws InterruptedException {
    anvil = keep(AnvilNode.start(packages, workDir, options.anvilBlockTimeSeconds()));
    startBcoins(options.bcoinNodes());
    BcoinNode bcoin = bcoins.get(0);
    try {
      bcoin.fundWallet(options.fundingBlocks());
      // The gateway keys accounts by their EIP-55 form; anvil lists them in lower case.
      ethSource =
          new AddressCodec(BitcoinNetwork.BCOIN_REGTEST)
              .decode(Chain.ETH, anvil.accounts().get(0))
              .address()
              .value();
      keep(new RegtestMiner(() -> bcoins, bcoin.newWalletAddress(), options.mineEvery()));
      deployContracts();
      ethAccounts = List.copyOf(anvil.accounts());
    } catch (io.txgw.consumer.rpc.RpcException e) {
      throw new IllegalStateException("cannot prepare the nodes: " + e.getMessage(), e);
    } catch (InterruptedException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("cannot prepare the nodes: " + e.getMessage(), e);
    }
  }

  /** Each client's rights: every anvil account's coin and token, and the bcoin wallet. */
  private TrustFiles writeTrust() {
    List<String> rights = new ArrayList<>();
    for (String account : ethAccounts) {
      rights.add("ETH:" + account);
      // Tokens need a right of their own: the right to an account's coin is none to its tokens.
      rights.add("ETH:" + account + ":" + TOKEN_SYMBOL);
    }
    rights.add("BTC:" + BcoinNode.WALLET);
    return TrustFiles.createPolicies(
        workDir.resolve("trust"),
        Map.of(
            CLIENT,
            Map.of("spend", rights),
            OTHER_CLIENT,
            Map.of("spend", rights),
            TREASURY,
            Map.of("spend", rights, "approveAbove", Map.of("ETH", TREASURY_APPROVE_ABOVE))));
  }

  /**
   * Waits for every part started beside another, all of them even when one fails, so that close
   * finds everything they started; then throws the first failure.
   */
  private static void awaitAll(List<Future<?>> parts) throws InterruptedException {
    Throwable first = null;
    for (Future<?> part : parts) {
      try {
        part.get();
      } catch (ExecutionException e) {
        if (first == null) {
          first = e.getCause();
        }
      }
    }
    if (first instanceof InterruptedException e) {
      throw e;
    }
    if (first instanceof RuntimeException e) {
      throw e;
    }
    if (first instanceof Error e) {
      throw e;
    }
    if (first != null) {
      throw new IllegalStateException(first.getMessage(), first);
    }
  }

  private Path createDirectory(String name) {
    try {
      return Files.createDirectories(workDir.resolve(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The cluster's second gateway, in a JVM of its own, with an id and state of its own. */
  private void startSecondGateway() throws InterruptedException {
    Map<String, String> env = gatewayEnv();
    env.put("TXGW_GATEWAY_ID", "gateway-2");
    env.put("TXGW_STATE_DIR", workDir.resolve("gateway-2-state").toString());
    secondGateway =
        keep(
            GatewayProcess.start(
                "gateway-2", env, List.of("-Xmx384m", "-XX:+UseSerialGC"), workDir));
  }

  /** Starts the cluster's second gateway again after {@link GatewayProcess#kill}. */
  public GatewayProcess restartSecondGateway() throws InterruptedException {
    started.remove(secondGateway);
    secondGateway.close();
    startSecondGateway();
    return secondGateway;
  }

  /** The cluster's second gateway; it and {@link #gatewayUrl} take the same batches. */
  public GatewayProcess secondGateway() {
    if (secondGateway == null) {
      throw new IllegalStateException("a second gateway runs in the local cluster only");
    }
    return secondGateway;
  }

  /** The Kafka cluster of the local cluster. */
  public KafkaCluster kafkaCluster() {
    if (kafka instanceof KafkaCluster cluster) {
      return cluster;
    }
    throw new IllegalStateException("this stack runs one Kafka broker");
  }

  /** The ZooKeeper ensemble of the local cluster. */
  public ZooKeeperEnsemble zooKeeperEnsemble() {
    if (zooKeeper instanceof ZooKeeperEnsemble ensemble) {
      return ensemble;
    }
    throw new IllegalStateException("this stack runs one ZooKeeper server");
  }

  /**
   * What a consumer that can be cut off runs with instead of the stack's addresses: every Kafka
   * node and ZooKeeper server through a proxy of its own.
   */
  public Map<String, String> cuttableConsumerEnv() {
    ZooKeeperEnsemble ensemble = zooKeeperEnsemble();
    synchronized (zkProxies) {
      if (zkProxies.isEmpty()) {
        for (int i = 0; i < ensemble.size(); i++) {
          zkProxies.add(keep(new TcpProxy("zookeeper-" + (i + 1), 0, ensemble.clientPort(i))));
        }
      }
    }
    java.util.StringJoiner zk = new java.util.StringJoiner(",");
    zkProxies.forEach(p -> zk.add("127.0.0.1:" + p.port()));
    return Map.of(
        "TXGW_KAFKA_BOOTSTRAP",
        kafkaCluster().cuttableBootstrapServers(),
        "TXGW_ZOOKEEPER",
        zk.toString());
  }

  /** Cuts the consumers started with {@link #cuttableConsumerEnv} off Kafka and ZooKeeper. */
  public void cutOffProxiedConsumers() {
    kafkaCluster().cutProxiedClients();
    zkProxies.forEach(TcpProxy::cut);
  }

  /** Lets the consumers started with {@link #cuttableConsumerEnv} reach Kafka and ZooKeeper. */
  public void reconnectProxiedConsumers() {
    zkProxies.forEach(TcpProxy::restore);
    kafkaCluster().restoreProxiedClients();
  }

  /**
   * The test token, its whole supply held by the ETH source, and the multi-send contract, which the
   * source approves for the token: what an operator deploys with {@code deploy/txgw-contracts}.
   */
  private void deployContracts() throws Exception {
    io.txgw.deploy.contracts.ContractDeployer deployer =
        io.txgw.deploy.contracts.ContractDeployer.of(
            Map.of("TXGW_ETH_RPC_URL", anvil.rpcUrl()), ethSource);
    token = deployer.deployTestToken(java.math.BigInteger.valueOf(1_000_000_000L));
    multiSend = deployer.deployMultiSend();
    deployer.approve(token, multiSend);
  }

  /** The test token's contract (TUSD, 6 decimals), its supply held by {@link #ethSource()}. */
  public String token() {
    return token;
  }

  /** The multi-send contract's address. */
  public String multiSend() {
    return multiSend;
  }

  /** {@code TXGW_ASSETS} of this stack's gateways and consumers. */
  private String assets() {
    return "ETH:" + TOKEN_SYMBOL + "=" + token + ":6:" + TOKEN_MAX_PAYOUT;
  }

  public static final String TOKEN_SYMBOL = "TUSD";

  private void startBcoins(int n) throws InterruptedException {
    if (n == 1) {
      bcoins.add(keep(BcoinNode.start(packages, workDir)));
      return;
    }
    BcoinNode first =
        keep(
            BcoinNode.start(
                packages, workDir, BcoinNode.Spec.peered("bcoin-1", List.of(), null), true));
    bcoins.add(first);
    List<Integer> peers = new ArrayList<>(List.of(first.spec().p2pPort()));
    for (int i = 2; i <= n; i++) {
      BcoinNode next =
          keep(
              BcoinNode.start(
                  packages,
                  workDir,
                  BcoinNode.Spec.peered("bcoin-" + i, peers, first.walletMaster()),
                  true));
      bcoins.add(next);
      peers.add(next.spec().p2pPort());
    }
  }

  /** Puts the nodes in the registry, where the consumers find them and their limits. */
  private void register() throws Exception {
    if (options.ethLimits() != null) {
      registerAnvil(anvil.rpcUrl(), options.ethLimits());
    }
    if (options.btcLimits() != null) {
      NodeRegistration.bcoins(zk, bcoins, options.btcLimits());
    }
  }

  /**
   * Registers anvil as the ETH node {@code anvil} at {@code url} (anvil's own, or a proxy in front
   * of it) with these limits. Consumers started afterwards use it.
   */
  public void registerAnvil(String url, NodeLimits limits) throws Exception {
    NodeRegistration.anvil(zk, url, limits);
  }

  /** Kills a bcoin node as a crash would (SIGKILL); its peers go on. */
  public void killBcoin(String name) {
    BcoinNode node = bcoinNamed(name);
    bcoins.remove(node);
    started.remove(node);
    node.kill();
  }

  /**
   * Stops a bcoin node as an operator would (SIGTERM: it closes its chain and wallet databases);
   * its peers go on. {@link #restartBcoin} starts it again where it stopped.
   */
  public void stopBcoin(String name) {
    BcoinNode node = bcoinNamed(name);
    bcoins.remove(node);
    started.remove(node);
    node.close();
  }

  /**
   * Starts a killed bcoin node again on its old ports, peered with the live ones, and waits until
   * it has resynced the chain and its wallet has scanned it.
   */
  public BcoinNode restartBcoin(BcoinNode.Spec spec) throws InterruptedException {
    return restartBcoin(spec, true);
  }

  /**
   * As {@link #restartBcoin(BcoinNode.Spec)}; without {@code awaitSync} it returns once the node
   * answers, and resyncs by itself (a node behind stays out of the consumers' rotation meanwhile).
   */
  public BcoinNode restartBcoin(BcoinNode.Spec spec, boolean awaitSync)
      throws InterruptedException {
    long best = 0;
    List<Integer> peers = new ArrayList<>();
    for (BcoinNode b : bcoins) {
      try {
        best = Math.max(best, b.blockCount());
      } catch (io.txgw.consumer.rpc.RpcException e) {
        continue;
      }
      peers.add(b.spec().p2pPort());
    }
    BcoinNode.Spec again =
        new BcoinNode.Spec(
            spec.name(),
            spec.httpPort(),
            spec.walletPort(),
            spec.p2pPort(),
            peers,
            spec.apiKey(),
            bcoins.get(0).walletMaster());
    BcoinNode node = keep(BcoinNode.start(packages, workDir, again, false));
    // Seconds as a rule. A sync stopped for over a minute once in a suite run; the likely cause is
    // a block asked of a peer that never sent it, which bcoin waits two minutes for before it drops
    // the peer (Peer.BLOCK_TIMEOUT in its net/peer.js). A failure names the height and the peers.
    if (awaitSync) {
      node.catchUp(best, Duration.ofSeconds(150));
    }
    bcoins.add(node);
    return node;
  }

  private BcoinNode bcoinNamed(String name) {
    return bcoins.stream()
        .filter(b -> b.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no live bcoin node " + name));
  }

  public List<BcoinNode> bcoins() {
    return List.copyOf(bcoins);
  }

  /** A ZooKeeper client of the stack's own, for registry and control changes. */
  public CuratorFramework zk() {
    return zk;
  }

  /** Starts one more consumer in this JVM with the given stable id. */
  public TxConsumer startConsumer(String id) throws InterruptedException {
    return startConsumer(id, Map.of());
  }

  /** Starts a consumer whose environment differs from the stack's by {@code overrides}. */
  public TxConsumer startConsumer(String id, Map<String, String> overrides)
      throws InterruptedException {
    return startConsumersAtOnce(List.of(id), overrides).get(0);
  }

  /**
   * Starts consumers of these ids at the same moment, as separate boxes would, each with the
   * stack's environment changed by {@code overrides}: started one after the other, the first would
   * take every partition and the group would form again when the next joins. When any fails to
   * start, those that started are closed and the failure is thrown.
   */
  public List<TxConsumer> startConsumersAtOnce(List<String> ids, Map<String, String> overrides)
      throws InterruptedException {
    // Not daemons: a consumer's loop thread is made like the thread that starts it.
    java.util.concurrent.ExecutorService starter =
        java.util.concurrent.Executors.newFixedThreadPool(ids.size());
    List<java.util.concurrent.Future<TxConsumer>> starting = new ArrayList<>();
    List<TxConsumer> up = new ArrayList<>();
    try {
      for (String id : ids) {
        Map<String, String> env = consumerEnv(id);
        env.putAll(overrides);
        TxConsumerConfig config = TxConsumerConfig.fromEnv(env);
        starting.add(starter.submit(() -> new TxConsumer(config, env).start()));
      }
      java.util.concurrent.ExecutionException failure = null;
      for (java.util.concurrent.Future<TxConsumer> f : starting) {
        try {
          up.add(f.get());
        } catch (java.util.concurrent.ExecutionException e) {
          failure = failure == null ? e : failure;
        }
      }
      if (failure != null) {
        // Its own refusal, as a consumer started alone gives it ("serves chain id ...").
        if (failure.getCause() instanceof RuntimeException refused) {
          throw refused;
        }
        throw new IllegalStateException("a consumer did not start", failure.getCause());
      }
    } catch (InterruptedException | RuntimeException e) {
      // Every start ends by itself (its waits are bounded); each that got up is closed, so none
      // is left running. An interrupt meanwhile is kept for the caller.
      boolean interrupted = false;
      for (java.util.concurrent.Future<TxConsumer> f : starting) {
        while (true) {
          try {
            f.get().close();
            break;
          } catch (InterruptedException again) {
            interrupted = true;
          } catch (java.util.concurrent.ExecutionException failed) {
            break;
          } catch (RuntimeException closing) {
            e.addSuppressed(closing);
            break;
          }
        }
      }
      if (interrupted && !(e instanceof InterruptedException)) {
        Thread.currentThread().interrupt();
      }
      throw e;
    } finally {
      starter.shutdown();
    }
    for (int i = 0; i < ids.size(); i++) {
      consumers.put(ids.get(i), keep(up.get(i)));
      consumerOverrides.put(ids.get(i), Map.copyOf(overrides));
    }
    writeScrapeConfig();
    return up;
  }

  /** The in-process consumer of that id. */
  public TxConsumer consumer(String id) {
    TxConsumer consumer = consumers.get(id);
    if (consumer == null) {
      throw new IllegalArgumentException("no consumer " + id + " in this stack");
    }
    return consumer;
  }

  /** Stops the in-process consumer of that id. */
  public void stopConsumer(String id) {
    TxConsumer old = consumers.remove(id);
    if (old != null) {
      started.remove(old);
      old.close();
      writeScrapeConfig();
    }
  }

  /**
   * Stops the in-process consumer of that id and starts a new one in its place, with the
   * environment it was started with.
   */
  public TxConsumer restartConsumer(String id) throws InterruptedException {
    TxConsumer old = consumers.remove(id);
    if (old != null) {
      started.remove(old);
      old.close();
    }
    return startConsumer(id, consumerOverrides.getOrDefault(id, Map.of()));
  }

  /**
   * Does what a supervisor does for consumers whose loop ended on a fatal error (a fenced producer,
   * say): starts each again. Returns their ids.
   */
  public List<String> restartStoppedConsumers() throws InterruptedException {
    List<String> stopped =
        consumers.entrySet().stream()
            .filter(e -> e.getValue().hasStopped())
            .map(Map.Entry::getKey)
            .sorted()
            .toList();
    for (String id : stopped) {
      log.warn("consumer {} had stopped; starting it again", id);
      restartConsumer(id);
    }
    return stopped;
  }

  private Map<String, String> gatewayEnv() {
    Map<String, String> env = new HashMap<>();
    env.put("TXGW_HTTP_PORT", "0");
    env.put("TXGW_ADMIN_PORT", "0");
    // Tests and the demo post as fast as they can: the rate limit is tested on its own.
    env.put("TXGW_RATE_LIMIT", "0");
    env.putAll(trust.env());
    env.putAll(kafka.clientEnv(ScramKafka.GATEWAY));
    env.put("TXGW_API_KEYS", keys.apiKeysSetting(CLIENT, OTHER_CLIENT, TREASURY));
    env.put("TXGW_BTC_NETWORK", "BCOIN_REGTEST");
    env.put("TXGW_ASSETS", assets());
    env.put("TXGW_STATE_DIR", workDir.resolve("gateway-state").toString());
    env.put("TXGW_ZOOKEEPER", zooKeeper.connectString());
    env.put(ZkClients.AUTH.name(), zkAuth.reveal());
    return env;
  }

  /**
   * Stops the gateway and starts it again with the same id and state directory, as an operator's
   * restart would; returns once the new one has caught up.
   */
  public void restartGateway() throws InterruptedException {
    started.remove(gateway);
    gateway.close();
    gateway = keep(new Gateway(GatewayConfig.fromEnv(gatewayEnv())).start());
  }

  /**
   * Starts another gateway on this stack, stopped with it; {@code overrides} change or add to the
   * stack gateway's environment (give it another {@code TXGW_GATEWAY_ID}).
   */
  public Gateway startGateway(Map<String, String> overrides) throws InterruptedException {
    Map<String, String> env = gatewayEnv();
    env.putAll(overrides);
    return keep(new Gateway(GatewayConfig.fromEnv(env)).start());
  }

  /** Stops a gateway {@link #startGateway} started, before the stack stops. */
  public void stopGateway(Gateway other) {
    started.remove(other);
    other.close();
  }

  /** The environment a consumer of this stack runs with (secrets included: keep it private). */
  public Map<String, String> consumerEnv(String id) {
    Map<String, String> env = new HashMap<>(kafka.clientEnv(ScramKafka.CONSUMER));
    env.put("TXGW_CONSUMER_ID", id);
    env.put("TXGW_ZOOKEEPER", zooKeeper.connectString());
    env.putAll(trust.env());
    env.put("TXGW_BTC_NETWORK", "BCOIN_REGTEST");
    env.put(ZkClients.AUTH.name(), zkAuth.reveal());
    env.put("TXGW_ETH_RPC_URL", anvil.rpcUrl());
    env.put("TXGW_ASSETS", assets());
    if (options.ethMultiSend()) {
      env.put("TXGW_ETH_MULTISEND", multiSend);
      env.put("TXGW_ETH_MULTISEND_MAX", Integer.toString(MULTISEND_MAX));
    }
    BcoinNode bcoin = bcoins.get(0);
    env.put("TXGW_BTC_RPC_URL", bcoin.nodeUrl());
    env.put("TXGW_BTC_WALLET_RPC_URL", bcoin.walletUrl());
    env.put("TXGW_BTC_RPC_PASSWORD", bcoin.apiKey().reveal());
    for (BcoinNode b : bcoins) {
      env.put(NodeRegistration.keyVariable(b), b.apiKey().reveal());
    }
    env.put("TXGW_BTC_WALLET", BcoinNode.WALLET);
    // Small depths: anvil mines a block every 2 s at least, the miner a bcoin block every 0.5 s.
    env.put("TXGW_ETH_CONFIRMATIONS", Integer.toString(CONFIRMATIONS));
    env.put("TXGW_BTC_CONFIRMATIONS", Integer.toString(CONFIRMATIONS));
    env.put("TXGW_FOLLOW_INTERVAL_MS", "200");
    // anvil mines a block per transaction: a batch makes hundreds of blocks a second, and a
    // window longer than a read interval's worth keeps every payout's block in view.
    env.put("TXGW_ETH_REORG_WINDOW", "512");
    env.put("TXGW_BTC_REORG_WINDOW", "64");
    env.put("TXGW_ETH_LOOKUP_AFTER_S", "10");
    // Every consumer here runs this version: a stuck Ethereum transaction is replaced after a
    // minute, a stuck Bitcoin one lifted by a child.
    env.put("TXGW_ETH_BUMP_AFTER_S", "60");
    env.put("TXGW_BTC_BUMP_AFTER_S", "60");
    env.put("TXGW_BTC_LOOKUP_AFTER_S", "10");
    return env;
  }

  /** Blocks on top of a payout's block (its own included) before the local stack says CONFIRMED. */
  public static final int CONFIRMATIONS = 2;

  /** Parts start on two threads at once (see {@link #startAll}), so this shares close's lock. */
  private synchronized <T extends Closeable> T keep(T part) {
    started.push(part);
    return part;
  }

  /**
   * Writes {@code prometheus.yml} into the work directory: a scrape config for this stack's gateway
   * and in-process consumers, with the repository's alert rules.
   */
  private void writeScrapeConfig() {
    if (gateway == null) {
      return;
    }
    try {
      ScrapeConfig.write(
          scrapeConfig(),
          gateway.adminPort(),
          consumers.values().stream()
              .map(c -> java.net.URI.create(c.metricsUrl()).getAuthority())
              .toList());
    } catch (IOException e) {
      log.warn("scrape config not written: {}", e.toString());
    }
  }

  /** The Prometheus scrape config for this stack, kept in its work directory. */
  public Path scrapeConfig() {
    return workDir.resolve("prometheus.yml");
  }

  public String gatewayUrl() {
    return "http://127.0.0.1:" + gateway.port();
  }

  /** Where the gateway serves /metrics, /healthz and /readyz. */
  public String gatewayAdminUrl() {
    return "http://127.0.0.1:" + gateway.adminPort();
  }

  /** The record keys and clients file this stack's gateways and consumers share. */
  public TrustFiles trust() {
    return trust;
  }

  public Secret apiKey() {
    return keys.demo();
  }

  public Secret otherApiKey() {
    return keys.other();
  }

  /** The treasury client's payroll office: posts batches, which above the threshold are held. */
  public Secret treasuryPayerKey() {
    return keys.treasuryPayer();
  }

  /** The treasury client's treasurer: approves or rejects what the payroll office posted. */
  public Secret treasuryApproverKey() {
    return keys.treasuryApprover();
  }

  public String kafkaBootstrap() {
    return kafka.bootstrapServers();
  }

  /** How {@code user} (a {@link ScramKafka} principal) connects to the stack's Kafka. */
  public KafkaConnection kafkaConnection(String user) {
    return kafka.connection(user);
  }

  public String zooKeeperConnect() {
    return zooKeeper.connectString();
  }

  /** Clients of the stack's ZooKeeper with its identity, whose znodes only it can touch. */
  public ZkClients zkClients() {
    return ZkClients.authenticated(zooKeeper.connectString(), zkAuth, List.of());
  }

  /**
   * The file holding the stack's ZooKeeper identity, readable by this user only: for {@code txgw
   * --zk-auth-file} and for child processes as {@code TXGW_ZK_AUTH_FILE}.
   */
  public Path zkAuthFile() {
    return workDir.resolve("zk-auth");
  }

  /** The arguments that point the {@code txgw} command line at the stack's ZooKeeper. */
  public List<String> zkCliArgs() {
    return List.of("-z", zooKeeperConnect(), "--zk-auth-file", zkAuthFile().toString());
  }

  private void writeZkAuthFile() {
    try {
      Path file =
          Files.createFile(
              zkAuthFile(),
              java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                  java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
      Files.writeString(file, zkAuth.reveal());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the ZooKeeper identity file", e);
    }
  }

  public AnvilNode anvil() {
    return anvil;
  }

  /** The first bcoin node: the only one unless the stack was started with several. */
  public BcoinNode bcoin() {
    return bcoins.get(0);
  }

  /** The funded anvil account ETH payouts are sent from. */
  public String ethSource() {
    return ethSource;
  }

  /** The canonical address of anvil's {@code index}th funded account. */
  public String ethAccount(int index) {
    return new AddressCodec(BitcoinNetwork.BCOIN_REGTEST)
        .decode(Chain.ETH, ethAccounts.get(index))
        .address()
        .value();
  }

  public Options options() {
    return options;
  }

  public Path workDir() {
    return workDir;
  }

  @Override
  public synchronized void close() {
    List<Thread> stoppingNodes = new ArrayList<>();
    while (!started.isEmpty()) {
      Closeable part = started.pop();
      if (part instanceof AnvilNode || part instanceof BcoinNode) {
        // A chain node's stop (bcoin flushes its databases: 1-3 s) waits on nothing else of the
        // stack, and what used it (consumers, the miner) stopped before: each node stops on a
        // thread of its own while the rest closes.
        Thread stopping = new Thread(() -> closeQuietly(part), "stack-stop-node");
        stopping.start();
        stoppingNodes.add(stopping);
      } else {
        closeQuietly(part);
      }
    }
    for (Thread stopping : stoppingNodes) {
      try {
        // ChildProcess gives a node 10 s to stop, then kills it and waits 10 s more.
        stopping.join(Duration.ofSeconds(25).toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    // Kept on request, with the nodes' and consumers' logs, to look into a failed run. A second
    // close (a shutdown hook after the explicit one) finds it gone and says nothing.
    if (!Files.exists(workDir)) {
      return;
    }
    if (Boolean.getBoolean("txgw.keep.workdir")) {
      log.info("work directory kept: {}", workDir);
    } else {
      TempDirs.deleteQuietly(workDir);
    }
  }

  private static void closeQuietly(Closeable part) {
    try {
      part.close();
    } catch (IOException | RuntimeException e) {
      log.warn("stopping {} failed: {}", part.getClass().getSimpleName(), e.toString());
    }
  }
}
