package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.json.Json;
import io.txgw.deploy.infra.ChildProcess;
import io.txgw.deploy.infra.EmbeddedKafka;
import io.txgw.deploy.infra.EmbeddedZooKeeper;
import io.txgw.deploy.infra.TempDirs;
import io.txgw.gateway.Gateway;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code deploy/loadgen-boxes.sh} on three "boxes" that are local directories (its ssh replaced by
 * a command that runs there): the distribution copied and unpacked on each, every box started
 * behind the ZooKeeper barrier against a real gateway, and their reports gathered into one.
 */
class LoadgenBoxesIT {
  static final String SOURCE = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
  static final String KEY = "boxes-key-0123456789";

  static Path dir;
  static EmbeddedKafka kafka;
  static EmbeddedZooKeeper zooKeeper;
  static Gateway gateway;

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("txgw-boxes-");
    kafka = new EmbeddedKafka(dir.resolve("kafka"));
    zooKeeper = new EmbeddedZooKeeper(dir.resolve("zookeeper"));
    gateway =
        TestGateways.start(kafka.clientEnv(EmbeddedKafka.ADMIN), dir, "acme", KEY, "ETH:" + SOURCE);
  }

  @AfterAll
  static void stop() {
    if (gateway != null) {
      gateway.close();
    }
    if (zooKeeper != null) {
      zooKeeper.close();
    }
    if (kafka != null) {
      kafka.close();
    }
    TempDirs.deleteQuietly(dir);
  }

  /** The distribution's folder name, as the tarball unpacks. */
  static String dist() {
    return Path.of(System.getProperty("txgw.dist.tarball"))
        .getFileName()
        .toString()
        .replace(".tar.gz", "");
  }

  /** An executable script of {@code lines} in the test's directory. */
  static Path script(String name, String... lines) throws Exception {
    Path file = dir.resolve(name);
    Files.writeString(
        file, "#!/usr/bin/env bash\nset -euo pipefail\n" + String.join("\n", lines) + "\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------"));
    return file;
  }

  @Test
  void threeBoxesGetTheDistributionStartTogetherAndTheirReportsAreCombined() throws Exception {
    Path boxes = Files.createDirectories(dir.resolve("boxes"));
    // "ssh HOST COMMAND": the command run in the box's directory, as in a login's home.
    Path ssh =
        script(
            "fake-ssh",
            "host=\"$1\"; shift",
            "mkdir -p \"$BOXES/$host\" && cd \"$BOXES/$host\" && exec bash -c \"$*\"");
    Path hosts = dir.resolve("hosts.txt");
    Files.writeString(hosts, "# the paper's boxes, three here\nbox-a\nbox-b\n\nbox-c\n");
    Path key = dir.resolve("api-key");
    Files.writeString(key, KEY);
    Path out = dir.resolve("report");
    Path deployDir = Path.of(System.getProperty("txgw.deploy.dir"));
    List<String> command =
        List.of(
            deployDir.resolve("loadgen-boxes.sh").toString(),
            hosts.toString(),
            "--key-file",
            key.toString(),
            "--out",
            out.toString(),
            "--tarball",
            System.getProperty("txgw.dist.tarball"),
            "--",
            "--workers",
            "2",
            "--iterations",
            "5",
            "--chain",
            "ETH",
            "--source",
            SOURCE,
            "--gateway",
            "http://127.0.0.1:" + gateway.port(),
            "--zookeeper",
            zooKeeper.connectString(),
            "--barrier-timeout",
            "120");
    Path log = dir.resolve("loadgen-boxes.log");
    try (ChildProcess run =
        ChildProcess.start(
            "loadgen-boxes",
            command,
            dir,
            Map.of("TXGW_SSH", ssh.toString(), "BOXES", boxes.toString()),
            log)) {
      assertThat(run.awaitExit(Duration.ofMinutes(4))).as("ended").isTrue();
      assertThat(run.exitCode()).as(Files.readString(log)).isZero();
    }
    for (String box : List.of("box-a", "box-b", "box-c")) {
      assertThat(boxes.resolve(box).resolve("txgw-loadgen").resolve(dist())).isDirectory();
    }
    // The key went to each box for the run, readable by the login only, and left with it.
    try (var files = Files.walk(boxes)) {
      assertThat(files.filter(f -> f.getFileName().toString().equals("api-key"))).isEmpty();
    }
    JsonNode report = Json.mapper().readTree(out.resolve("report.json").toFile());
    assertThat(report.path("boxes").asInt()).isEqualTo(3);
    assertThat(report.path("payouts").asLong()).isEqualTo(30);
    assertThat(report.path("accepted").asLong()).as(report.toString()).isEqualTo(30);
    assertThat(report.path("perBox")).hasSize(3);
    assertThat(Files.readString(out.resolve("report.html"))).contains("txgw load: 3 boxes");
    assertThat(Files.readString(log)).contains("box 2 (box-c): done");
  }
}
