package io.txgw.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What a failed test leaves to look into: the stack's directory goes when the test ends. */
final class StackLogs {
  private static final Logger log = LoggerFactory.getLogger(StackLogs.class);
  private static final int LAST = 25;

  private StackLogs() {}

  /**
   * What anvil holds: its head (how long ago it was mined, its base fee) and its pool, to tell a
   * node that stopped mining from transactions it will not take.
   */
  static void logAnvilState(LocalStack stack) {
    try {
      var rpc = stack.anvil().rpc();
      var head = rpc.call("eth_getBlockByNumber", "latest", false);
      long mined = Long.parseLong(head.path("timestamp").asText().substring(2), 16);
      log.info(
          "anvil head {} mined {} s ago, base fee {}, {} transactions; pool {}",
          Long.parseLong(head.path("number").asText().substring(2), 16),
          java.time.Instant.now().getEpochSecond() - mined,
          head.path("baseFeePerGas").asText(),
          head.path("transactions").size(),
          rpc.call("txpool_status"));
      String inspect = rpc.call("txpool_inspect").toString();
      log.info("anvil pool: {}", inspect.length() > 4000 ? inspect.substring(0, 4000) : inspect);
    } catch (Exception e) {
      log.info("anvil not readable: {}", e.toString());
    }
  }

  /** Each consumer log's last warnings and errors, into the test's output. */
  static void logConsumerWarnings(LocalStack stack) {
    try (var logs = Files.list(stack.workDir())) {
      for (Path file :
          logs.filter(f -> f.getFileName().toString().startsWith("consumer-")).sorted().toList()) {
        List<String> lines =
            Files.readAllLines(file).stream()
                .filter(l -> l.contains(" WARN ") || l.contains(" ERROR "))
                .toList();
        log.info(
            "{}: last warnings\n{}",
            file.getFileName(),
            String.join("\n", lines.subList(Math.max(0, lines.size() - LAST), lines.size())));
      }
    } catch (IOException | RuntimeException e) {
      log.info("consumer logs not readable: {}", e.toString());
    }
  }
}
