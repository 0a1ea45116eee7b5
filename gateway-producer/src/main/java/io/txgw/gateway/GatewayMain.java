package io.txgw.gateway;

import io.txgw.common.config.ConfigException;
import java.util.concurrent.CountDownLatch;
import org.slf4j.LoggerFactory;

/** Runs the gateway with configuration from the environment until the process is stopped. */
public final class GatewayMain {
  private GatewayMain() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length > 0) {
      // An argument meant as configuration must not be dropped without a word.
      System.err.println(
          "the %s takes no arguments (got: %s): its configuration comes from the environment;"
                  .formatted("gateway", String.join(" ", args))
              + " bin/txgw-gateway --config FILE reads a file into it first");
      System.exit(2);
    }
    GatewayConfig config;
    try {
      config = GatewayConfig.fromEnv(System.getenv());
    } catch (ConfigException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    Gateway gateway;
    try {
      gateway = new Gateway(config).start();
    } catch (RuntimeException | Error e) {
      // Ended, not left running: threads of a failed start (Kafka clients, Vert.x) would keep alive
      // a process that serves nothing, and its supervisor would never start it again.
      LoggerFactory.getLogger(GatewayMain.class).error("the gateway could not start", e);
      System.exit(1);
      return;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  gateway.close();
                  stopped.countDown();
                }));
    stopped.await();
  }
}
