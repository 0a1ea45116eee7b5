package io.txgw.consumer;

import io.txgw.common.config.ConfigException;
import org.slf4j.LoggerFactory;

/** Runs one consumer with configuration from the environment until the process is stopped. */
public final class ConsumerMain {
  private ConsumerMain() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length > 0) {
      // An argument meant as configuration must not be dropped without a word.
      System.err.println(
          "the %s takes no arguments (got: %s): its configuration comes from the environment;"
                  .formatted("consumer", String.join(" ", args))
              + " bin/txgw-consumer --config FILE reads a file into it first");
      System.exit(2);
    }
    TxConsumerConfig config;
    try {
      config = TxConsumerConfig.fromEnv(System.getenv());
    } catch (ConfigException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    TxConsumer consumer;
    try {
      consumer = new TxConsumer(config).start();
    } catch (RuntimeException | Error e) {
      // Ended, not left running: threads of a failed start would keep alive a process that pays
      // nothing, and its supervisor would never start it again.
      LoggerFactory.getLogger(ConsumerMain.class).error("the consumer could not start", e);
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(consumer::close));
    consumer.awaitTermination(java.time.Duration.ofDays(365_000));
    // The loop only ends by itself on a fatal error; a supervisor restarts the process.
    System.exit(1);
  }
}
