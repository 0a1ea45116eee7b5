package io.txgw.consumer.sim;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.consumer.OffsetCommitCallback;
import org.apache.kafka.clients.consumer.SubscriptionPattern;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.metrics.KafkaMetric;

/**
 * A consumer every method of which throws {@link UnsupportedOperationException}; {@link
 * SimConsumer} overrides what the exactly-once loop uses. A call to anything else, a {@code
 * commitSync} above all, is a use the simulation does not model and should fail loudly.
 */
abstract class UnsupportedConsumer implements Consumer<String, byte[]> {
  private static UnsupportedOperationException unsupported() {
    return new UnsupportedOperationException("not simulated");
  }

  @Override
  public Set<TopicPartition> assignment() {
    throw unsupported();
  }

  @Override
  public Set<String> subscription() {
    throw unsupported();
  }

  @Override
  public void subscribe(Collection<String> topics) {
    throw unsupported();
  }

  @Override
  public void subscribe(Collection<String> topics, ConsumerRebalanceListener listener) {
    throw unsupported();
  }

  @Override
  public void assign(Collection<TopicPartition> partitions) {
    throw unsupported();
  }

  @Override
  public void subscribe(Pattern pattern, ConsumerRebalanceListener listener) {
    throw unsupported();
  }

  @Override
  public void subscribe(Pattern pattern) {
    throw unsupported();
  }

  @Override
  public void subscribe(SubscriptionPattern pattern, ConsumerRebalanceListener listener) {
    throw unsupported();
  }

  @Override
  public void subscribe(SubscriptionPattern pattern) {
    throw unsupported();
  }

  @Override
  public void unsubscribe() {
    throw unsupported();
  }

  @Override
  public ConsumerRecords<String, byte[]> poll(Duration timeout) {
    throw unsupported();
  }

  @Override
  public void commitSync() {
    throw unsupported();
  }

  @Override
  public void commitSync(Duration timeout) {
    throw unsupported();
  }

  @Override
  public void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets) {
    throw unsupported();
  }

  @Override
  public void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets, Duration timeout) {
    throw unsupported();
  }

  @Override
  public void commitAsync() {
    throw unsupported();
  }

  @Override
  public void commitAsync(OffsetCommitCallback callback) {
    throw unsupported();
  }

  @Override
  public void commitAsync(
      Map<TopicPartition, OffsetAndMetadata> offsets, OffsetCommitCallback callback) {
    throw unsupported();
  }

  @Override
  public void registerMetricForSubscription(KafkaMetric metric) {
    throw unsupported();
  }

  @Override
  public void unregisterMetricFromSubscription(KafkaMetric metric) {
    throw unsupported();
  }

  @Override
  public void seek(TopicPartition partition, long offset) {
    throw unsupported();
  }

  @Override
  public void seek(TopicPartition partition, OffsetAndMetadata offsetAndMetadata) {
    throw unsupported();
  }

  @Override
  public void seekToBeginning(Collection<TopicPartition> partitions) {
    throw unsupported();
  }

  @Override
  public void seekToEnd(Collection<TopicPartition> partitions) {
    throw unsupported();
  }

  @Override
  public long position(TopicPartition partition) {
    throw unsupported();
  }

  @Override
  public long position(TopicPartition partition, Duration timeout) {
    throw unsupported();
  }

  @Override
  public Map<TopicPartition, OffsetAndMetadata> committed(Set<TopicPartition> partitions) {
    throw unsupported();
  }

  @Override
  public Map<TopicPartition, OffsetAndMetadata> committed(
      Set<TopicPartition> partitions, Duration timeout) {
    throw unsupported();
  }

  @Override
  public Uuid clientInstanceId(Duration timeout) {
    throw unsupported();
  }

  @Override
  public Map<MetricName, ? extends Metric> metrics() {
    throw unsupported();
  }

  @Override
  public List<PartitionInfo> partitionsFor(String topic) {
    throw unsupported();
  }

  @Override
  public List<PartitionInfo> partitionsFor(String topic, Duration timeout) {
    throw unsupported();
  }

  @Override
  public Map<String, List<PartitionInfo>> listTopics() {
    throw unsupported();
  }

  @Override
  public Map<String, List<PartitionInfo>> listTopics(Duration timeout) {
    throw unsupported();
  }

  @Override
  public Set<TopicPartition> paused() {
    throw unsupported();
  }

  @Override
  public void pause(Collection<TopicPartition> partitions) {
    throw unsupported();
  }

  @Override
  public void resume(Collection<TopicPartition> partitions) {
    throw unsupported();
  }

  @Override
  public Map<TopicPartition, OffsetAndTimestamp> offsetsForTimes(
      Map<TopicPartition, Long> timestampsToSearch) {
    throw unsupported();
  }

  @Override
  public Map<TopicPartition, OffsetAndTimestamp> offsetsForTimes(
      Map<TopicPartition, Long> timestampsToSearch, Duration timeout) {
    throw unsupported();
  }

  @Override
  public Map<TopicPartition, Long> beginningOffsets(Collection<TopicPartition> partitions) {
    throw unsupported();
  }

  @Override
  public Map<TopicPartition, Long> beginningOffsets(
      Collection<TopicPartition> partitions, Duration timeout) {
    throw unsupported();
  }

  @Override
  public Map<TopicPartition, Long> endOffsets(Collection<TopicPartition> partitions) {
    throw unsupported();
  }

  @Override
  public Map<TopicPartition, Long> endOffsets(
      Collection<TopicPartition> partitions, Duration timeout) {
    throw unsupported();
  }

  @Override
  public OptionalLong currentLag(TopicPartition topicPartition) {
    throw unsupported();
  }

  @Override
  public ConsumerGroupMetadata groupMetadata() {
    throw unsupported();
  }

  @Override
  public void enforceRebalance() {
    throw unsupported();
  }

  @Override
  public void enforceRebalance(String reason) {
    throw unsupported();
  }

  @Override
  public void close() {
    throw unsupported();
  }

  @Override
  public void close(Duration timeout) {
    throw unsupported();
  }

  @Override
  public void close(CloseOptions option) {
    throw unsupported();
  }

  @Override
  public void wakeup() {
    throw unsupported();
  }
}
