package io.txgw.deploy.infra;

import java.io.Closeable;

/** A ZooKeeper the project started: one server, or an ensemble of several. */
public interface ZooKeeperService extends Closeable {
  /** What a client connects to: every server's address. */
  String connectString();

  @Override
  void close();
}
