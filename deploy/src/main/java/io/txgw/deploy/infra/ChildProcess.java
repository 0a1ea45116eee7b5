package io.txgw.deploy.infra;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A process this project started, with its output in a log file. It is stopped by its own PID (and
 * its descendants), never by name, and also when the JVM exits.
 */
public final class ChildProcess implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(ChildProcess.class);

  private final String name;
  private final Process process;
  private final Path logFile;
  private final Thread shutdownHook;

  private ChildProcess(String name, Process process, Path logFile) {
    this.name = name;
    this.process = process;
    this.logFile = logFile;
    this.shutdownHook = new Thread(this::kill, "stop-" + name);
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  public static ChildProcess start(
      String name, List<String> command, Path workDir, Map<String, String> env, Path logFile) {
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(workDir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(logFile.toFile());
    builder.environment().putAll(env);
    try {
      Process process = builder.start();
      log.info("started {} (pid {}), log {}", name, process.pid(), logFile);
      return new ChildProcess(name, process, logFile);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name + ": " + command.get(0), e);
    }
  }

  /**
   * This JVM's {@code java}, with the options given to every JVM started from here: its temporary
   * files in {@code tempDir} (a JVM killed with SIGKILL leaves its RocksDB library and Vert.x cache
   * behind, and they go with the directory), and the {@code txgw.child.jvm.options} property, which
   * the integration tests' build sets to compile with C1 only (a short-lived JVM spends much of its
   * CPU in the C2 compiler, and the suite keeps both cores busy).
   */
  public static List<String> javaLauncher(Path tempDir) {
    List<String> command = new java.util.ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Djava.io.tmpdir=" + tempDir.toAbsolutePath());
    String options = System.getProperty("txgw.child.jvm.options", "").trim();
    if (!options.isEmpty()) {
      command.addAll(List.of(options.split("\\s+")));
    }
    return command;
  }

  /**
   * Starts {@code mainClass} in a JVM of its own on this JVM's class path, with its output in
   * {@code dir/name.log}.
   */
  public static ChildProcess java(
      String name, List<String> jvmOptions, String mainClass, List<String> args, Path dir) {
    List<String> command = javaLauncher(dir);
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass);
    command.addAll(args);
    return start(name, command, dir, Map.of(), dir.resolve(name + ".log"));
  }

  public long pid() {
    return process.pid();
  }

  /** Waits for the process to end by itself; false if it is still running after the timeout. */
  public boolean awaitExit(java.time.Duration timeout) throws InterruptedException {
    return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  public int exitCode() {
    return process.exitValue();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public Path logFile() {
    return logFile;
  }

  @Override
  public void close() {
    kill();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // Already shutting down: the hook itself is running or has run.
    }
  }

  /** Kills the process at once (SIGKILL), as a crash or power cut would; then close() it. */
  public void crash() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    log.info("killed {} (pid {})", name, process.pid());
  }

  private void kill() {
    if (!process.isAlive()) {
      return;
    }
    process.descendants().forEach(ProcessHandle::destroy);
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    log.info("stopped {} (pid {})", name, process.pid());
  }
}
