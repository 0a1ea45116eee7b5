package io.txgw.gateway.monitor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/** The last readings of a watch, oldest first: the dashboard's charts over the last minutes. */
final class History<T> {
  private final int size;
  private final ArrayDeque<T> readings;

  History(int size) {
    this.size = size;
    this.readings = new ArrayDeque<>(size);
  }

  synchronized void add(T reading) {
    readings.addLast(reading);
    while (readings.size() > size) {
      readings.removeFirst();
    }
  }

  synchronized List<T> list() {
    return new ArrayList<>(readings);
  }
}
