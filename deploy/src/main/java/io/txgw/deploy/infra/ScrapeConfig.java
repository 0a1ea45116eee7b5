package io.txgw.deploy.infra;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** A Prometheus scrape config for a local stack: its gateway and consumers on this run's ports. */
public final class ScrapeConfig {
  private ScrapeConfig() {}

  /**
   * Writes it, with the repository's alert rules.
   *
   * @param consumers each consumer's metrics address, {@code host:port}
   */
  public static void write(Path file, int gatewayAdminPort, List<String> consumers)
      throws IOException {
    StringBuilder yml = new StringBuilder();
    yml.append("# Written by the local stack: its gateway and consumers on this run's ports.\n")
        .append("global:\n  scrape_interval: 5s\n  evaluation_interval: 5s\n")
        .append("rule_files:\n  - ")
        .append(Path.of("deploy/prometheus/alerts.yml").toAbsolutePath())
        .append("\nscrape_configs:\n")
        .append("  - job_name: txgw-gateway\n    static_configs:\n      - targets: ['127.0.0.1:")
        .append(gatewayAdminPort)
        .append("']\n")
        .append("  - job_name: txgw-consumer\n    static_configs:\n      - targets: [")
        .append(String.join(", ", consumers.stream().map(c -> "'" + c + "'").toList()))
        .append("]\n");
    Files.writeString(file, yml.toString());
  }
}
