package io.txgw.deploy;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.config.Secret;
import io.txgw.common.model.Chain;
import io.txgw.consumer.TxConsumer;
import io.txgw.consumer.TxConsumerConfig;
import io.txgw.deploy.infra.EmbeddedKafka;
import io.txgw.deploy.infra.EmbeddedZooKeeper;
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
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
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

  /** Sizes of the stack. */
  public record Options(
      int consumers, int anvilBlockTimeSeconds, int fundingBlocks, Duration mineEvery) {
    public static Options defaults() {
      return new Options(1, 0, 400, Duration.ofMillis(500));
    }
  }

  private final Deque<Closeable> started = new ArrayDeque<>();
  private final Map<String, TxConsumer> consumers = new HashMap<>();
  private final Path workDir;
  private final Secret apiKey;
  private final Secret otherApiKey;
  private EmbeddedKafka kafka;
  private EmbeddedZooKeeper zooKeeper;
  private AnvilNode anvil;
  private BcoinNode bcoin;
  private Gateway gateway;
  private String ethSource;

  private LocalStack(Path workDir) {
    this.workDir = workDir;
    this.apiKey = randomKey();
    this.otherApiKey = randomKey();
  }

  private static Secret randomKey() {
    byte[] key = new byte[24];
    new SecureRandom().nextBytes(key);
    return new Secret(HexFormat.of().formatHex(key));
  }

  public static LocalStack start(Options options) throws InterruptedException {
    Path workDir;
    try {
      workDir = Files.createTempDirectory("txgw-stack-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    LocalStack stack = new LocalStack(workDir);
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
    NodePackages packages = NodePackages.locate().ensureInstalled();
    zooKeeper = keep(new EmbeddedZooKeeper(workDir.resolve("zookeeper")));
    kafka = keep(new EmbeddedKafka(workDir.resolve("kafka")));
    anvil = keep(AnvilNode.start(packages, workDir, options.anvilBlockTimeSeconds()));
    bcoin = keep(BcoinNode.start(packages, workDir));
    try {
      bcoin.fundWallet(options.fundingBlocks());
      // The gateway keys accounts by their EIP-55 form; anvil lists them in lower case.
      ethSource =
          new AddressCodec(BitcoinNetwork.BCOIN_REGTEST)
              .decode(Chain.ETH, anvil.accounts().get(0))
              .address()
              .value();
      keep(new RegtestMiner(bcoin, bcoin.newWalletAddress(), options.mineEvery()));
    } catch (io.txgw.consumer.rpc.RpcException e) {
      throw new IllegalStateException("cannot prepare the nodes: " + e.getMessage(), e);
    }
    gateway = keep(new Gateway(GatewayConfig.fromEnv(gatewayEnv())).start());
    for (int i = 1; i <= options.consumers(); i++) {
      startConsumer("consumer-" + i);
    }
    log.info(
        "local stack up in {} ms: gateway {}, kafka {}, zookeeper {}, anvil {}, bcoin {}",
        (System.nanoTime() - t0) / 1_000_000,
        gatewayUrl(),
        kafka.bootstrapServers(),
        zooKeeper.connectString(),
        anvil.rpcUrl(),
        bcoin.nodeUrl());
  }

  /** Starts one more consumer in this JVM with the given stable id. */
  public TxConsumer startConsumer(String id) throws InterruptedException {
    return startConsumer(id, Map.of());
  }

  /** Starts a consumer whose environment differs from the stack's by {@code overrides}. */
  public TxConsumer startConsumer(String id, Map<String, String> overrides)
      throws InterruptedException {
    Map<String, String> env = consumerEnv(id);
    env.putAll(overrides);
    TxConsumer consumer = keep(new TxConsumer(TxConsumerConfig.fromEnv(env)).start());
    consumers.put(id, consumer);
    return consumer;
  }

  /** Stops the in-process consumer of that id and starts a new one in its place. */
  public TxConsumer restartConsumer(String id) throws InterruptedException {
    TxConsumer old = consumers.remove(id);
    if (old != null) {
      started.remove(old);
      old.close();
    }
    return startConsumer(id);
  }

  private Map<String, String> gatewayEnv() {
    Map<String, String> env = new HashMap<>();
    env.put("TXGW_HTTP_PORT", "0");
    env.put("TXGW_KAFKA_BOOTSTRAP", kafka.bootstrapServers());
    env.put(
        "TXGW_API_KEYS",
        CLIENT + "=" + apiKey.reveal() + "," + OTHER_CLIENT + "=" + otherApiKey.reveal());
    env.put("TXGW_BTC_NETWORK", "BCOIN_REGTEST");
    return env;
  }

  /** The environment a consumer of this stack runs with (secrets included: keep it private). */
  public Map<String, String> consumerEnv(String id) {
    Map<String, String> env = new HashMap<>();
    env.put("TXGW_KAFKA_BOOTSTRAP", kafka.bootstrapServers());
    env.put("TXGW_CONSUMER_ID", id);
    env.put("TXGW_ZOOKEEPER", zooKeeper.connectString());
    env.put("TXGW_ETH_RPC_URL", anvil.rpcUrl());
    env.put("TXGW_BTC_RPC_URL", bcoin.nodeUrl());
    env.put("TXGW_BTC_WALLET_RPC_URL", bcoin.walletUrl());
    env.put("TXGW_BTC_RPC_PASSWORD", bcoin.apiKey().reveal());
    env.put("TXGW_BTC_WALLET", BcoinNode.WALLET);
    return env;
  }

  private <T extends Closeable> T keep(T part) {
    started.push(part);
    return part;
  }

  public String gatewayUrl() {
    return "http://127.0.0.1:" + gateway.port();
  }

  public Secret apiKey() {
    return apiKey;
  }

  public Secret otherApiKey() {
    return otherApiKey;
  }

  public String kafkaBootstrap() {
    return kafka.bootstrapServers();
  }

  public String zooKeeperConnect() {
    return zooKeeper.connectString();
  }

  public AnvilNode anvil() {
    return anvil;
  }

  public BcoinNode bcoin() {
    return bcoin;
  }

  /** The funded anvil account ETH payouts are sent from. */
  public String ethSource() {
    return ethSource;
  }

  public Path workDir() {
    return workDir;
  }

  @Override
  public synchronized void close() {
    while (!started.isEmpty()) {
      Closeable part = started.pop();
      try {
        part.close();
      } catch (IOException | RuntimeException e) {
        log.warn("stopping {} failed: {}", part.getClass().getSimpleName(), e.toString());
      }
    }
    // Kept on request, with the nodes' and consumers' logs, to look into a failed run.
    if (Files.exists(workDir) && !Boolean.getBoolean("txgw.keep.workdir")) {
      deleteQuietly(workDir);
    } else {
      log.info("work directory kept: {}", workDir);
    }
  }

  private static void deleteQuietly(Path dir) {
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      log.debug("could not delete {}: {}", dir, e.toString());
    }
  }
}
