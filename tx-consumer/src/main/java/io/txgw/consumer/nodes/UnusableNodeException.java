package io.txgw.consumer.nodes;

/**
 * A node that must not be called: its entry breaks the rules for node endpoints, or its credentials
 * cannot be read. The message names the reason, never a secret or a URL path.
 */
public final class UnusableNodeException extends RuntimeException {
  public UnusableNodeException(String message) {
    super(message);
  }
}
