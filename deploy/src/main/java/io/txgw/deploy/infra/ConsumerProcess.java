package io.txgw.deploy.infra;

import io.txgw.consumer.ConsumerMain;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A consumer in a JVM of its own, so that it can be killed with SIGKILL or frozen with SIGSTOP like
 * a real box, by its PID.
 */
public final class ConsumerProcess implements Closeable {
  private final String id;
  private final Map<String, String> env;
  private final Path logDir;
  private ChildProcess process;
  private int starts;

  public ConsumerProcess(String id, Map<String, String> env, Path logDir) {
    this.id = id;
    this.env = Map.copyOf(env);
    this.logDir = logDir;
  }

  /** Starts (or starts again) the consumer with the same id, fencing any predecessor. */
  public ConsumerProcess start() {
    return start(Map.of());
  }

  /** Starts it with {@code extraEnv} on top of its environment, for this start only. */
  public ConsumerProcess start(Map<String, String> extraEnv) {
    Map<String, String> startEnv = new java.util.HashMap<>(env);
    startEnv.putAll(extraEnv);
    starts++;
    List<String> command = ChildProcess.javaLauncher(logDir);
    command.addAll(
        List.of(
            "-Xmx256m",
            "-XX:+UseSerialGC",
            // Each broadcast is logged, so a test can tell who sent what and when.
            "-Dorg.slf4j.simpleLogger.log.io.txgw.consumer.SendRound=debug",
            "-cp",
            System.getProperty("java.class.path"),
            ConsumerMain.class.getName()));
    process =
        ChildProcess.start(
            id, command, Path.of("."), startEnv, logDir.resolve(id + "-" + starts + ".log"));
    return this;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process != null && process.isAlive();
  }

  /** SIGKILL: no shutdown hook, no flush, no goodbye to the group. */
  public void kill() {
    ProcessHandle.of(process.pid()).ifPresent(ProcessHandle::destroyForcibly);
    try {
      ProcessHandle.of(process.pid()).ifPresent(h -> h.onExit().join());
    } finally {
      process.close();
    }
  }

  /** SIGSTOP: the process stays, frozen, as in a long GC pause. */
  public void freeze() {
    signal("STOP");
  }

  /** SIGCONT: the frozen process runs on as if nothing happened. */
  public void thaw() {
    signal("CONT");
  }

  private void signal(String name) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public Path logDir() {
    return logDir;
  }

  @Override
  public String toString() {
    return id;
  }

  @Override
  public void close() {
    if (process != null) {
      thawQuietly();
      process.close();
    }
  }

  private void thawQuietly() {
    if (process.isAlive()) {
      try {
        signal("CONT");
      } catch (RuntimeException e) {
        // Already running or gone: closing it is all that is left to do.
      }
    }
  }
}
