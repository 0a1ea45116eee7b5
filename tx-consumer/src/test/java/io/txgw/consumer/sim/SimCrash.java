package io.txgw.consumer.sim;

/**
 * The calling process dies here: its memory is gone, nothing after this point runs. An error, not
 * an exception, so that no handler in the code under test can catch it and carry on.
 */
final class SimCrash extends Error {
  SimCrash(String where) {
    super("process killed " + where, null, false, false);
  }
}
