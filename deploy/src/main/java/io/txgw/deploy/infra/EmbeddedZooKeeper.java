package io.txgw.deploy.infra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;

/** A real standalone ZooKeeper server in this JVM, bound to loopback on a free port. */
public final class EmbeddedZooKeeper implements ZooKeeperService {
  private final ZooKeeperServer server;
  private final ServerCnxnFactory factory;
  private final int port;

  public EmbeddedZooKeeper(Path dataDir) {
    try {
      Path snap = Files.createDirectories(dataDir.resolve("snap"));
      Path txlog = Files.createDirectories(dataDir.resolve("log"));
      this.server = new ZooKeeperServer(snap.toFile(), txlog.toFile(), 500);
      // Port 0: the kernel picks a port and binds it in one step, so nothing started alongside
      // can take it between a choice and the bind.
      this.factory = ServerCnxnFactory.createFactory(new InetSocketAddress("127.0.0.1", 0), 200);
      this.port = factory.getLocalPort();
      factory.startup(server);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start ZooKeeper", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting ZooKeeper", e);
    }
  }

  @Override
  public String connectString() {
    return "127.0.0.1:" + port;
  }

  @Override
  public void close() {
    factory.shutdown();
    server.shutdown();
  }
}
