package io.txgw.consumer;

import io.txgw.common.config.ConfigException;

/** Runs one consumer with configuration from the environment until the process is stopped. */
public final class ConsumerMain {
  private ConsumerMain() {}

  public static void main(String[] args) throws InterruptedException {
    TxConsumerConfig config;
    try {
      config = TxConsumerConfig.fromEnv(System.getenv());
    } catch (ConfigException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    TxConsumer consumer = new TxConsumer(config).start();
    Runtime.getRuntime().addShutdownHook(new Thread(consumer::close));
    consumer.awaitTermination(java.time.Duration.ofDays(365_000));
    // The loop only ends by itself on a fatal error; a supervisor restarts the process.
    System.exit(1);
  }
}
