package io.txgw.gateway.status;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * The view's stores, read in place: a handle per store and partition, made once and dropped when a
 * read fails (rebalancing, restoring), after which the next read makes them anew.
 */
final class ViewStores {
  /** Where the stores are read, by name and partition: the Streams application, a test driver. */
  interface Source {
    <V> ReadOnlyKeyValueStore<String, V> store(String name, int partition);
  }

  private final Source source;
  private final Map<String, List<ReadOnlyKeyValueStore<String, ?>>> handles =
      new ConcurrentHashMap<>();
  private volatile int batchPartitions;
  private volatile int resultPartitions;

  ViewStores(Source source) {
    this.source = source;
  }

  /** The partition counts of the batches and results topics, which the stores follow. */
  void partitions(int batches, int results) {
    batchPartitions = batches;
    resultPartitions = results;
  }

  /**
   * The value under a key in the partition the producer's default partitioning put it in (the
   * topics are keyed so): one read instead of one per partition.
   */
  <V> V get(String name, String key) {
    List<ReadOnlyKeyValueStore<String, V>> stores = partitions(name);
    try {
      return stores.get(partitionOf(key, stores.size())).get(key);
    } catch (InvalidStateStoreException e) {
      handles.remove(name);
      throw new BatchView.ViewUnavailableException(e);
    }
  }

  /** The values under a key in every partition, for stores keyed otherwise than their topic. */
  <V> List<V> getAll(String name, String key) {
    List<V> values = new ArrayList<>(1);
    try {
      for (ReadOnlyKeyValueStore<String, V> partition : this.<V>partitions(name)) {
        V value = partition.get(key);
        if (value != null) {
          values.add(value);
        }
      }
    } catch (InvalidStateStoreException e) {
      handles.remove(name);
      throw new BatchView.ViewUnavailableException(e);
    }
    return values;
  }

  @SuppressWarnings("unchecked")
  private <V> List<ReadOnlyKeyValueStore<String, V>> partitions(String name) {
    List<ReadOnlyKeyValueStore<String, ?>> found =
        handles.computeIfAbsent(
            name,
            n -> {
              int count = count(n);
              List<ReadOnlyKeyValueStore<String, ?>> list = new ArrayList<>(count);
              for (int p = 0; p < count; p++) {
                list.add(store(n, p));
              }
              return list;
            });
    return (List<ReadOnlyKeyValueStore<String, V>>) (List<?>) found;
  }

  /** A store has the partitions of the topic its task reads. */
  private int count(String name) {
    return switch (name) {
      case BatchStatusTopology.BATCHES, BatchStatusTopology.PAYOUT_IDS -> batchPartitions;
      case BatchStatusTopology.PAYOUTS, BatchStatusTopology.PROGRESS -> resultPartitions;
      default -> throw new IllegalArgumentException("no store " + name);
    };
  }

  private <V> ReadOnlyKeyValueStore<String, V> store(String name, int partition) {
    try {
      return source.store(name, partition);
    } catch (InvalidStateStoreException e) {
      throw new BatchView.ViewUnavailableException(e);
    }
  }

  static int partitionOf(String key, int partitions) {
    return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
  }
}
