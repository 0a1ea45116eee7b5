package io.txgw.consumer.sim;

/**
 * One record of a simulated partition log. Offsets are dense: transaction markers, which take an
 * offset in a real log, are folded into {@link #state()} instead, so a record's offset is its
 * index.
 *
 * @param producerId the {@link SimProducer#producerId()} that wrote it, or {@link #NO_PRODUCER} for
 *     a plain committed append
 */
public record SimRecord(long offset, String key, Object value, long producerId, State state) {
  /** Producer id of records written outside any transaction. */
  public static final long NO_PRODUCER = -1;

  /** Where the record's transaction stands, as a read_committed reader would judge it. */
  public enum State {
    /** Written in a transaction that has not ended: holds back every read_committed reader. */
    OPEN,
    COMMITTED,
    /** Never visible to a read_committed reader; kept because real logs keep them too. */
    ABORTED
  }

  SimRecord withState(State next) {
    return new SimRecord(offset, key, value, producerId, next);
  }
}
