package io.txgw.gateway.status;

import java.io.Closeable;
import java.util.concurrent.CompletableFuture;

/**
 * Where the view learns that it has read the batches topic past a point: once it has, a batch
 * committed before that point is in its stores, and one that is not there was never committed.
 */
interface ViewTail extends Closeable {
  /**
   * Completes once the view has read every partition of the batches topic up to its end as of this
   * call, transactions open then included (so it waits for them to end).
   */
  CompletableFuture<Void> readPastEnd();

  @Override
  default void close() {}
}
