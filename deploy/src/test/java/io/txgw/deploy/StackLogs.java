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
