package io.txgw.common.kafka;

import java.time.Duration;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.Producer;

/** Transactional producers made ready, for every writer that fences by transactional id. */
public final class TransactionalProducers {
  private TransactionalProducers() {}

  /**
   * A new producer from {@code factory}, initialized: whatever an earlier producer of its
   * transactional id had open is ended at the coordinator (committed if its commit was asked for,
   * aborted otherwise) before this returns, and that producer can write no more. One whose
   * initialization fails is closed at once, so that no sender thread outlives the failure, and the
   * initialization's exception is thrown.
   */
  public static <K, V> Producer<K, V> initialized(Supplier<? extends Producer<K, V>> factory) {
    Producer<K, V> producer = factory.get();
    try {
      producer.initTransactions();
    } catch (RuntimeException e) {
      // The initialization's failure is what the caller decides on (retriable or not); one of the
      // close goes with it.
      try {
        producer.close(Duration.ZERO);
      } catch (RuntimeException closing) {
        e.addSuppressed(closing);
      }
      throw e;
    }
    return producer;
  }
}
