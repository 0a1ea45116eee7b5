package io.txgw.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.txgw.common.model.Chain;
import io.txgw.coordinator.LoopbackZooKeeper;
import io.txgw.coordinator.control.Controls;
import io.txgw.coordinator.zk.ZkClients;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TxgwTest {
  private TestingServer zooKeeper;
  private String out;
  private String err;

  @BeforeEach
  void start() throws Exception {
    zooKeeper = LoopbackZooKeeper.start();
  }

  @AfterEach
  void stop() throws Exception {
    zooKeeper.close();
  }

  private int run(String... args) {
    StringWriter o = new StringWriter();
    StringWriter e = new StringWriter();
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("-z", zooKeeper.getConnectString()));
    int code =
        Txgw.run(new PrintWriter(o, true), new PrintWriter(e, true), all.toArray(String[]::new));
    out = o.toString();
    err = e.toString();
    return code;
  }

  @Test
  void nodesAreAddedListedDrainedAndRemoved() {
    assertThat(
            run(
                "nodes",
                "add",
                "BTC",
                "bcoin-1",
                "--url",
                "http://127.0.0.1:48332",
                "--wallet-url",
                "http://127.0.0.1:48334",
                "--credentials",
                "env:TXGW_NODE_BCOIN_KEY",
                "--max-rps",
                "50",
                "--max-in-flight",
                "4"))
        .isZero();
    assertThat(run("nodes", "list")).isZero();
    assertThat(out).contains("bcoin-1", "http://127.0.0.1:48332", "50.0", "active");
    assertThat(run("nodes", "drain", "btc", "bcoin-1")).isZero();
    assertThat(run("nodes", "list", "--json")).isZero();
    assertThat(out).contains("\"drained\" : true", "\"credentials\" : \"env:TXGW_NODE_BCOIN_KEY\"");
    assertThat(run("nodes", "remove", "BTC", "bcoin-1")).isZero();
    assertThat(run("nodes", "remove", "BTC", "bcoin-1")).isEqualTo(1);
    assertThat(err).contains("no node BTC/bcoin-1");
  }

  @Test
  void anInvalidNodeIsRefusedWithEveryReasonAndNothingIsWritten() {
    assertThat(
            run(
                "nodes",
                "add",
                "ETH",
                "bad name",
                "--url",
                "ftp://x",
                "--max-rps",
                "-1",
                "--credentials",
                "hunter2"))
        .isEqualTo(2);
    assertThat(err)
        .contains(
            "name must be",
            "url must be an http(s) URL",
            "maxRequestsPerSecond must be a positive number",
            "credentials must be env:");
    assertThat(err).doesNotContain("Exception");
    assertThat(run("nodes", "list", "--json")).isZero();
    assertThat(out.strip()).isEqualTo("[ ]");
  }

  private int add(String url, String credentials) {
    return run(
        "nodes",
        "add",
        "ETH",
        "geth-1",
        "--url",
        url,
        "--credentials",
        credentials,
        "--max-rps",
        "5");
  }

  @Test
  void credentialsNamingAVariableOutsideTheNodePrefixAreRefusedBeforeAnythingIsWritten() {
    assertThat(add("http://127.0.0.1:8545", "env:TXGW_BTC_RPC_PASSWORD")).isEqualTo(2);
    assertThat(err).contains("env:TXGW_BTC_RPC_PASSWORD", "outside TXGW_NODE_*");
    assertThat(run("nodes", "list", "--json")).isZero();
    assertThat(out.strip()).isEqualTo("[ ]");
  }

  @Test
  void aFileReferenceIsRefusedWhileNoCredentialsDirectoryIsSet() {
    assertThat(add("http://127.0.0.1:8545", "file:/proc/self/environ")).isEqualTo(2);
    assertThat(err).contains("file references are off", "TXGW_CREDENTIALS_DIR");
  }

  @Test
  void aPlainHttpNodeOffLoopbackIsRefusedAndHttpsIsTaken() {
    assertThat(add("http://10.0.0.5:8545", "env:TXGW_NODE_GETH")).isEqualTo(2);
    assertThat(err).contains("must be https off loopback", "TXGW_NODE_ALLOW_PLAIN_HTTP");
    assertThat(add("https://10.0.0.5:8545", "env:TXGW_NODE_GETH")).isZero();
  }

  @Test
  void aUrlPathHoldingAKeyIsNeverPrinted() {
    assertThat(add("https://mainnet.example.io/v3/SECRETKEY", "env:TXGW_NODE_INFURA")).isZero();
    assertThat(out).contains("https://mainnet.example.io:443").doesNotContain("SECRETKEY");
    assertThat(run("nodes", "list")).isZero();
    assertThat(out).contains("https://mainnet.example.io:443").doesNotContain("SECRETKEY");
    assertThat(run("nodes", "list", "--json")).isZero();
    assertThat(out).contains("https://mainnet.example.io:443").doesNotContain("SECRETKEY");
    assertThat(add("https://mainnet.example.io/v3/SECRET KEY", "env:TXGW_NODE_INFURA"))
        .isEqualTo(2);
    assertThat(err).contains("url is not a URL").doesNotContain("SECRET");
  }

  @Test
  void theCommandLineAuthenticatesWithItsIdentityFileAndOthersAreLockedOut(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path auth = dir.resolve("zk-auth");
    java.nio.file.Files.writeString(auth, "txgw:cli-password\n");
    assertThat(
            run(
                "nodes",
                "add",
                "ETH",
                "anvil",
                "--url",
                "http://127.0.0.1:8545",
                "--max-rps",
                "5",
                "--zk-auth-file",
                auth.toString()))
        .isZero();
    assertThat(run("nodes", "list", "--zk-auth-file", auth.toString())).isZero();
    assertThat(out).contains("anvil");
    assertThat(run("nodes", "list")).isEqualTo(1);
    assertThat(err).contains("NoAuth");
    assertThat(run("nodes", "remove", "ETH", "anvil")).isEqualTo(1);
    assertThat(run("pause", "--chain", "ETH", "--zk-auth-file", auth.toString())).isZero();
    assertThat(run("resume")).isEqualTo(1);
  }

  @Test
  void aTreeMadeBeforeTheIdentityIsListedAndClosedByZkAcl(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path auth = dir.resolve("zk-auth");
    java.nio.file.Files.writeString(auth, "txgw:cli-password");
    assertThat(add("http://127.0.0.1:8545", "env:TXGW_NODE_GETH")).isZero();
    assertThat(run("pause", "--chain", "BTC")).isZero();

    assertThat(run("zk-acl", "--zk-auth-file", auth.toString())).isEqualTo(1);
    assertThat(out)
        .contains("/txgw/nodes/ETH/geth-1 world:anyone=rwcda", "/txgw/control/paused/BTC");
    assertThat(run("zk-acl", "--apply", "--zk-auth-file", auth.toString())).isZero();
    assertThat(run("zk-acl", "--zk-auth-file", auth.toString())).isZero();
    assertThat(out).contains("0 znode(s)");

    assertThat(run("nodes", "list")).isEqualTo(1);
    assertThat(err).contains("NoAuth");
    assertThat(run("resume")).isEqualTo(1);
    assertThat(run("nodes", "list", "--zk-auth-file", auth.toString())).isZero();
    assertThat(out).contains("geth-1");
  }

  /** Runs exactly {@code args}, the connection wherever they put it. */
  private int runAsGiven(String... args) {
    StringWriter o = new StringWriter();
    StringWriter e = new StringWriter();
    int code = Txgw.run(new PrintWriter(o, true), new PrintWriter(e, true), args);
    out = o.toString();
    err = e.toString();
    return code;
  }

  @Test
  void theZooKeeperOptionWorksBeforeTheCommandAsAfterIt() {
    String zk = zooKeeper.getConnectString();
    assertThat(
            runAsGiven(
                "-z",
                zk,
                "nodes",
                "add",
                "ETH",
                "geth-1",
                "--url",
                "http://127.0.0.1:8545",
                "--max-rps",
                "200"))
        .as(err)
        .isZero();
    assertThat(runAsGiven("--zookeeper=" + zk, "--connect-timeout", "5", "nodes", "list"))
        .as(err)
        .isZero();
    assertThat(out).contains("geth-1");
    assertThat(runAsGiven("-z" + zk, "pause", "--chain", "ETH")).as(err).isZero();
    assertThat(runAsGiven("--zookeeper", zk, "budgets")).as(err).isZero();
    assertThat(runAsGiven("-z", zk, "resume")).as(err).isZero();
    assertThat(runAsGiven("nodes", "list", "-z", zk)).as(err).isZero();
    assertThat(out).contains("geth-1");
  }

  @Test
  void connectionOptionsBeforeTheCommandMoveAfterItAndBeforeAnEndOfOptions() {
    assertThat(ConnectionOptions.last("-z", "h:1", "pause", "--reason", "x", "--", "y"))
        .containsExactly("pause", "--reason", "x", "-z", "h:1", "--", "y");
    assertThat(ConnectionOptions.last("--zk-auth-file", "f", "-zh:1", "nodes", "list"))
        .containsExactly("nodes", "list", "--zk-auth-file", "f", "-zh:1");
    // No command after them, or another option first: left for picocli to answer.
    assertThat(ConnectionOptions.last("-z", "h:1")).containsExactly("-z", "h:1");
    assertThat(ConnectionOptions.last("--help", "-z", "h:1", "nodes"))
        .containsExactly("--help", "-z", "h:1", "nodes");
    assertThat(ConnectionOptions.last("-z", "h:1", "--version"))
        .containsExactly("-z", "h:1", "--version");
  }

  @Test
  void anUnknownChainOrMissingOptionIsAUsageError() {
    assertThat(run("pause", "--chain", "DOGE")).isEqualTo(2);
    assertThat(err).contains("DOGE", "BTC, ETH");
    assertThat(run("nodes", "add", "ETH", "anvil")).isEqualTo(2);
    assertThat(err).contains("--url", "--max-rps");
  }

  @Test
  void pauseAndResumeAreSeenByEveryWatcher() throws Exception {
    try (CuratorFramework client =
            ZkClients.open(zooKeeper.getConnectString())
                .newClient(10_000, 5_000, new RetryOneTime(100));
        Controls controls = new Controls(client)) {
      client.start();
      controls.watch();
      assertThat(run("pause", "--chain", "ETH", "--reason", "node upgrade")).isZero();
      await().atMost(Duration.ofSeconds(5)).until(() -> controls.isPaused(Chain.ETH));
      assertThat(controls.isPaused(Chain.BTC)).isFalse();
      assertThat(run("pause")).isZero();
      await().atMost(Duration.ofSeconds(5)).until(() -> controls.isPaused(Chain.BTC));
      assertThat(run("resume", "--chain", "BTC")).isZero();
      assertThat(err).contains("all chains are still paused");
      assertThat(run("resume")).isZero();
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> !controls.isPaused(Chain.ETH) && !controls.isPaused(Chain.BTC));
    }
  }

  @Test
  void anUnreachableZooKeeperIsAClearErrorWithinTheTimeout() throws Exception {
    String connect = zooKeeper.getConnectString();
    zooKeeper.stop();
    StringWriter e = new StringWriter();
    int code =
        Txgw.run(
            new PrintWriter(new StringWriter()),
            new PrintWriter(e, true),
            "nodes",
            "list",
            "-z",
            connect,
            "--connect-timeout",
            "1");
    assertThat(code).isEqualTo(3);
    assertThat(e.toString()).contains("cannot reach ZooKeeper at " + connect + " within 1 s");
  }
}
