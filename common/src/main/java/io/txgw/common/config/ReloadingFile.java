package io.txgw.common.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A value read from a file and read again when the file changes, without a restart: API keys are
 * revoked and spending rights withdrawn by editing the file. The file is looked at no more often
 * than {@code every}, on the caller's thread. A file that no longer parses keeps the last good
 * value and is logged once per change: a half-written edit must not lock every client out, nor let
 * anyone in.
 */
public final class ReloadingFile<T> {
  private static final Logger log = LoggerFactory.getLogger(ReloadingFile.class);

  private final Path path;
  private final Function<Path, T> parse;
  private final Duration every;
  private final Clock clock;
  private volatile T value;
  private volatile Instant nextLook;
  private volatile Object seen;

  /**
   * Reads the file once now.
   *
   * @throws IllegalArgumentException when the first reading fails: a process must not start without
   *     it
   */
  public ReloadingFile(Path path, Function<Path, T> parse, Duration every, Clock clock) {
    this.path = Objects.requireNonNull(path);
    this.parse = parse;
    this.every = every;
    this.clock = clock;
    this.seen = stamp();
    this.value = parse.apply(path);
    this.nextLook = clock.instant().plus(every);
  }

  /** The current value, read again first when the file changed. */
  public T get() {
    Instant now = clock.instant();
    if (now.isBefore(nextLook)) {
      return value;
    }
    synchronized (this) {
      if (now.isBefore(nextLook)) {
        return value;
      }
      nextLook = now.plus(every);
      Object stamp = stamp();
      if (!stamp.equals(seen)) {
        seen = stamp;
        try {
          value = parse.apply(path);
          log.info("{} read again after it changed", path);
        } catch (RuntimeException e) {
          log.error(
              "{} changed but cannot be read; the previous content stays: {}",
              path,
              e.getMessage());
        }
      }
      return value;
    }
  }

  private Object stamp() {
    try {
      BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
      return a.lastModifiedTime().toMillis() + "/" + a.size() + "/" + a.fileKey();
    } catch (IOException e) {
      return "missing";
    }
  }
}
