package io.txgw.deploy.infra;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP proxy on loopback that can be cut: while cut it forwards nothing, either way, and holds
 * every connection open without an answer, as a network partition does (a client sees silence, not
 * a refusal, and finds out only by its own timeouts). When the line is restored, the connections
 * that lived through the cut are closed, as their peers have given up on them, and new ones are
 * forwarded again. A chunk read just before the cut may still be written just after it, as bytes
 * already in flight arrive on a real network.
 */
public final class TcpProxy implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(TcpProxy.class);

  private final String name;
  private final int targetPort;
  private final ServerSocket server;
  private final Thread acceptor;
  private final List<Socket> open = new ArrayList<>();
  private boolean cut;
  private volatile boolean closed;

  /** Listens on {@code port} (0 for any free one) and forwards to {@code targetPort}. */
  public TcpProxy(String name, int port, int targetPort) {
    this.name = name;
    this.targetPort = targetPort;
    try {
      server = new ServerSocket();
      server.setReuseAddress(true);
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot listen for proxy " + name, e);
    }
    acceptor = new Thread(this::accept, "proxy-" + name);
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  /** Stops forwarding: what is sent either way goes nowhere, and no connection is refused. */
  public synchronized void cut() {
    cut = true;
    log.info("proxy {} cut", name);
  }

  /** Forwards again; connections that lived through the cut are closed. */
  public synchronized void restore() {
    cut = false;
    for (Socket s : open) {
      closeQuietly(s);
    }
    open.clear();
    notifyAll();
    log.info("proxy {} restored", name);
  }

  private void accept() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return; // closed
      }
      synchronized (this) {
        open.add(client);
        if (cut) {
          continue; // held open, unanswered, until the line is restored
        }
      }
      connect(client);
    }
  }

  private void connect(Socket client) {
    Socket upstream = new Socket();
    try {
      // Each chunk goes on as it came: with Nagle's algorithm a chunk read while the last one is
      // unacknowledged waits for the far side's delayed acknowledgement (40 ms on loopback), a
      // delay on every Kafka and ZooKeeper exchange through the line that a direct one lacks.
      client.setTcpNoDelay(true);
      upstream.setTcpNoDelay(true);
      upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 5_000);
    } catch (IOException e) {
      closeQuietly(client);
      closeQuietly(upstream);
      forget(client, upstream);
      return;
    }
    synchronized (this) {
      open.add(upstream);
    }
    pump(client, upstream, "up");
    pump(upstream, client, "down");
  }

  private void pump(Socket from, Socket to, String way) {
    Thread t =
        new Thread(
            () -> {
              byte[] buffer = new byte[16 * 1024];
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                  if (!awaitForwarding(from)) {
                    return;
                  }
                  out.write(buffer, 0, n);
                  out.flush();
                }
              } catch (IOException e) {
                // One side went away: so does the other.
              } finally {
                closeQuietly(from);
                closeQuietly(to);
                forget(from, to);
              }
            },
            "proxy-" + name + "-" + way);
    t.setDaemon(true);
    t.start();
  }

  /**
   * Waits while the line is cut: false once the connection was closed meanwhile (the line was
   * restored and this connection dropped, or the proxy closed).
   */
  private synchronized boolean awaitForwarding(Socket from) {
    while (cut && !closed && !from.isClosed()) {
      try {
        wait(1_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return !closed && !from.isClosed();
  }

  /** Ended connections are dropped, so that the list holds only live ones. */
  private synchronized void forget(Socket a, Socket b) {
    open.remove(a);
    open.remove(b);
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // Closing anyway.
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // Closing anyway.
    }
    for (Socket s : open) {
      closeQuietly(s);
    }
    open.clear();
    notifyAll();
  }
}
