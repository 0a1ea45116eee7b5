package io.txgw.deploy.nodes;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.config.Secret;
import io.txgw.common.json.Json;
import io.txgw.consumer.rpc.JsonRpcClient;
import io.txgw.consumer.rpc.RetryPolicy;
import io.txgw.consumer.rpc.RpcEndpoint;
import io.txgw.consumer.rpc.RpcException;
import io.txgw.deploy.infra.ChildProcess;
import io.txgw.deploy.infra.Ports;
import java.io.Closeable;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import okhttp3.Credentials;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * A bcoin regtest node with its wallet plugin, in memory, on free loopback ports. Its API key is
 * made fresh for each start and passed to the node on its command line, never logged.
 */
public final class BcoinNode implements Closeable {
  /**
   * The wallet the local stack pays BTC from. Peered nodes each hold it, made from one master key,
   * so that any of them can sign when another is down.
   */
  public static final String WALLET = "payouts";

  /**
   * Where a node listens and whom it peers with.
   *
   * @param p2pPort 0 for a node that does not listen for peers
   * @param peers the peer-to-peer ports of the nodes it connects to
   * @param walletMaster the payouts wallet's master key; null to make a new wallet
   */
  public record Spec(
      String name,
      int httpPort,
      int walletPort,
      int p2pPort,
      List<Integer> peers,
      Secret apiKey,
      Secret walletMaster) {
    /** A lone node on fresh ports with a fresh key and wallet. */
    public static Spec alone(String name) {
      return new Spec(
          name,
          Ports.freeLoopbackPort(),
          Ports.freeLoopbackPort(),
          0,
          List.of(),
          randomKey(),
          null);
    }

    /** A node that listens for peers and connects to {@code peers}. */
    public static Spec peered(String name, List<Integer> peers, Secret walletMaster) {
      return new Spec(
          name,
          Ports.freeLoopbackPort(),
          Ports.freeLoopbackPort(),
          Ports.freeLoopbackPort(),
          List.copyOf(peers),
          randomKey(),
          walletMaster);
    }

    Spec withFreshPorts() {
      return new Spec(
          name,
          Ports.freeLoopbackPort(),
          Ports.freeLoopbackPort(),
          p2pPort == 0 ? 0 : Ports.freeLoopbackPort(),
          peers,
          apiKey,
          walletMaster);
    }
  }

  private static Secret randomKey() {
    byte[] keyBytes = new byte[24];
    new SecureRandom().nextBytes(keyBytes);
    return new Secret(HexFormat.of().formatHex(keyBytes));
  }

  private final ChildProcess process;
  private final Spec spec;
  private Secret walletMaster;
  private final String nodeUrl;
  private final String walletUrl;
  private final Secret apiKey;
  private final JsonRpcClient node;
  private final JsonRpcClient wallet;
  private final OkHttpClient http = JsonRpcClient.httpClient();

  private BcoinNode(
      ChildProcess process, Spec spec, String nodeUrl, String walletUrl, Secret apiKey) {
    this.process = process;
    this.spec = spec;
    this.nodeUrl = nodeUrl;
    this.walletUrl = walletUrl;
    this.apiKey = apiKey;
    this.node = client("bcoin", nodeUrl, apiKey);
    this.wallet = client("bcoin-wallet", walletUrl, apiKey);
  }

  private static JsonRpcClient client(String name, String url, Secret key) {
    return new JsonRpcClient(
        new RpcEndpoint(name, url, "x", key, false, Duration.ofSeconds(60)), RetryPolicy.NONE);
  }

  /** Starts a lone node on fresh ports. */
  public static BcoinNode start(NodePackages packages, Path workDir) throws InterruptedException {
    return start(packages, workDir, Spec.alone("bcoin"), true);
  }

  /**
   * Starts the node, choosing its ports again if one was taken between choosing and binding (the
   * operating system hands the same range to outgoing connections) unless {@code samePorts} is
   * false: a restarted node must come back where the registry says it is.
   */
  public static BcoinNode start(NodePackages packages, Path workDir, Spec spec, boolean newPorts)
      throws InterruptedException {
    for (int attempt = 1; ; attempt++) {
      try {
        return startOnce(packages, workDir, spec);
      } catch (PortTakenException e) {
        if (attempt == 3 || !newPorts) {
          throw e;
        }
        spec = spec.withFreshPorts();
      }
    }
  }

