package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txgw.common.config.Setting;
import io.txgw.consumer.TxConsumerConfig;
import io.txgw.deploy.infra.ChildProcess;
import io.txgw.deploy.infra.EmbeddedKafka;
import io.txgw.deploy.infra.TempDirs;
import io.txgw.deploy.infra.TrustFiles;
import io.txgw.gateway.GatewayConfig;
import java.net.InetAddress;
import java.net.ServerSocket;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
    // Port 0, read back from its log: a port chosen here could be taken by another test's process
    // before the gateway binds it.
    Path config = gatewayConfig("gateway.env", 0);
    try (ChildProcess gateway = startGateway("dist-gateway", config)) {
      int[] port = new int[1];
      // Its log in the failure whichever way it fails: dead, or alive and never ready.
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(500))
          .untilAsserted(
              () -> {
                String log = readQuietly(gateway.logFile());
                if (!gateway.isAlive()) {
                  // Not an assertion: awaitility would wait out the 90 s for a dead process.
                  throw new IllegalStateException("the gateway ended:\n" + log);
                }
                Matcher listening = LISTENING.matcher(log);
                assertThat(listening.find()).as("a gateway logging:\n%s", log).isTrue();
                port[0] = Integer.parseInt(listening.group(1));
                assertThat(status(port[0], "/readyz"))
                    .as("/readyz of a gateway logging:\n%s", log)
                    .isEqualTo(200);
              });
      assertThat(status(port[0], "/openapi.json")).isEqualTo(200);
    }
  }

  @Test
  void aGatewayThatCannotBindItsPortEndsAndSaysWhy() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Path config = gatewayConfig("gateway-taken.env", taken.getLocalPort());
      try (ChildProcess gateway = startGateway("dist-gateway-taken", config)) {
        // Not left running with the threads its failed start began: a supervisor sees it end.
        assertThat(gateway.awaitExit(Duration.ofSeconds(90)))
            .as(() -> readQuietly(gateway.logFile()))
            .isTrue();
        assertThat(gateway.exitCode()).isEqualTo(1);
        assertThat(readQuietly(gateway.logFile())).contains("cannot bind the HTTP API");
      }
    }
  }

  private static final Pattern LISTENING =
      Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");

  /** A gateway's configuration file against the test's broker, its API on {@code port}. */
  static Path gatewayConfig(String name, int port) throws Exception {
    Map<String, String> env = new HashMap<>(kafka.clientEnv(EmbeddedKafka.ADMIN));
    env.put("TXGW_HTTP_PORT", Integer.toString(port));
    env.put("TXGW_ADMIN_PORT", "0");
    env.put("TXGW_API_KEYS", "acme=dist-key-0123456789");
    env.put("TXGW_STATE_DIR", dir.resolve(name + "-state").toString());
    env.putAll(TrustFiles.create(dir.resolve(name + "-trust"), Map.of("acme", List.of())).env());
    Path config = dir.resolve(name);
    Files.write(
        config,
        env.entrySet().stream()
            .map(e -> e.getKey() + "=" + e.getValue())
            .collect(Collectors.toList()));
    return config;
  }

  /** {@code bin/txgw-gateway --config FILE}: the one command of the runbook. */
  static ChildProcess startGateway(String name, Path config) {
    return ChildProcess.start(
        name,
        List.of(home.resolve("bin/txgw-gateway").toString(), "--config", config.toString()),
        dir,
        Map.of(),
        dir.resolve(name + ".log"));
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
