package io.txgw.common.concurrent;

import java.util.concurrent.ThreadFactory;

/** Named daemon threads for background work that must never keep a process alive on its own. */
public final class Daemons {
  private Daemons() {}

  public static ThreadFactory named(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
