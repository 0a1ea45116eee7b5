package io.txgw.gateway.http;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** A check that a port can be bound, made before a start does anything it cannot undo. */
public final class HttpPorts {
  private HttpPorts() {}

  /**
   * Throws when {@code port} on {@code host} is taken; port 0 (any free one) never is. A check, not
   * a reservation: the port is free again when this returns, and the server's own bind decides.
   */
  public static void ensureFree(String host, int port, String what) {
    if (port == 0) {
      return;
    }
    try (ServerSocket probe = new ServerSocket()) {
      // As the server binds: a port whose last connections are closing is not taken.
      probe.setReuseAddress(true);
      probe.bind(new InetSocketAddress(host, port));
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot bind %s: %s:%d is taken (%s)".formatted(what, host, port, e.getMessage()), e);
    }
  }
}
