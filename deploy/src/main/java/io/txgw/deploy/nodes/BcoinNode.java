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
  /** The wallet bcoin creates at start; the local stack pays BTC from it. */
  public static final String WALLET = "primary";

  private final ChildProcess process;
  private final String nodeUrl;
  private final String walletUrl;
  private final Secret apiKey;
  private final JsonRpcClient node;
  private final JsonRpcClient wallet;
  private final OkHttpClient http = new OkHttpClient();

  private BcoinNode(ChildProcess process, String nodeUrl, String walletUrl, Secret apiKey) {
    this.process = process;
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

  /**
   * Starts the node, choosing its ports again if one was taken between choosing and binding (the
   * operating system hands the same range to outgoing connections).
   */
  public static BcoinNode start(NodePackages packages, Path workDir) throws InterruptedException {
    for (int attempt = 1; ; attempt++) {
      try {
        return startOnce(packages, workDir);
      } catch (PortTakenException e) {
        if (attempt == 3) {
          throw e;
        }
      }
    }
  }

  private static BcoinNode startOnce(NodePackages packages, Path workDir)
      throws InterruptedException {
    int httpPort = Ports.freeLoopbackPort();
    int walletPort = Ports.freeLoopbackPort();
    byte[] keyBytes = new byte[24];
    new SecureRandom().nextBytes(keyBytes);
    Secret apiKey = new Secret(HexFormat.of().formatHex(keyBytes));
    Path prefix = workDir.resolve("bcoin");
    try {
      Files.createDirectories(prefix);
    } catch (IOException e) {
      throw new IllegalStateException("cannot create " + prefix, e);
    }
    List<String> command =
        List.of(
            "node",
            packages.bcoin().toString(),
            "--network=regtest",
            "--prefix=" + prefix,
            "--memory=true",
            "--listen=false",
            "--host=127.0.0.1",
            "--http-host=127.0.0.1",
            "--http-port=" + httpPort,
            "--wallet-http-host=127.0.0.1",
            "--wallet-http-port=" + walletPort,
            "--index-tx=true",
            "--index-address=true",
            "--log-level=warning",
            "--log-file=false");
    // Without BCOIN_NETWORK the wallet hands out mainnet addresses; without NODE_BACKEND=js it
    // looks for native modules that were not built. The API key goes through the environment:
    // a command line is visible to every user of the machine.
    ChildProcess process =
        ChildProcess.start(
            "bcoin",
            command,
            workDir,
            Map.of(
                "BCOIN_NETWORK", "regtest",
                "NODE_BACKEND", "js",
                "BCOIN_API_KEY", apiKey.reveal()),
            workDir.resolve("bcoin.log"));
    BcoinNode bcoin =
        new BcoinNode(
            process, "http://127.0.0.1:" + httpPort, "http://127.0.0.1:" + walletPort, apiKey);
    try {
      Readiness.await(process, bcoin.node, "getblockcount", Duration.ofSeconds(60));
      Readiness.await(process, bcoin.wallet, "getbalance", Duration.ofSeconds(60));
    } catch (RuntimeException | InterruptedException e) {
      bcoin.close();
      throw e;
    }
    return bcoin;
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

  @Override
  public void close() {
    process.close();
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }
}
