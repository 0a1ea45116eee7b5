package io.txgw.consumer.chain;

/**
 * The node could not be reached before anything was sent for a payout. Nothing happened on chain;
 * the payout must be tried again later, not recorded.
 */
public final class NodeUnavailableException extends Exception {
  public NodeUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