  private static BcoinNode startOnce(NodePackages packages, Path workDir, Spec spec)
      throws InterruptedException {
    Path prefix = workDir.resolve(spec.name());
    try {
      Files.createDirectories(prefix);
    } catch (IOException e) {
      throw new IllegalStateException("cannot create " + prefix, e);
    }
    List<String> command =
        new ArrayList<>(
            List.of(
                "node",
                packages.bcoin().toString(),
                "--network=regtest",
                "--prefix=" + prefix,
                "--memory=true",
                "--host=127.0.0.1",
                "--http-host=127.0.0.1",
                "--http-port=" + spec.httpPort(),
                "--wallet-http-host=127.0.0.1",
                "--wallet-http-port=" + spec.walletPort(),
                "--index-tx=true",
                "--index-address=true",
                "--log-level=warning",
                "--log-file=false"));
    if (spec.p2pPort() == 0) {
      command.add("--listen=false");
    } else {
      command.addAll(
          List.of("--listen=true", "--port=" + spec.p2pPort(), "--public-host=127.0.0.1"));
    }
    if (!spec.peers().isEmpty()) {
      command.add(
          "--nodes=" + String.join(",", spec.peers().stream().map(p -> "127.0.0.1:" + p).toList()));
    }
    // Without BCOIN_NETWORK the wallet hands out mainnet addresses; without NODE_BACKEND=js it
    // looks for native modules that were not built. The API key goes through the environment:
    // a command line is visible to every user of the machine.
    ChildProcess process =
        ChildProcess.start(
            spec.name(),
            command,
            workDir,
            Map.of(
                "BCOIN_NETWORK", "regtest",
                "NODE_BACKEND", "js",
                "BCOIN_API_KEY", spec.apiKey().reveal()),
            workDir.resolve(spec.name() + ".log"));
    BcoinNode bcoin =
        new BcoinNode(
            process,
            spec,
            "http://127.0.0.1:" + spec.httpPort(),
            "http://127.0.0.1:" + spec.walletPort(),
            spec.apiKey());
    try {
      Readiness.await(process, bcoin.node, "getblockcount", Duration.ofSeconds(60));
      Readiness.await(process, bcoin.wallet, "getbalance", Duration.ofSeconds(60));
      bcoin.openWallet(spec.walletMaster());
    } catch (RuntimeException | InterruptedException e) {
      bcoin.close();
      throw e;
    }
    return bcoin;
  }

  /**
   * Creates the payouts wallet (from {@code master} when given) and makes it the wallet RPC's
   * current one.
   */
  private void openWallet(Secret master) throws InterruptedException {
    try {
      var body = Json.mapper().createObjectNode();
      if (master != null) {
        body.put("master", master.reveal());
      }
      wallet.rest("PUT", "/wallet/" + WALLET, body);
      walletMaster =
          master != null
              ? master
              : new Secret(
                  wallet
                      .rest("GET", "/wallet/" + WALLET + "/master", null)
                      .path("key")
                      .path("xprivkey")
                      .asText());
      wallet.call("selectwallet", WALLET);
    } catch (RpcException e) {
      throw new IllegalStateException("cannot open the payouts wallet: " + e.getMessage(), e);
    }
  }

  /** The payouts wallet's master key, to give a peer the same wallet. */
  public Secret walletMaster() {
    return walletMaster;
  }

  public Spec spec() {
    return spec;
  }

  /**
   * Waits until this node has the chain up to {@code height}, then has the wallet scan it: a node
   * restarted in memory resyncs from its peers, and its new wallet must see the old coins.
   */
  /** How long a resync may stand still at one height before its outbound peers are dropped. */
  private static final Duration STALLED = Duration.ofSeconds(20);

