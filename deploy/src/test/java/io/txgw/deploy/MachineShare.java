package io.txgw.deploy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets integration test classes run in two forks at once and still keep a {@link RunsAlone} class
 * by itself: each top-level class holds a lock on one file (the {@code txgw.it.lock} property) for
 * its whole run, shared by most, exclusive for a class that runs alone. Without the property (one
 * fork, a class run from an IDE) it does nothing.
 *
 * <p>An exclusive request waits for the shared holders to finish their classes, and a lock frees
 * completely between two classes of one fork, so a waiting class gets its turn at the next class
 * boundary. Registered for every class through the service loader (see junit-platform.properties).
 */
public final class MachineShare implements BeforeAllCallback {
  private static final Logger log = LoggerFactory.getLogger(MachineShare.class);
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(MachineShare.class);

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    String file = System.getProperty("txgw.it.lock");
    Class<?> type = context.getRequiredTestClass();
    // Nested classes run inside their outer class's lock; a second lock in this JVM would throw.
    if (file == null || file.isEmpty() || type.getEnclosingClass() != null) {
      return;
    }
    boolean alone = type.isAnnotationPresent(RunsAlone.class);
    long asked = System.nanoTime();
    FileChannel channel =
        FileChannel.open(
            Path.of(file),
            StandardOpenOption.CREATE,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.lock(0, Long.MAX_VALUE, !alone);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    long waitedMs = (System.nanoTime() - asked) / 1_000_000;
    if (waitedMs > 1_000) {
      log.info(
          "{} waited {} s for {}",
          type.getSimpleName(),
          waitedMs / 1_000,
          alone ? "the machine to itself" : "a class running alone to finish");
    }
    context
        .getStore(NAMESPACE)
        .put(
            "lock",
            (ExtensionContext.Store.CloseableResource)
                () -> {
                  // Released after the class's @AfterAll: its stack is stopped by then.
                  lock.release();
                  channel.close();
                });
  }
}
