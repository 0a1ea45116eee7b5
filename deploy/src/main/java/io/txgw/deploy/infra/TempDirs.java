package io.txgw.deploy.infra;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

/** Temporary directories of a run: removed with everything in them when the run ends. */
public final class TempDirs {
  private TempDirs() {}

  /** Deletes {@code dir} and its contents; a file that cannot be deleted is left behind. */
  public static void deleteQuietly(Path dir) {
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // A temporary directory left behind is harmless.
    }
  }
}
