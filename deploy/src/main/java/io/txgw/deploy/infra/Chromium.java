package io.txgw.deploy.infra;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The system's Chromium for the browser test, installed from Debian's packages on first use (the
 * tests run as root on CI machines; elsewhere install {@code chromium} yourself).
 */
public final class Chromium {
  private static final Logger log = LoggerFactory.getLogger(Chromium.class);
  public static final Path EXECUTABLE = Path.of("/usr/bin/chromium");

  private Chromium() {}

  /** The browser's path, installing it first if it is missing. */
  public static synchronized Path ensureInstalled(Path logDir) throws InterruptedException {
    if (Files.isExecutable(EXECUTABLE)) {
      return EXECUTABLE;
    }
    log.info("installing Debian's chromium (first use); output in {}", logDir);
    run(logDir.resolve("apt-update.log"), List.of("apt-get", "update"));
    run(
        logDir.resolve("apt-chromium.log"),
        List.of("apt-get", "install", "-y", "--no-install-recommends", "chromium"));
    if (!Files.isExecutable(EXECUTABLE)) {
      throw new IllegalStateException("chromium is not at " + EXECUTABLE + " after apt-get");
    }
    return EXECUTABLE;
  }

  private static void run(Path logFile, List<String> command) throws InterruptedException {
    try {
      Files.createDirectories(logFile.getParent());
      ProcessBuilder builder =
          new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(logFile.toFile());
      builder.environment().put("DEBIAN_FRONTEND", "noninteractive");
      Process process = builder.start();
      process.getOutputStream().close();
      if (!process.waitFor(15, TimeUnit.MINUTES)) {
        process.destroyForcibly();
        throw new IllegalStateException(String.join(" ", command) + " took over 15 minutes");
      }
      if (process.exitValue() != 0) {
        throw new IllegalStateException(
            String.join(" ", command)
                + " failed (exit "
                + process.exitValue()
                + "; install chromium as root): "
                + Files.readString(logFile));
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + command.get(0) + ": " + e.getMessage(), e);
    }
  }
}
