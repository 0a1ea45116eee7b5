package io.txgw.coordinator;

import java.util.Map;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;

/** A real ZooKeeper server for tests, on a free port of loopback only. */
public final class LoopbackZooKeeper {
  private LoopbackZooKeeper() {}

  public static TestingServer start() throws Exception {
    // TestingServer otherwise listens on every interface.
    return new TestingServer(
        new InstanceSpec(
            null,
            -1,
            -1,
            -1,
            true,
            -1,
            -1,
            -1,
            Map.of("clientPortAddress", "127.0.0.1"),
            "127.0.0.1"),
        true);
  }
}
