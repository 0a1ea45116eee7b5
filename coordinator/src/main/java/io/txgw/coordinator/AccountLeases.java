package io.txgw.coordinator;

import java.io.Closeable;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreMutex;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One lease per sending account, held in ZooKeeper: only the holder may broadcast for the account.
 * A lease is a lock whose node lives as long as the holder's session; the holder stops trusting it
 * the moment its connection is SUSPENDED, because the session (and with it the lease) may already
 * be gone, and trusts it again on RECONNECTED only if the session survived.
 */
public final class AccountLeases implements Closeable, ConnectionStateListener {
  private static final Logger log = LoggerFactory.getLogger(AccountLeases.class);
  public static final String ROOT = "/txgw/leases";

  private final CuratorFramework client;
  private final Map<String, InterProcessSemaphoreMutex> held = new ConcurrentHashMap<>();
  private volatile boolean connected = true;

  public AccountLeases(CuratorFramework client) {
    this.client = client;
    client.getConnectionStateListenable().addListener(this);
  }

  /**
   * Holds the account's lease, acquiring it if needed.
   *
   * @return false when another process holds it or ZooKeeper cannot be reached in time
   */
  public boolean acquire(String account, long timeout, TimeUnit unit) throws InterruptedException {
    if (!connected) {
      return false;
    }
    if (held.containsKey(account)) {
      return true;
    }
    InterProcessSemaphoreMutex lock = new InterProcessSemaphoreMutex(client, path(account));
    try {
      if (!lock.acquire(timeout, unit)) {
        return false;
      }
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      log.warn("lease for {} not acquired: {}", account, e.toString());
      return false;
    }
    held.put(account, lock);
    return true;
  }

  /**
   * True while this process holds the account's lease, trusted or not: while it is, nobody else can
   * have held it since it was taken.
   */
  public boolean isHeld(String account) {
    return held.containsKey(account);
  }

  /** True while this process holds the account's lease and its session is trusted. */
  public boolean holds(String account) {
    return connected && held.containsKey(account);
  }

  /** Gives up the leases of accounts this process no longer serves. */
  public void release(Set<String> accounts) {
    for (String account : accounts) {
      InterProcessSemaphoreMutex lock = held.remove(account);
      if (lock != null) {
        releaseQuietly(account, lock);
      }
    }
  }

  public void releaseAll() {
    release(Set.copyOf(held.keySet()));
  }

  public Set<String> accounts() {
    return Set.copyOf(held.keySet());
  }

  @Override
  public void stateChanged(CuratorFramework c, ConnectionState state) {
    switch (state) {
      case SUSPENDED -> {
        connected = false;
        log.warn("ZooKeeper connection suspended: no broadcast until it is back");
      }
      case LOST -> {
        connected = false;
        // The session is gone and every lease with it; they must be acquired anew.
        held.clear();
        log.warn("ZooKeeper session lost: account leases dropped");
      }
      case RECONNECTED, CONNECTED -> connected = true;
      default -> {}
    }
  }

  private static String path(String account) {
    return ROOT + "/" + URLEncoder.encode(account, StandardCharsets.UTF_8);
  }

  private static void releaseQuietly(String account, InterProcessSemaphoreMutex lock) {
    try {
      lock.release();
    } catch (Exception e) {
      // The session may be gone already, and the lease node with it.
      log.debug("lease for {} not released: {}", account, e.toString());
    }
  }

  @Override
  public void close() {
    releaseAll();
    client.getConnectionStateListenable().removeListener(this);
  }
}
