package io.txgw.deploy.infra;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.StringJoiner;
import org.apache.zookeeper.server.quorum.QuorumPeerMain;

/**
 * A real ZooKeeper ensemble of three or more servers on loopback, each in a JVM of its own, so that
 * one (the leader, say) can be killed with SIGKILL and started again on its data, as in the fault
 * drills. The servers answer the {@code srvr} four-letter word only, which tells each one's role.
 */
public final class ZooKeeperEnsemble implements ZooKeeperService {
  private final Path dir;
  private final int size;
  private final int[] clientPorts;
  private final int[] quorumPorts;
  private final int[] electionPorts;
  private final ChildProcess[] servers;

  public ZooKeeperEnsemble(Path dir, int size) {
    if (size < 3 || size % 2 == 0) {
      throw new IllegalArgumentException("an ensemble that survives a server's loss has 3, 5 ...");
    }
    this.dir = dir;
    this.size = size;
    clientPorts = new int[size];
    quorumPorts = new int[size];
    electionPorts = new int[size];
    servers = new ChildProcess[size];
    for (int i = 0; i < size; i++) {
      clientPorts[i] = Ports.freeLoopbackPort();
      quorumPorts[i] = Ports.freeLoopbackPort();
      electionPorts[i] = Ports.freeLoopbackPort();
    }
    try {
      for (int i = 0; i < size; i++) {
        writeConfig(i);
      }
      for (int i = 0; i < size; i++) {
        start(i);
      }
      awaitQuorum(Duration.ofSeconds(60));
    } catch (IOException e) {
      close();
      throw new UncheckedIOException("cannot prepare the ensemble's data directories", e);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private Path config(int server) {
    return dir.resolve("zk-" + (server + 1) + ".cfg");
  }

  private void writeConfig(int server) throws IOException {
    Path data = Files.createDirectories(dir.resolve("zk-" + (server + 1)));
    Files.writeString(data.resolve("myid"), Integer.toString(server + 1));
    Properties props = new Properties();
    props.put("tickTime", "500");
    props.put("initLimit", "20");
    props.put("syncLimit", "5");
    props.put("dataDir", data.toAbsolutePath().toString());
    props.put("clientPort", Integer.toString(clientPorts[server]));
    props.put("clientPortAddress", "127.0.0.1");
    // Sessions may last up to 20 ticks (10 s): the consumers ask for 15 s and get 10.
    props.put("maxSessionTimeout", "60000");
    props.put("admin.enableServer", "false");
    props.put("4lw.commands.whitelist", "srvr");
    props.put("maxClientCnxns", "200");
    for (int i = 0; i < size; i++) {
      props.put(
          "server." + (i + 1),
          "127.0.0.1:" + quorumPorts[i] + ":" + electionPorts[i] + ";127.0.0.1:" + clientPorts[i]);
    }
    try (OutputStream out = Files.newOutputStream(config(server))) {
      props.store(out, "txgw local ensemble server " + (server + 1));
    }
  }

  /** Starts server {@code server} (0-based) on its data; it rejoins the ensemble by itself. */
  public synchronized void start(int server) {
    if (servers[server] != null && servers[server].isAlive()) {
      throw new IllegalStateException("server " + (server + 1) + " is running");
    }
    servers[server] =
        ChildProcess.java(
            "zookeeper-" + (server + 1),
            List.of("-Xmx128m", "-XX:+UseSerialGC", "-Dzookeeper.jmx.log4j.disable=true"),
            QuorumPeerMain.class.getName(),
            List.of(config(server).toString()),
            dir);
  }

  /** Kills server {@code server} with SIGKILL, as a power cut would. */
  public synchronized void kill(int server) {
    servers[server].crash();
    servers[server].close();
  }

  /** The server (0-based) that leads now; throws when none does. */
  public int leader() {
    for (int i = 0; i < size; i++) {
      if ("leader".equals(mode(i))) {
        return i;
      }
    }
    throw new IllegalStateException("no ZooKeeper server leads");
  }

  /** Whether every server runs and is a leader or a follower of one. */
  public boolean fullyServing() {
    int leaders = 0;
    for (int i = 0; i < size; i++) {
      String mode = mode(i);
      if (mode == null) {
        return false;
      }
      leaders += mode.equals("leader") ? 1 : 0;
    }
    return leaders == 1;
  }

  /** A quorum: a leader and enough followers to take writes. */
  public boolean hasQuorum() {
    int serving = 0;
    boolean led = false;
    for (int i = 0; i < size; i++) {
      String mode = mode(i);
      if (mode != null) {
        serving++;
        led |= mode.equals("leader");
      }
    }
    return led && serving > size / 2;
  }

  /** Waits until the ensemble has a leader and a majority serving. */
  public void awaitQuorum(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!hasQuorum()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "no ZooKeeper quorum within " + timeout + "; logs in " + dir);
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while the ensemble started", e);
      }
    }
  }

  /** The server's role from its {@code srvr} answer ("leader", "follower"), null if none. */
  private String mode(int server) {
    if (servers[server] == null || !servers[server].isAlive()) {
      return null;
    }
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", clientPorts[server]), 1_000);
      socket.setSoTimeout(2_000);
      OutputStream out = socket.getOutputStream();
      out.write("srvr".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      String answer = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
      for (String line : answer.split("\n")) {
        if (line.startsWith("Mode: ")) {
          String mode = line.substring("Mode: ".length()).trim();
          return mode.equals("leader") || mode.equals("follower") ? mode : null;
        }
      }
      // "This ZooKeeper instance is not currently serving requests": electing.
      return null;
    } catch (IOException e) {
      return null;
    }
  }

  /** Every server's client address, as a ZooKeeper client's connect string lists them. */
  @Override
  public String connectString() {
    StringJoiner all = new StringJoiner(",");
    for (int port : clientPorts) {
      all.add("127.0.0.1:" + port);
    }
    return all.toString();
  }

  /** Server {@code server}'s client port, for a proxy put in front of it. */
  public int clientPort(int server) {
    return clientPorts[server];
  }

  public int size() {
    return size;
  }

  @Override
  public synchronized void close() {
    for (ChildProcess server : servers) {
      if (server != null) {
        server.close();
      }
    }
  }
}
