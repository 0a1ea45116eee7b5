package io.txgw.common.validation;

import java.util.ArrayList;

/**
 * Violations as a request is read: the first {@link #KEPT} are kept, the rest only counted, so that
 * a body of millions of bad items costs a counter, not millions of objects.
 */
public final class ViolationList extends ArrayList<Violation> {
  /** Kept in full; more than any answer lists. */
  public static final int KEPT = 1_000;

  private int dropped;

  @Override
  public boolean add(Violation v) {
    if (size() < KEPT) {
      return super.add(v);
    }
    dropped++;
    return true;
  }

  /** Every violation found, kept or not. */
  public int total() {
    return size() + dropped;
  }
}
