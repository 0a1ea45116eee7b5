package io.txgw.gateway.status;

import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.PayoutResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * A {@link BatchView} over {@link BatchStatusTopology} run by a {@link TopologyTestDriver}: what
 * the gateway wrote reaches the view when a test says so, as it would from Kafka a moment later.
 */
public final class DriverView implements AutoCloseable {
  private final TopologyTestDriver driver;
  private final BatchView view;
  private final TestInputTopic<String, byte[]> batches;
  private final TestInputTopic<String, PayoutResult> results;
  private int piped;

  /** Asked to read past the end: settled by the next {@link #catchUp}, which reads it all. */
  private final List<CompletableFuture<Void>> waiting = new ArrayList<>();

  public DriverView(Path stateDir) {
    view =
        new BatchView(
            new ViewStores.Source() {
              @Override
              public <V> ReadOnlyKeyValueStore<String, V> store(String name, int partition) {
                return driver().getKeyValueStore(name);
              }
            },
            1,
            this::readPastEnd);
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "status-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(
        StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
        LogAndContinueExceptionHandler.class);
    driver = new TopologyTestDriver(BatchStatusTopology.build(view.listener()), props);
    batches =
        driver.createInputTopic(Topics.BATCHES, new StringSerializer(), new ByteArraySerializer());
    results =
        driver.createInputTopic(
            Topics.RESULTS, new StringSerializer(), new JsonSerde<>(PayoutResult.class));
  }

  private synchronized CompletableFuture<Void> readPastEnd() {
    CompletableFuture<Void> reached = new CompletableFuture<>();
    waiting.add(reached);
    return reached;
  }

  /** How many wait for the view to read past the end. */
  public synchronized int waitingForTheEnd() {
    return waiting.size();
  }

  private TopologyTestDriver driver() {
    return driver;
  }

  public BatchView view() {
    return view;
  }

  /**
   * The view reads the records written since the last call: its batches (sendto it ignores); then
   * whoever waited for it to read past the end is told.
   */
  public void catchUp(List<ProducerRecord<String, byte[]>> written) {
    List<CompletableFuture<Void>> reached;
    synchronized (this) {
      for (; piped < written.size(); piped++) {
        ProducerRecord<String, byte[]> r = written.get(piped);
        if (r.topic().equals(Topics.BATCHES)) {
          batches.pipeInput(r.key(), r.value());
        }
      }
      reached = new ArrayList<>(waiting);
      waiting.clear();
    }
    reached.forEach(f -> f.complete(null));
  }

  /** A consumer's result reaches the view. */
  public void result(PayoutResult result) {
    results.pipeInput(result.resultKey(), result);
  }

  @Override
  public void close() {
    driver.close();
  }
}
