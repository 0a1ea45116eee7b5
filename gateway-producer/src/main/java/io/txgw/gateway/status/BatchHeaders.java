package io.txgw.gateway.status;

import io.txgw.common.model.BatchRecord;
import io.txgw.common.model.Chain;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * What a summary needs of a batch, read once: live events and the dashboard ask several times a
 * second, and a batch record lists up to 10,000 payout ids. Accepted content never changes, so a
 * header read once stays true.
 *
 * <p>Bounded both ways, the least recently used dropped first: at most {@code maxBatches} headers,
 * and together at most {@code maxWeight} payout ids accepted earlier (a batch may carry 10,000).
 */
final class BatchHeaders {
  static final int MAX_BATCHES = 1_024;
  static final int MAX_WEIGHT = 100_000;

  /**
   * @param acceptedEarlier the batch's payouts that earlier batches accepted: their results count
   *     for those batches, so a summary reads their states one by one
   */
  record Header(
      String clientId,
      String batchId,
      Chain chain,
      String source,
      Instant acceptedAt,
      int total,
      Map<String, String> acceptedEarlier) {
    static Header of(BatchRecord b) {
      return new Header(
          b.clientId(),
          b.batchId(),
          b.chain(),
          b.source(),
          b.acceptedAt(),
          b.payoutIds().size(),
          b.acceptedEarlier());
    }

    /** What it costs to keep, in payout ids. */
    int weight() {
      return 1 + acceptedEarlier.size();
    }
  }

  private final Function<String, Optional<BatchRecord>> read;
  private final int maxBatches;
  private final int maxWeight;
  private final Map<String, Header> headers;
  private int weight;

  BatchHeaders(Function<String, Optional<BatchRecord>> read) {
    this(read, MAX_BATCHES, MAX_WEIGHT);
  }

  BatchHeaders(Function<String, Optional<BatchRecord>> read, int maxBatches, int maxWeight) {
    this.read = read;
    this.maxBatches = maxBatches;
    this.maxWeight = maxWeight;
    this.headers = new LinkedHashMap<>(Math.min(maxBatches, 1_024), 0.75f, true);
  }

  /** The header of the batch stored under a key, read on first use; empty while unknown. */
  Optional<Header> get(String key) {
    synchronized (headers) {
      Header cached = headers.get(key);
      if (cached != null) {
        return Optional.of(cached);
      }
    }
    // Read outside the lock: a store read may wait on a rebalance, and other keys need not.
    Optional<Header> header = read.apply(key).map(Header::of);
    header.ifPresent(h -> keep(key, h));
    return header;
  }

  private void keep(String key, Header header) {
    synchronized (headers) {
      Header before = headers.put(key, header);
      weight += header.weight() - (before == null ? 0 : before.weight());
      var eldest = headers.values().iterator();
      while (headers.size() > maxBatches || weight > maxWeight) {
        weight -= eldest.next().weight();
        eldest.remove();
      }
    }
  }

  int size() {
    synchronized (headers) {
      return headers.size();
    }
  }

  int weight() {
    synchronized (headers) {
      return weight;
    }
  }
}
