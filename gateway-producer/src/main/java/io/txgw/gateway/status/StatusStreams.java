package io.txgw.gateway.status;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.TailProbe;
import io.txgw.common.kafka.TopicSettings;
import io.txgw.common.kafka.Topics;
import java.io.Closeable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The status view's Kafka Streams application: its settings, its start, and when it has caught up
 * with what the topics held at start. {@link BatchView} answers from its stores.
 */
final class StatusStreams implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(StatusStreams.class);

  private final KafkaStreams streams;
  private final KafkaConnection kafka;
  private final String applicationId;
  private final GroupOffsetTail tail;
  private final CountDownLatch caughtUp = new CountDownLatch(1);
  private volatile boolean closed;
  private KafkaStreamsMetrics streamsMetrics;

  /**
   * @param topics the replicas and {@code min.insync.replicas} of the view's own changelog and
   *     repartition topics, as of txgw's; null leaves them to the brokers' defaults
   */
  StatusStreams(
      KafkaConnection kafka,
      String instanceId,
      Path stateDir,
      TopicSettings topics,
      BatchStatusTopology.Listener listener) {
    this.kafka = kafka;
    this.applicationId = "txgw-status-" + instanceId;
    Properties props = new Properties();
    props.putAll(kafka.clientProperties());
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    // Stores and offsets move together, so a restart neither skips nor counts a result twice;
    // and only committed results (the consumers write them in transactions) are read.
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 200);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    // Each gateway is the only member of its view's group. A static member comes back in its
    // old place at once; a dynamic one, restarted after a crash, would wait out the dead member's
    // session (45 s) before its view could serve again.
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG), applicationId);
    if (topics != null) {
      // A view rebuilt from a changelog that lost its one replica would start from nothing.
      props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, topics.replication());
      props.put(
          StreamsConfig.topicPrefix(
              org.apache.kafka.common.config.TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG),
          Integer.toString(topics.minInsync()));
    }
    props.put(StreamsConfig.TOPOLOGY_OPTIMIZATION_CONFIG, StreamsConfig.REUSE_KTABLE_SOURCE_TOPICS);
    props.put(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, BoundedRocksDb.class);
    props.put(
        StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
        LogAndContinueExceptionHandler.class);
    props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 8L * 1024 * 1024);
    props.put(
        StreamsConfig.consumerPrefix(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG),
        Topics.MAX_MESSAGE_BYTES);
    props.put(
        StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG),
        Topics.MAX_MESSAGE_BYTES);
    this.streams = new KafkaStreams(BatchStatusTopology.build(listener), props);
    this.tail = new GroupOffsetTail(kafka, applicationId);
    streams.setUncaughtExceptionHandler(
        e -> {
          log.error("status view thread failed; replacing it", e);
          return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
  }

  /** Where the view's stores are read in place, by name and partition. */
  ViewStores.Source stores() {
    return new ViewStores.Source() {
      @Override
      public <V> ReadOnlyKeyValueStore<String, V> store(String name, int partition) {
        return streams.store(
            StoreQueryParameters.fromNameAndType(
                    name, QueryableStoreTypes.<String, V>keyValueStore())
                .withPartition(partition));
      }
    };
  }

  /** What tells when the application has read the batches topic past a point. */
  ViewTail tail() {
    return tail;
  }

  /** Starts the application and the watch that tells when it has read what existed before. */
  void start(ViewStores stores) {
    Map<TopicPartition, Long> ends;
    try (Admin admin = Admin.create(kafka.clientProperties())) {
      ends = ViewOffsets.endOffsets(admin, List.of(Topics.BATCHES, Topics.RESULTS));
    }
    stores.partitions(
        (int) ends.keySet().stream().filter(tp -> tp.topic().equals(Topics.BATCHES)).count(),
        (int) ends.keySet().stream().filter(tp -> tp.topic().equals(Topics.RESULTS)).count());
    streams.start();
    tail.start();
    Thread watcher = new Thread(() -> awaitOffsets(ends), "status-view-catch-up");
    watcher.setDaemon(true);
    watcher.start();
  }

  private void awaitOffsets(Map<TopicPartition, Long> ends) {
    try (Admin admin = Admin.create(kafka.clientProperties());
        TailProbe probe = new TailProbe(kafka)) {
      while (!closed) {
        if (streams.state() == KafkaStreams.State.RUNNING
            && ViewOffsets.reached(admin, probe, applicationId, ends)) {
          log.info("status view caught up with {} partitions", ends.size());
          caughtUp.countDown();
          return;
        }
        TimeUnit.MILLISECONDS.sleep(250);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The Streams application's client metrics. */
  void bindMetrics(MeterRegistry meters) {
    streamsMetrics = new KafkaStreamsMetrics(streams);
    streamsMetrics.bindTo(meters);
  }

  boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
    return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Caught up once, and its stores queryable now. */
  boolean isCaughtUp() {
    return caughtUp.getCount() == 0 && streams.state() == KafkaStreams.State.RUNNING;
  }

  @Override
  public void close() {
    closed = true;
    if (streamsMetrics != null) {
      streamsMetrics.close();
    }
    // Leaving the group lets a restarted gateway take the partitions at once instead of after
    // the session timeout of the member that went away.
    streams.close(
        CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
            .withTimeout(Duration.ofSeconds(10)));
  }
}
