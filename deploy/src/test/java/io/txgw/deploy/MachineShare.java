package io.txgw.deploy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * <p>An exclusive request waits for the shared holders to finish their classes. The operating
 * system's locks do not queue, so it is not promised the next turn: a lock frees completely between
 * two classes of one fork and the waiter, woken then, almost always takes it before the fork's next
 * class asks; at worst it waits until the other fork runs out of classes. Registered for every
 * Jupiter class through the service loader (see junit-platform.properties).
 */
public final class MachineShare implements BeforeAllCallback {
  private static final Logger log = LoggerFactory.getLogger(MachineShare.class);
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(MachineShare.class);

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    Class<?> type = context.getRequiredTestClass();
    // Nested classes run inside their outer class's lock; a second lock in this JVM would throw.
    if (type.getEnclosingClass() != null) {
      return;
    }
    AutoCloseable share = take(type);
    context
        .getStore(NAMESPACE)
        .put(
            "lock",
            // Released after the class's @AfterAll (also when its @BeforeAll failed): its stack is
            // stopped by then.
            (ExtensionContext.Store.CloseableResource) share::close);
  }

  /**
   * The machine's share for one test class, for engines this extension does not reach (jqwik's
   * containers call it themselves): held until closed.
   */
  public static AutoCloseable take(Class<?> type) throws IOException {
    String file = System.getProperty("txgw.it.lock");
    if (file == null || file.isEmpty()) {
      return () -> {};
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
    AtomicBoolean closed = new AtomicBoolean();
    return () -> {
      // Once: a caller's cleanup after a failed start may close it a second time.
      if (closed.compareAndSet(false, true)) {
        try {
          lock.release();
        } finally {
          channel.close();
        }
      }
    };
  }
}
