package io.txgw.consumer.chain;

import io.txgw.common.model.Chain;
import io.txgw.common.model.Payout;

/**
 * Pays payouts on one chain through one node. Calls for one sending account arrive in order from
 * one thread; an implementation never sends a payout's value twice, and when it cannot tell whether
 * a send happened it asks the chain and answers UNKNOWN rather than guess.
 */
public interface ChainSender extends AutoCloseable {
  Chain chain();

  /** The node's name, recorded with each result. */
  String nodeName();

  /**
   * Sends one payout and establishes on the node that the transaction exists.
   *
   * @throws NodeUnavailableException when the node could not be reached and nothing was sent
   */
  SendOutcome send(Payout payout) throws NodeUnavailableException, InterruptedException;

  @Override
  default void close() {}
}
