package io.txgw.deploy.nodes;

/** A node could not bind a port chosen as free: another process took it first. Try new ports. */
final class PortTakenException extends IllegalStateException {
  PortTakenException(String log) {
    super("a port chosen for the node was taken before it could bind it:\n" + log);
  }
}
