package io.txgw.deploy.infra;

import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.KafkaSecurity;
import io.txgw.common.kafka.TopicSettings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;

/**
 * A real Kafka cluster of {@code size} KRaft nodes on loopback, each broker and controller in one,
 * each in a JVM of its own: a node can be killed with SIGKILL and started again on its data, as in
 * the fault drills. Internal topics are replicated three ways and take a write once two hold it, as
 * txgw's topics do in production ({@link #topicSettings}).
 */
public final class KafkaCluster implements KafkaService {
  private final Path dir;
  private final int size;
  private final int[] ports;
  private final int[] controllerPorts;

  /**
   * A second listener on each node, reached through a proxy of its own and advertised at the
   * proxy's address: a client bootstrapped there talks to every node through the proxies only, so
   * cutting them cuts that client off the whole cluster while the others go on.
   */
  private final int[] cuttablePorts;

  private final TcpProxy[] proxies;
  private final ChildProcess[] nodes;

  public KafkaCluster(Path dir, int size) {
    if (size < 3) {
      throw new IllegalArgumentException("a cluster that survives a node's loss has 3 nodes");
    }
    this.dir = dir;
    this.size = size;
    ports = new int[size];
    controllerPorts = new int[size];
    nodes = new ChildProcess[size];
    cuttablePorts = new int[size];
    proxies = new TcpProxy[size];
    for (int i = 0; i < size; i++) {
      ports[i] = Ports.freeLoopbackPort();
      controllerPorts[i] = Ports.freeLoopbackPort();
      cuttablePorts[i] = Ports.freeLoopbackPort();
      proxies[i] = new TcpProxy("kafka-" + (i + 1), 0, cuttablePorts[i]);
    }
    String clusterId = Uuid.randomUuid().toString();
    try {
      format(clusterId);
    } catch (RuntimeException e) {
      close(); // the proxies, already listening
      throw e;
    }
    try {
      for (int i = 0; i < size; i++) {
        start(i);
      }
      awaitBrokers(size, Duration.ofSeconds(90));
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private void format(String clusterId) {
    try {
      for (int i = 0; i < size; i++) {
        Path config = writeConfig(i);
        ByteArrayOutputStream formatLog = new ByteArrayOutputStream();
        int rc =
            StorageTool.execute(
                new String[] {"format", "-t", clusterId, "-c", config.toString()},
                new PrintStream(formatLog, true, StandardCharsets.UTF_8));
        if (rc != 0) {
          throw new IllegalStateException(
              "kafka storage format failed: " + formatLog.toString(StandardCharsets.UTF_8));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare the cluster's data directories", e);
    }
  }

  /** The replication txgw's topics get on this cluster: three replicas, two in sync. */
  public static TopicSettings topicSettings() {
    return new TopicSettings(3, 2);
  }

  private Path config(int node) {
    return dir.resolve("node-" + (node + 1) + ".properties");
  }

  private Path writeConfig(int node) throws IOException {
    StringJoiner voters = new StringJoiner(",");
    for (int i = 0; i < size; i++) {
      voters.add((i + 1) + "@127.0.0.1:" + controllerPorts[i]);
    }
    Properties props = new Properties();
    props.put("process.roles", "broker,controller");
    props.put("node.id", Integer.toString(node + 1));
    props.put("controller.quorum.voters", voters.toString());
    props.put(
        "listeners",
        "PLAINTEXT://127.0.0.1:"
            + ports[node]
            + ",CONTROLLER://127.0.0.1:"
            + controllerPorts[node]
            + ",CUTTABLE://127.0.0.1:"
            + cuttablePorts[node]);
    props.put(
        "advertised.listeners",
        "PLAINTEXT://127.0.0.1:" + ports[node] + ",CUTTABLE://127.0.0.1:" + proxies[node].port());
    props.put("controller.listener.names", "CONTROLLER");
    props.put(
        "listener.security.protocol.map",
        "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,CUTTABLE:PLAINTEXT");
    props.put("inter.broker.listener.name", "PLAINTEXT");
    Path data = dir.resolve("node-" + (node + 1));
    Files.createDirectories(data);
    props.put("log.dirs", data.toAbsolutePath().toString());
    props.put("offsets.topic.replication.factor", "3");
    props.put("offsets.topic.num.partitions", "6");
    props.put("transaction.state.log.replication.factor", "3");
    props.put("transaction.state.log.min.isr", "2");
    props.put("transaction.state.log.num.partitions", "6");
    props.put("share.coordinator.state.topic.replication.factor", "3");
    props.put("share.coordinator.state.topic.min.isr", "2");
    props.put("default.replication.factor", "3");
    props.put("min.insync.replicas", "2");
    // A replica that missed writes never becomes leader: what was taken is never lost.
    props.put("unclean.leader.election.enable", "false");
    props.put("group.initial.rebalance.delay.ms", "0");
    props.put("message.max.bytes", Integer.toString(16 * 1024 * 1024));
    props.put("auto.create.topics.enable", "false");
    try (OutputStream out = Files.newOutputStream(config(node))) {
      props.store(out, "txgw local cluster node " + (node + 1));
    }
    return config(node);
  }

  /** Starts node {@code node} (0-based) on its data; it rejoins the cluster by itself. */
  public synchronized void start(int node) {
    if (nodes[node] != null && nodes[node].isAlive()) {
      throw new IllegalStateException("node " + (node + 1) + " is running");
    }
    nodes[node] =
        ChildProcess.java(
            "kafka-" + (node + 1),
            List.of("-Xmx384m"),
            "kafka.Kafka",
            List.of(config(node).toString()),
            dir);
  }

  /** Kills node {@code node} with SIGKILL, as a power cut would. */
  public synchronized void kill(int node) {
    nodes[node].crash();
    nodes[node].close();
  }

  /** Waits until {@code brokers} brokers are registered and answer. */
  public void awaitBrokers(int brokers, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (Admin admin = admin()) {
      while (true) {
        try {
          if (admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).size() >= brokers) {
            return;
          }
        } catch (Exception e) {
          // Not up yet.
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              brokers + " brokers not up within " + timeout + "; logs in " + dir);
        }
        Thread.sleep(250);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while the cluster started", e);
    }
  }

  /** The node (0-based) leading the most partitions of {@code topic}. */
  public int leaderOfMost(String topic) throws Exception {
    try (Admin admin = admin()) {
      TopicDescription described =
          admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
      Map<Integer, Integer> led = new HashMap<>();
      for (TopicPartitionInfo p : described.partitions()) {
        if (p.leader() != null) {
          led.merge(p.leader().id(), 1, Integer::sum);
        }
      }
      return led.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey() - 1;
    }
  }

  /** The node (0-based) leading partition {@code partition} of {@code topic}. */
  public int leaderOf(String topic, int partition) throws Exception {
    return describe(topic).partitions().get(partition).leader().id() - 1;
  }

  /** How many partitions {@code topic} has. */
  public int partitions(String topic) throws Exception {
    return describe(topic).partitions().size();
  }

  private TopicDescription describe(String topic) throws Exception {
    try (Admin admin = admin()) {
      return admin
          .describeTopics(List.of(topic))
          .allTopicNames()
          .get(30, TimeUnit.SECONDS)
          .get(topic);
    }
  }

  /** Whether every partition of {@code topic} has all its replicas in sync again. */
  public boolean fullyInSync(String topic) throws Exception {
    try (Admin admin = admin()) {
      TopicDescription described =
          admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
      return described.partitions().stream().allMatch(p -> p.isr().size() == p.replicas().size());
    }
  }

  public Admin admin() {
    return Admin.create(
        Map.of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrapServers(),
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
            30_000));
  }

  @Override
  public String bootstrapServers() {
    StringJoiner all = new StringJoiner(",");
    for (int port : ports) {
      all.add("127.0.0.1:" + port);
    }
    return all.toString();
  }

  /** The environment a txgw process needs: every node, and the cluster's replication. */
  public Map<String, String> clientEnv() {
    Map<String, String> env = new HashMap<>(topicSettings().env());
    env.put("TXGW_KAFKA_BOOTSTRAP", bootstrapServers());
    return env;
  }

  /** As {@link #clientEnv()}: the cluster takes plaintext connections from anyone. */
  @Override
  public Map<String, String> clientEnv(String user) {
    return clientEnv();
  }

  @Override
  public KafkaConnection connection(String user) {
    return new KafkaConnection(bootstrapServers(), KafkaSecurity.fromEnv(clientEnv()));
  }

  /** Every node's address through its proxy: a client bootstrapped here can be cut off. */
  public String cuttableBootstrapServers() {
    StringJoiner all = new StringJoiner(",");
    for (TcpProxy proxy : proxies) {
      all.add("127.0.0.1:" + proxy.port());
    }
    return all.toString();
  }

  /** Cuts the clients bootstrapped at {@link #cuttableBootstrapServers} off every node. */
  public void cutProxiedClients() {
    for (TcpProxy proxy : proxies) {
      proxy.cut();
    }
  }

  /** Lets the clients bootstrapped at {@link #cuttableBootstrapServers} reach the nodes again. */
  public void restoreProxiedClients() {
    for (TcpProxy proxy : proxies) {
      proxy.restore();
    }
  }

  @Override
  public synchronized void close() {
    // Killed at once: nothing of the cluster outlives it, and the last node stopped gracefully
    // would wait for a controller quorum that is already gone, until it is killed anyway.
    for (ChildProcess node : nodes) {
      if (node != null) {
        node.crash();
        node.close();
      }
    }
    for (TcpProxy proxy : proxies) {
      if (proxy != null) {
        proxy.close();
      }
    }
  }
}
