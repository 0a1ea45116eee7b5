package io.txgw.common.kafka;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/** Topic names and how each is created. */
public final class Topics {
  /** One record per payout, keyed by {@code chain:source}. */
  public static final String SENDTO = "sendto";

  /** One record per payout state change, keyed by {@code client/payoutId}. */
  public static final String RESULTS = "results";

  /** Accepted batches, compacted, keyed by {@code client/batchId}: the idempotency record. */
  public static final String BATCHES = "batches";

  /**
   * Signed transactions written before broadcast, compacted by unit id. Partition i holds the units
   * of the accounts whose payouts are in {@code sendto} partition i.
   */
  public static final String JOURNAL = "journal";

  /** Records of {@code sendto} that could not be read, with the reason in a header. */
  public static final String SENDTO_DEAD_LETTER = "sendto-dlq";

  /**
   * One compacted record: the partition counts this deployment was laid out with (see {@link
   * TopicLayout}).
   */
  public static final String LAYOUT = "txgw-layout";

  /** Batch records list up to 10,000 payout ids; room above the 1 MB default. */
  public static final int MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

  private Topics() {}

  /** The layout topic: one partition, compacted, so that its one record lives forever. */
  static NewTopic layoutTopic(short replication) {
    return new NewTopic(LAYOUT, 1, replication)
        .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
  }

  /** Creates the topics that do not exist yet; existing ones are left as they are. */
  public static void ensure(Admin admin, int partitions, short replication)
      throws InterruptedException {
    String maxBytes = Integer.toString(MAX_MESSAGE_BYTES);
    List<NewTopic> wanted = new ArrayList<>();
    wanted.add(new NewTopic(SENDTO, partitions, replication));
    wanted.add(new NewTopic(RESULTS, partitions, replication));
    wanted.add(
        new NewTopic(BATCHES, partitions, replication)
            .configs(
                Map.of(
                    TopicConfig.CLEANUP_POLICY_CONFIG,
                    TopicConfig.CLEANUP_POLICY_COMPACT,
                    TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                    maxBytes)));
    wanted.add(
        new NewTopic(JOURNAL, partitions, replication)
            .configs(
                Map.of(
                    TopicConfig.CLEANUP_POLICY_CONFIG,
                    TopicConfig.CLEANUP_POLICY_COMPACT,
                    TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                    maxBytes)));
    wanted.add(new NewTopic(SENDTO_DEAD_LETTER, 1, replication));
    wanted.add(layoutTopic(replication));
    try {
      Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      List<NewTopic> missing = wanted.stream().filter(t -> !existing.contains(t.name())).toList();
      if (missing.isEmpty()) {
        return;
      }
      for (var entry : admin.createTopics(missing).values().entrySet()) {
        try {
          entry.getValue().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          // Another process created it between our listing and our request: that is the goal.
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw new IllegalStateException(
                "cannot create topic " + entry.getKey() + ": " + e.getCause().getMessage(), e);
          }
        }
      }
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot reach Kafka to create topics: " + e, e);
    }
  }
}
