package io.txgw.deploy.nodes;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.consumer.rpc.JsonRpcClient;
import io.txgw.consumer.rpc.RetryPolicy;
import io.txgw.consumer.rpc.RpcEndpoint;
import io.txgw.consumer.rpc.RpcException;
import io.txgw.deploy.infra.ChildProcess;
import io.txgw.deploy.infra.Ports;
import java.io.Closeable;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** An anvil Ethereum dev node on a free loopback port, with its ten unlocked funded accounts. */
public final class AnvilNode implements Closeable {
  private final ChildProcess process;
  private final String url;
  private final JsonRpcClient rpc;

  private AnvilNode(ChildProcess process, String url, JsonRpcClient rpc) {
    this.process = process;
    this.url = url;
    this.rpc = rpc;
  }

  /**
   * @param blockTimeSeconds 0 mines each transaction at once (and a block every 2 s besides);
   *     otherwise a block every N seconds
   */
  public static AnvilNode start(NodePackages packages, Path workDir, int blockTimeSeconds)
      throws InterruptedException {
    for (int attempt = 1; ; attempt++) {
      try {
        return startOnce(packages, workDir, blockTimeSeconds);
      } catch (PortTakenException e) {
        // Chosen free, taken before anvil bound it: choose again.
        if (attempt == 3) {
          throw e;
        }
      }
    }
  }

  private static AnvilNode startOnce(NodePackages packages, Path workDir, int blockTimeSeconds)
      throws InterruptedException {
    int port = Ports.freeLoopbackPort();
    List<String> command =
        new ArrayList<>(
            List.of(
                packages.anvil().toString(),
                "--host",
                "127.0.0.1",
                "--port",
                Integer.toString(port),
                "--chain-id",
                "31337",
                "--silent",
                // Without it anvil keeps every state on disk under ~/.foundry. The last 64 states
                // stay in memory: anvil_reorg needs the state below the blocks it replaces.
                "--prune-history",
                "64"));
    if (blockTimeSeconds > 0) {
      command.addAll(List.of("--block-time", Integer.toString(blockTimeSeconds)));
    } else {
      // Each transaction mined as it arrives, and a block every 2 s as well: anvil's automine
      // alone can leave ready transactions of one account in its pool for ever when they arrive
      // out of nonce order (foundry-rs/foundry#10122), and nothing would mine them.
      command.addAll(List.of("--mixed-mining", "--block-time", "2"));
    }
    ChildProcess process =
        ChildProcess.start("anvil", command, workDir, Map.of(), workDir.resolve("anvil.log"));
    String url = "http://127.0.0.1:" + port;
    JsonRpcClient rpc =
        new JsonRpcClient(
            new RpcEndpoint("anvil", url, null, null, true, Duration.ofSeconds(30)),
            RetryPolicy.NONE);
    try {
      Readiness.await(process, rpc, "eth_chainId", Duration.ofSeconds(30));
    } catch (RuntimeException | InterruptedException e) {
      process.close();
      throw e;
    }
    return new AnvilNode(process, url, rpc);
  }

  public String rpcUrl() {
    return url;
  }

  public JsonRpcClient rpc() {
    return rpc;
  }

  /** The node's unlocked dev accounts, each funded with 10,000 ETH at start. */
  public List<String> accounts() throws RpcException, InterruptedException {
    List<String> accounts = new ArrayList<>();
    for (JsonNode a : rpc.call("eth_accounts")) {
      accounts.add(a.asText());
    }
    return accounts;
  }

  public BigInteger balanceWei(String address) throws RpcException, InterruptedException {
    return new BigInteger(rpc.call("eth_getBalance", address, "latest").asText().substring(2), 16);
  }

  /** Sets an account's balance directly (anvil only), to make an underfunded source. */
  public void setBalanceWei(String address, BigInteger wei)
      throws RpcException, InterruptedException {
    rpc.call("anvil_setBalance", address, "0x" + wei.toString(16));
  }

  public long pid() {
    return process.pid();
  }

  @Override
  public void close() {
    process.close();
  }
}
