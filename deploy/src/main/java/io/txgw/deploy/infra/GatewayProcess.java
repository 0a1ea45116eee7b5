package io.txgw.deploy.infra;

import io.txgw.gateway.GatewayMain;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The gateway in a JVM of its own, as it is deployed, so that its resident memory is its own and
 * can be read from {@code /proc}.
 */
public final class GatewayProcess implements Closeable {
  /** USER_HZ, which Linux fixes at 100 for /proc on every architecture this runs on. */
  private static final int CLOCK_TICKS_PER_SECOND = 100;

  private final ChildProcess process;
  private final int port;

  private GatewayProcess(ChildProcess process, int port) {
    this.process = process;
    this.port = port;
  }

  /**
   * Starts a benchmark's gateway on a free loopback port and returns once it answers ready.
   *
   * @param jvmOptions heap and collector options, as an operator would set them
   */
  public static GatewayProcess start(
      String kafkaBootstrap,
      String apiKeys,
      Map<String, String> trust,
      List<String> jvmOptions,
      Path logDir)
      throws InterruptedException {
    return start(
        kafkaBootstrap,
        apiKeys,
        trust,
        jvmOptions,
        logDir,
        io.txgw.common.kafka.TopicSettings.ONE_BROKER);
  }

  /**
   * Starts a gateway named {@code name} with this environment (its HTTP port chosen here, free, on
   * loopback) and returns once it answers ready.
   */
  public static GatewayProcess start(
      String name, Map<String, String> env, List<String> jvmOptions, Path logDir)
      throws InterruptedException {
    int port = Ports.freeLoopbackPort();
    Map<String, String> withPort = new java.util.HashMap<>(env);
    withPort.put("TXGW_HTTP_PORT", Integer.toString(port));
    return launch(name, withPort, jvmOptions, logDir, port);
  }

  /** As above, on a cluster whose topics take {@code topics}' replication. */
  public static GatewayProcess start(
      String kafkaBootstrap,
      String apiKeys,
      Map<String, String> trust,
      List<String> jvmOptions,
      Path logDir,
      io.txgw.common.kafka.TopicSettings topics)
      throws InterruptedException {
    int port = Ports.freeLoopbackPort();
    return launch(
        "gateway",
        env(kafkaBootstrap, apiKeys, trust, port, logDir.resolve("gateway-state"), topics),
        jvmOptions,
        logDir,
        port);
  }

  private static GatewayProcess launch(
      String name, Map<String, String> env, List<String> jvmOptions, Path logDir, int port)
      throws InterruptedException {
    List<String> command = ChildProcess.javaLauncher(logDir);
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(GatewayMain.class.getName());
    try {
      Files.createDirectories(logDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ChildProcess child =
        ChildProcess.start(name, command, Path.of("."), env, logDir.resolve(name + ".log"));
    GatewayProcess gateway = new GatewayProcess(child, port);
    try {
      gateway.awaitReady(Duration.ofSeconds(90));
    } catch (RuntimeException | InterruptedException e) {
      child.close(); // not left running when it never became ready
      throw e;
    }
    return gateway;
  }

  private static Map<String, String> env(
      String kafkaBootstrap,
      String apiKeys,
      Map<String, String> trust,
      int port,
      Path state,
      io.txgw.common.kafka.TopicSettings topics) {
    Map<String, String> env = new java.util.HashMap<>(trust);
    env.put("TXGW_HTTP_PORT", Integer.toString(port));
    env.put("TXGW_ADMIN_PORT", "0");
    env.put("TXGW_KAFKA_BOOTSTRAP", kafkaBootstrap);
    env.putAll(topics.env());
    env.put("TXGW_API_KEYS", apiKeys);
    env.put("TXGW_GATEWAY_ID", "bench-gateway-" + port);
    // The benchmark measures what the gateway takes, not the rate it allows one client.
    env.put("TXGW_RATE_LIMIT", "0");
    // With its log, where the caller keeps (or removes) what the run leaves.
    env.put("TXGW_STATE_DIR", state.toString());
    return env;
  }

  private void awaitReady(Duration timeout) throws InterruptedException {
    HttpClient http = HttpClient.newHttpClient();
    HttpRequest ready = HttpRequest.newBuilder(URI.create(url() + "/readyz")).GET().build();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("gateway exited; see " + process.logFile());
      }
      try {
        if (http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // Not listening yet.
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException(
        "gateway not ready after " + timeout + "; see " + process.logFile());
  }

  public String url() {
    return "http://127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  /** Resident memory now, in bytes (VmRSS). */
  public long residentBytes() {
    return statusKilobytes("VmRSS:") * 1024;
  }

  /** The most resident memory the process has had, in bytes (VmHWM). */
  public long peakResidentBytes() {
    return statusKilobytes("VmHWM:") * 1024;
  }

  /** CPU time the gateway has used so far (user and system), in seconds. */
  public double cpuSeconds() {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
      // Fields after the command name, which is in parentheses and may hold spaces.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
      return ticks / (double) CLOCK_TICKS_PER_SECOND;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the gateway's CPU time", e);
    }
  }

  private long statusKilobytes(String field) {
    try {
      for (String line :
          Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
        if (line.startsWith(field)) {
          return Long.parseLong(line.substring(field.length()).replace("kB", "").trim());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the gateway's memory", e);
    }
    throw new IllegalStateException(field + " not in /proc status");
  }

  /** Kills the gateway at once (SIGKILL), as a crash would. */
  public void kill() {
    process.crash();
    process.close();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  @Override
  public void close() {
    process.close();
  }
}
