package io.txgw.gateway.kafka;

/** A batch write that did not end in a commit, and what is known of the batch's fate. */
public final class BatchWriteException extends RuntimeException {
  /** Why the write failed; each says whether the batch may be in Kafka all the same. */
  public enum Reason {
    /**
     * The transaction is known to have aborted (a record of it was refused, or it failed before its
     * commit was asked for): nothing of the batch was written.
     */
    ABORTED(false),
    /** No lane took the batch before its deadline: it was never sent, and never will be. */
    NO_LANE(false),
    /** The writer is closed: the batch was never sent. */
    CLOSED(false),
    /** A record of the batch is larger than the topic takes: the batch was never sent. */
    TOO_LARGE(false),
    /**
     * The commit was asked for and not confirmed (timed out twice, failed otherwise, the producer
     * was fenced or closed, or the request's deadline passed): the transaction may have committed,
     * so the batch is not known to be written or not. Its {@link BatchWrite#fate() fate} tells
     * later.
     */
    UNCONFIRMED(true);

    private final boolean mayBeWritten;

    Reason(boolean mayBeWritten) {
      this.mayBeWritten = mayBeWritten;
    }
  }

  private final Reason reason;

  BatchWriteException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }

  /** True when the batch may be in Kafka although its request failed. */
  public boolean mayBeWritten() {
    return reason.mayBeWritten;
  }
}
