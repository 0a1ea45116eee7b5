package io.txgw.gateway.kafka;

/**
 * What became of a batch in Kafka, which its request's answer may not tell: a request answered at
 * its deadline ("not confirmed") has a batch whose transaction still ends one way or the other.
 */
public enum BatchFate {
  /** Its transaction committed: the batch is in Kafka. */
  COMMITTED,
  /** Its transaction aborted, or it was never sent: nothing of it is in Kafka, nor ever will be. */
  ABORTED,
  /**
   * Its transaction is over at the coordinator, committed or aborted, and the writer cannot tell
   * which: a read_committed reader that reads the batches topic past its present end knows.
   */
  UNKNOWN
}
