package io.txgw.deploy.nodes;

import io.txgw.consumer.rpc.JsonRpcClient;
import io.txgw.consumer.rpc.RpcException;
import io.txgw.deploy.infra.ChildProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;

/** Waits for a node to answer a JSON-RPC call, polling its port, never a fixed sleep. */
final class Readiness {
  private Readiness() {}

  static void await(ChildProcess process, JsonRpcClient rpc, String method, Duration timeout)
      throws InterruptedException {
    Instant deadline = Instant.now().plus(timeout);
    RpcException last = null;
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        String log = tail(process);
        if (log.contains("EADDRINUSE") || log.contains("Address already in use")) {
          throw new PortTakenException(log);
        }
        throw new IllegalStateException("node exited during start; its log says:\n" + log);
      }
      try {
        rpc.call(method);
        return;
      } catch (RpcException e) {
        last = e;
        Thread.sleep(50);
      }
    }
    throw new IllegalStateException(
        "node did not answer "
            + method
            + " within "
            + timeout
            + ": "
            + last
            + "\n"
            + tail(process));
  }

  private static String tail(ChildProcess process) {
    try {
      String log = Files.readString(process.logFile());
      return log.length() > 4000 ? log.substring(log.length() - 4000) : log;
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }
}
