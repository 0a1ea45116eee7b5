package io.txgw.loadgen;

import io.txgw.common.validation.BatchSubmission;

/** Where a box sends its payouts: the gateway's HTTP API or Kafka directly. */
interface Target extends AutoCloseable {
  /**
   * Sends one batch and waits for its acknowledgement.
   *
   * @return null when accepted, else why not (an HTTP status, an error)
   */
  String send(BatchSubmission batch) throws Exception;

  @Override
  default void close() {}
}
