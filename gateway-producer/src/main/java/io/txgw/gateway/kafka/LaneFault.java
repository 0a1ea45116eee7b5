package io.txgw.gateway.kafka;

import java.time.Instant;

/**
 * Why a writer lane cannot write now, for readiness.
 *
 * @param lane the lane's thread name, {@code batch-writer-<i>}
 * @param cause the error that put the lane in this state
 * @param since when it did
 */
public record LaneFault(String lane, Kind kind, String cause, Instant since) {
  /** What is wrong with the lane. */
  public enum Kind {
    /**
     * Its last transaction failed and none has committed since; it still takes work, and is
     * writable again after a commit, or after a fresh producer of its id initialized (tried when
     * idle, so that a gateway taken out of rotation by its readiness can become ready again).
     */
    LAST_COMMIT_FAILED,
    /**
     * Its commit timed out once and the lane waits for it again: requests it holds are likely to be
     * answered "not confirmed". Cleared by a commit.
     */
    COMMIT_TIMED_OUT,
    /**
     * It has held a batch longer than a commit should take (a producer call stuck, a slow broker);
     * cleared when it lets go of the batch.
     */
    STUCK,
    /** Its producer was closed after a fatal error; a new one is being started. */
    REBUILDING_PRODUCER,
    /** Its thread stopped (the writer is closing). */
    STOPPED
  }
}
