package io.txgw.deploy.nodes;

import io.txgw.consumer.rpc.JsonRpcClient;
import io.txgw.consumer.rpc.RetryPolicy;
import io.txgw.consumer.rpc.RpcEndpoint;
import io.txgw.deploy.infra.ChildProcess;
import io.txgw.deploy.infra.Ports;
import java.io.Closeable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A hardhat development node on a free loopback port: the second real Ethereum node, beside anvil.
 * It answers the standard {@code eth_} methods and none of what a node-signing payout needs ({@code
 * eth_signTransaction} is "not supported"), so what pays through it is signed by txgw. Chain 31337,
 * each transaction mined as it arrives, EIP-1559 fees; its development accounts are anvil's (the
 * same mnemonic).
 */
public final class HardhatNode implements Closeable {
  private final ChildProcess process;
  private final String url;
  private final JsonRpcClient rpc;

  private HardhatNode(ChildProcess process, String url, JsonRpcClient rpc) {
    this.process = process;
    this.url = url;
    this.rpc = rpc;
  }

  public static HardhatNode start(NodePackages packages, Path workDir) throws InterruptedException {
    for (int attempt = 1; ; attempt++) {
      try {
        return startOnce(packages, workDir);
      } catch (PortTakenException e) {
        // Chosen free, taken before hardhat bound it: choose again.
        if (attempt == 3) {
          throw e;
        }
      }
    }
  }

  private static HardhatNode startOnce(NodePackages packages, Path workDir)
      throws InterruptedException {
    int port = Ports.freeLoopbackPort();
    List<String> command =
        List.of(
            "node",
            packages.hardhat().toString(),
            "node",
            "--hostname",
            "127.0.0.1",
            "--port",
            Integer.toString(port),
            "--config",
            packages.dir().resolve("hardhat.config.js").toString());
    // Run from the packages' folder: hardhat refuses to run from outside the project that
    // installed it.
    ChildProcess process =
        ChildProcess.start(
            "hardhat",
            command,
            packages.dir(),
            Map.of("HARDHAT_DISABLE_TELEMETRY_PROMPT", "true"),
            workDir.resolve("hardhat.log"));
    String url = "http://127.0.0.1:" + port;
    JsonRpcClient rpc =
        new JsonRpcClient(
            new RpcEndpoint("hardhat", url, null, null, true, Duration.ofSeconds(30)),
            RetryPolicy.NONE);
    try {
      Readiness.await(process, rpc, "eth_chainId", Duration.ofSeconds(60));
    } catch (RuntimeException | InterruptedException e) {
      process.close();
      throw e;
    }
    return new HardhatNode(process, url, rpc);
  }

  public String rpcUrl() {
    return url;
  }

  public JsonRpcClient rpc() {
    return rpc;
  }

  public long pid() {
    return process.pid();
  }

  @Override
  public void close() {
    process.close();
  }
}
