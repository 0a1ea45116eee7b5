package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txgw.common.config.Setting;
import io.txgw.consumer.TxConsumerConfig;
import io.txgw.deploy.infra.ChildProcess;
import io.txgw.deploy.infra.EmbeddedKafka;
import io.txgw.deploy.infra.Ports;
import io.txgw.deploy.infra.TempDirs;
import io.txgw.deploy.infra.TrustFiles;
import io.txgw.gateway.GatewayConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The distribution as an operator gets it: the tarball unpacked on a box, each component started by
 * one command against an existing Kafka, the example configuration naming only settings that exist.
 */
class DistributionIT {
  static Path dir;
  static Path home;
  static EmbeddedKafka kafka;
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void unpack() throws Exception {
    Path tarball = Path.of(System.getProperty("txgw.dist.tarball"));
    assertThat(tarball).as("built by deploy/dist").exists();
    dir = Files.createTempDirectory("txgw-dist-");
    Process tar =
        new ProcessBuilder("tar", "xzf", tarball.toString(), "-C", dir.toString())
            .inheritIO()
            .start();
    assertThat(tar.waitFor()).isZero();
    try (var entries = Files.list(dir)) {
      home = entries.filter(p -> p.getFileName().toString().startsWith("txgw-")).findFirst().get();
    }
    kafka = new EmbeddedKafka(dir.resolve("kafka"));
  }

  @AfterAll
  static void stop() {
    if (kafka != null) {
      kafka.close();
    }
    TempDirs.deleteQuietly(dir);
  }

  /** Runs {@code bin/<command>} to its end within 60 s; its output. */
  static String run(String command, String... args) throws Exception {
    List<String> line = new ArrayList<>(List.of(home.resolve("bin").resolve(command).toString()));
    line.addAll(List.of(args));
    Path log = dir.resolve(command + ".log");
    try (ChildProcess process = ChildProcess.start(command, line, dir, Map.of(), log)) {
      assertThat(process.awaitExit(Duration.ofSeconds(60))).as(command + " ended").isTrue();
      assertThat(process.exitCode()).as(Files.readString(log)).isZero();
    }
    return Files.readString(log);
  }

  @Test
  void theOperatorCommandsOfTheTarballAnswerHelp() throws Exception {
    assertThat(run("txgw", "--help")).contains("Usage: txgw", "nodes", "pause", "budgets", "lag");
    assertThat(run("txgw-loadgen", "--help")).contains("--box-index", "--workers");
  }

  @Test
  void oneCommandStartsAGatewayFromItsConfigurationFile() throws Exception {
    int port = Ports.freeLoopbackPort();
    Map<String, String> env = new HashMap<>(kafka.clientEnv(EmbeddedKafka.ADMIN));
    env.put("TXGW_HTTP_PORT", Integer.toString(port));
    env.put("TXGW_ADMIN_PORT", "0");
    env.put("TXGW_API_KEYS", "acme=dist-key-0123456789");
    env.put("TXGW_STATE_DIR", dir.resolve("gateway-state").toString());
    env.putAll(TrustFiles.create(dir.resolve("trust"), Map.of("acme", List.of())).env());
    Path config = dir.resolve("gateway.env");
    Files.write(
        config,
        env.entrySet().stream()
            .map(e -> e.getKey() + "=" + e.getValue())
            .collect(Collectors.toList()));
    try (ChildProcess gateway =
        ChildProcess.start(
            "dist-gateway",
            List.of(home.resolve("bin/txgw-gateway").toString(), "--config", config.toString()),
            dir,
            Map.of(),
            dir.resolve("dist-gateway.log"))) {
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () -> {
                assertThat(gateway.isAlive()).as(() -> readQuietly(gateway.logFile())).isTrue();
                return status(port, "/readyz") == 200;
              });
      assertThat(status(port, "/openapi.json")).isEqualTo(200);
    }
  }

  @Test
  void theExampleConfigurationNamesOnlySettingsTheComponentsRead() throws Exception {
    assertThat(unknown(home.resolve("config/gateway.env"), GatewayConfig.SETTINGS)).isEmpty();
    assertThat(unknown(home.resolve("config/consumer.env"), TxConsumerConfig.SETTINGS)).isEmpty();
  }

  /** The variables {@code file} sets that none of {@code settings} is (as NAME, or NAME_FILE). */
  static List<String> unknown(Path file, List<Setting<?>> settings) throws Exception {
    Set<String> known = settings.stream().map(Setting::name).collect(Collectors.toSet());
    Set<String> secrets =
        settings.stream().filter(Setting::secret).map(Setting::name).collect(Collectors.toSet());
    List<String> unknown = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      if (line.isBlank() || line.strip().startsWith("#")) {
        continue;
      }
      String name = line.substring(0, line.indexOf('='));
      boolean isFile = name.endsWith("_FILE") && secrets.contains(name.replaceAll("_FILE$", ""));
      if (!known.contains(name) && !isFile) {
        unknown.add(name);
      }
    }
    return unknown;
  }

  static int status(int port, String path) {
    try {
      return http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  static String readQuietly(Path log) {
    try {
      return Files.readString(log);
    } catch (Exception e) {
      return e.toString();
    }
  }
}