  public void catchUp(long height, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      long at;
      long last = -1;
      long movedAt = System.nanoTime();
      Duration stalled = STALLED;
      while ((at = blockCount()) < height) {
        if (at != last) {
          last = at;
          movedAt = System.nanoTime();
        } else if (System.nanoTime() - movedAt > stalled.toNanos()) {
          // bcoin asks one peer for a block and asks no other for it until that peer is dropped,
          // two minutes later: its sync has been seen to stand still with three peers that hold
          // the blocks. The block may have been asked of a peer that dialled in (it announced a
          // new tip), so every peer goes, not only the outbound ones (once seen stuck 2 minutes
          // with those renewed). This node dials them all again (a restarted node is given every
          // live one in --nodes) and asks anew; each later stall is given twice as long, so a
          // slow reconnection on a busy machine is not cut off again and again.
          for (com.fasterxml.jackson.databind.JsonNode p : node.call("getpeerinfo")) {
            node.call("disconnectnode", p.path("addr").asText());
          }
          movedAt = System.nanoTime();
          stalled = stalled.multipliedBy(2);
        }
        if (System.nanoTime() > deadline) {
          StringBuilder peers = new StringBuilder();
          for (com.fasterxml.jackson.databind.JsonNode p : node.call("getpeerinfo")) {
            peers
                .append(' ')
                .append(p.path("addr").asText())
                .append(p.path("inbound").asBoolean() ? " (in," : " (out,")
                .append(" started at ")
                .append(p.path("startingheight").asLong())
                .append(')');
          }
          throw new IllegalStateException(
              spec.name()
                  + " did not resync to height "
                  + height
                  + " within "
                  + timeout
                  + ": at "
                  + at
                  + ", peers"
                  + (peers.length() == 0 ? " none" : peers));
        }
        Thread.sleep(100);
      }
      wallet.rest("POST", "/rescan", Json.mapper().createObjectNode().put("height", 0));
    } catch (RpcException e) {
      throw new IllegalStateException(spec.name() + " cannot catch up: " + e.getMessage(), e);
    }
  }

  public String name() {
    return spec.name();
  }

  public String nodeUrl() {
    return nodeUrl;
  }

  public String walletUrl() {
    return walletUrl;
  }

  public Secret apiKey() {
    return apiKey;
  }

  public JsonRpcClient nodeRpc() {
    return node;
  }

  public JsonRpcClient walletRpc() {
    return wallet;
  }

  public String newWalletAddress() throws RpcException, InterruptedException {
    return wallet.call("getnewaddress", "").asText();
  }

  public long blockCount() throws RpcException, InterruptedException {
    return node.call("getblockcount").asLong();
  }

  /** Mines {@code blocks} blocks paying their rewards to {@code address}. */
  public void mine(int blocks, String address) throws RpcException, InterruptedException {
    node.call("generatetoaddress", blocks, address);
  }

  /**
   * Mines enough blocks for the wallet to hold {@code blocks - 100} mature coinbase outputs
   * (regtest coinbases mature after 100 blocks) and waits until the wallet has seen them.
   */
  public void fundWallet(int blocks) throws RpcException, InterruptedException {
    String address = newWalletAddress();
    long expectedTxs = wallet.call("getwalletinfo").path("txcount").asLong() + blocks;
    for (int mined = 0; mined < blocks; mined += 50) {
      mine(Math.min(50, blocks - mined), address);
    }
    // The wallet learns of blocks asynchronously; it must have every coinbase before it funds
    // a payout, or it builds transactions from a stale view.
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (wallet.call("getwalletinfo").path("txcount").asLong() < expectedTxs) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "bcoin wallet did not see the " + blocks + " funding blocks");
      }
      Thread.sleep(20);
    }
  }

  /** Confirmed spendable balance of the wallet, in satoshis. */
  public BigInteger walletBalanceSats() throws RpcException, InterruptedException {
    return Json.mapper()
        .convertValue(wallet.call("getbalance"), java.math.BigDecimal.class)
        .movePointRight(8)
        .toBigIntegerExact();
  }

  /**
   * Every output paying {@code address}, in the mempool or the chain, from the node's address
   * index: the on-chain truth a payout check compares with.
   */
  public List<BigInteger> outputsTo(String address) throws IOException {
    Request request =
        new Request.Builder()
            .url(nodeUrl + "/coin/address/" + address)
            .header("Authorization", Credentials.basic("x", apiKey.reveal()))
            .build();
    try (Response response = http.newCall(request).execute()) {
      if (!response.isSuccessful()) {
        throw new IOException("bcoin coin lookup answered HTTP " + response.code());
      }
      JsonNode coins = Json.mapper().readTree(response.body().string());
      return java.util.stream.StreamSupport.stream(coins.spliterator(), false)
          .map(c -> BigInteger.valueOf(c.path("value").asLong()))
          .toList();
    }
  }

  public long pid() {
    return process.pid();
  }

  /** Kills the node at once (SIGKILL), as a crash would. */
  public void kill() {
    process.crash();
    close();
  }

  @Override
  public void close() {
    process.close();
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }
}
