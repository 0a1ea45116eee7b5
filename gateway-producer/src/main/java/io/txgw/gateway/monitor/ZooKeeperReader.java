package io.txgw.gateway.monitor;

import io.txgw.common.budget.BudgetSnapshot;
import io.txgw.common.config.Secret;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;

/**
 * Reads znodes with ZooKeeper's own client, for the one thing the gateway reads there (the node
 * budgets on its dashboard): the coordination library the consumers need for leases, leaders and
 * membership is not needed to read a few nodes a second.
 *
 * <p>A reading that fails (ZooKeeper unreachable, mid-reconnect) throws and the next one tries
 * again; once the session is gone for good (expired, closed, refused its identity) the next read
 * opens a new one.
 */
final class ZooKeeperReader implements BudgetSnapshot.Znodes, Closeable {
  /** Where ZooKeeper is and the identity to read as; null auth reads unauthenticated. */
  record Target(String connectString, Secret auth) {
    boolean isEmpty() {
      return connectString == null || connectString.isEmpty();
    }
  }

  private final Target target;
  private final int sessionTimeoutMs;
  private ZooKeeper session;
  // Set by close: a read still under way on another thread must not open a session nobody closes.
  private boolean closed;

  ZooKeeperReader(Target target, int sessionTimeoutMs) {
    this.target = target;
    this.sessionTimeoutMs = sessionTimeoutMs;
  }

  @Override
  public List<String> children(String path) throws Exception {
    try {
      return session().getChildren(path, false);
    } catch (KeeperException.NoNodeException e) {
      return List.of();
    }
  }

  @Override
  public Optional<byte[]> data(String path) throws Exception {
    try {
      return Optional.of(session().getData(path, false, null));
    } catch (KeeperException.NoNodeException e) {
      return Optional.empty();
    }
  }

  synchronized ZooKeeper session() throws IOException, InterruptedException {
    if (closed) {
      throw new IOException("ZooKeeper reader closed");
    }
    if (session != null && !session.getState().isAlive()) {
      session.close();
      session = null;
    }
    if (session == null) {
      // Connects in the background: a read before it is connected waits for it, or fails with
      // a connection loss the next reading retries.
      session = new ZooKeeper(target.connectString(), sessionTimeoutMs, event -> {});
      if (target.auth() != null) {
        session.addAuthInfo("digest", target.auth().reveal().getBytes(StandardCharsets.UTF_8));
      }
    }
    return session;
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (session != null) {
      try {
        session.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      session = null;
    }
  }
}
