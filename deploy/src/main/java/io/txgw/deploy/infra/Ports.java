package io.txgw.deploy.infra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free loopback ports, so that every run and every test uses its own.
 *
 * <p>A port is handed out free and bound later by the process it is meant for. A port the kernel
 * chose (bind to 0) is one of its ephemeral ports, which it also gives every outgoing connection:
 * in that gap a Kafka or HTTP client of a stack starting alongside could take it ("Address already
 * in use"). So ports come from below the ephemeral range, where the kernel hands out none, at
 * random, each checked free, and none twice in this JVM while it is young.
 */
public final class Ports {
  private Ports() {}

  /** The lowest port handed out: above the well-known and most registered services' ports. */
  static final int LOWEST = 10_000;

  /** Ports handed out by this JVM; at most half its slice, then forgotten all at once. */
  private static final Set<Integer> handedOut = ConcurrentHashMap.newKeySet();

  static final int BELOW_EPHEMERAL = ephemeralStart();

  /**
   * The test JVMs running side by side each take a slice of the range of their own ({@code
   * txgw.ports.fork} of {@code txgw.ports.forks}, set by the failsafe configuration), as the set
   * above keeps only this JVM's ports.
   */
  static final int FORK = Integer.getInteger("txgw.ports.fork", 1);

  static final int FORKS = Integer.getInteger("txgw.ports.forks", 1);

  public static int freeLoopbackPort() {
    int[] slice = slice(FORK, FORKS);
    int lowest = slice[0];
    int span = slice[1] - slice[0];
    if (span >= 1_000) {
      if (handedOut.size() > span / 2) {
        handedOut.clear();
      }
      for (int attempt = 0; attempt < 100; attempt++) {
        int port = lowest + ThreadLocalRandom.current().nextInt(span);
        if (handedOut.add(port) && bindable(port)) {
          return port;
        }
      }
    }
    // A machine whose ephemeral range starts low, or a range found full: the kernel's choice.
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free loopback port", e);
    }
  }

  /** Fork {@code fork} (1-based) of {@code forks}: its first port and the one past its last. */
  static int[] slice(int fork, int forks) {
    int n = Math.max(1, forks);
    int span = (BELOW_EPHEMERAL - LOWEST) / n;
    int lowest = LOWEST + Math.floorMod(fork - 1, n) * span;
    return new int[] {lowest, lowest + span};
  }

  private static boolean bindable(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Where Linux starts its ephemeral ports (32768 by default); elsewhere that default. */
  private static int ephemeralStart() {
    // Read line by line: procfs reports a size of zero, and a read sized by it stops short.
    try (java.io.BufferedReader in =
        Files.newBufferedReader(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))) {
      return Integer.parseInt(in.readLine().strip().split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return 32_768;
    }
  }
}
