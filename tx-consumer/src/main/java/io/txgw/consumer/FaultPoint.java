package io.txgw.consumer;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A crash point for crash tests: halts the JVM, without shutdown hooks or flushing, the Nth time
 * the loop reaches a stage. Unarmed ({@link #NONE}) it does nothing.
 */
public final class FaultPoint {
  private static final Logger log = LoggerFactory.getLogger(FaultPoint.class);

  /** Where in a round the process may be made to die. */
  public enum Stage {
    /** The journal transaction is committed; nothing of it is broadcast. */
    AFTER_JOURNAL,
    /** The round is broadcast; its results are not recorded. */
    AFTER_BROADCAST
  }

  public static final FaultPoint NONE = new FaultPoint(null, Integer.MAX_VALUE);

  private final Stage stage;
  private final AtomicInteger remaining;

  private FaultPoint(Stage stage, int count) {
    this.stage = stage;
    this.remaining = new AtomicInteger(count);
  }

  /** Parses {@code after-journal:N} or {@code after-broadcast:N}; empty means none. */
  public static FaultPoint parse(String text) {
    if (text == null || text.isEmpty()) {
      return NONE;
    }
    String[] parts = text.split(":");
    Stage stage = Stage.valueOf(parts[0].toUpperCase(Locale.ROOT).replace('-', '_'));
    return new FaultPoint(stage, Integer.parseInt(parts[1]));
  }

  void reached(Stage at) {
    if (at == stage && remaining.decrementAndGet() == 0) {
      log.warn("fault point {} reached: halting", stage);
      Runtime.getRuntime().halt(137);
    }
  }
}
