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

  /**
   * One record per webhook delivery attempt, keyed by client: what was sent where, and how the
   * receiver answered. Kept {@link #WEBHOOK_DELIVERIES_RETENTION}.
   */
  public static final String WEBHOOK_DELIVERIES = "webhook-deliveries";

  public static final java.time.Duration WEBHOOK_DELIVERIES_RETENTION =
      java.time.Duration.ofDays(7);

  /** Records of {@code sendto} that could not be read, with the reason in a header. */
  public static final String SENDTO_DEAD_LETTER = "sendto-dlq";

  /**
   * One compacted record: the partition counts this deployment was laid out with (see {@link
   * TopicLayout}).
   */
  public static final String LAYOUT = "txgw-layout";

  /**
   * Batches held for a second person's approval, and the decisions on them: one partition, so that
   * one order decides every race between gateways. Kept {@link #APPROVALS_RETENTION}.
   */
  public static final String APPROVALS = "approvals";

  /**
   * How long the approvals topic keeps its records: twice as long as gateways remember a held batch
   * (7 days), so that one that reads it from its start holds the same states as one that kept
   * running.
   */
  public static final java.time.Duration APPROVALS_RETENTION = java.time.Duration.ofDays(14);

  /** Batch records list up to 10,000 payout ids; room above the 1 MB default. */
  public static final int MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

  private Topics() {}

  /** The layout topic: one partition, compacted, so that its one record lives forever. */
  static NewTopic layoutTopic(short replication, int minInsync) {
    return new NewTopic(LAYOUT, 1, replication)
        .configs(
            Map.of(
                TopicConfig.CLEANUP_POLICY_CONFIG,
                TopicConfig.CLEANUP_POLICY_COMPACT,
                TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG,
                Integer.toString(minInsync)));
  }

  /** The topics whose records must be kept per key: compacted, never deleted by age alone. */
  static final List<String> COMPACTED = List.of(BATCHES, JOURNAL, LAYOUT);

  /** Every topic txgw creates. */
  public static final List<String> ALL =
      List.of(
          SENDTO,
          RESULTS,
          BATCHES,
          JOURNAL,
          SENDTO_DEAD_LETTER,
          APPROVALS,
          WEBHOOK_DELIVERIES,
          LAYOUT);

  /** The topics a consumer reads or writes: the ones whose durability its payments rest on. */
  public static final List<String> CONSUMED =
      List.of(SENDTO, RESULTS, JOURNAL, SENDTO_DEAD_LETTER, LAYOUT);

  /**
   * Where the existing {@code topics} are less durable than {@code settings}: fewer replicas in a
   * partition, a lower {@code min.insync.replicas} (or one no write could meet), unclean leader
   * election, or records kept per key that are not compacted alone (partition counts are {@link
   * TopicLayout}'s). More replicas or a higher {@code min.insync.replicas} are taken. Topics not
   * created yet are not looked at. Empty when all is at least as configured.
   */
  public static List<String> settingsProblems(
      Admin admin, TopicSettings settings, List<String> topics) throws InterruptedException {
    List<String> problems = new ArrayList<>();
    try {
      Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      List<String> ours = topics.stream().filter(existing::contains).toList();
      if (ours.isEmpty()) {
        return problems;
      }
      var described = admin.describeTopics(ours).allTopicNames().get(30, TimeUnit.SECONDS);
      List<org.apache.kafka.common.config.ConfigResource> resources =
          ours.stream()
              .map(
                  t ->
                      new org.apache.kafka.common.config.ConfigResource(
                          org.apache.kafka.common.config.ConfigResource.Type.TOPIC, t))
              .toList();
      var configs = admin.describeConfigs(resources).all().get(30, TimeUnit.SECONDS);
      Map<
              org.apache.kafka.common.TopicPartition,
              org.apache.kafka.clients.admin.PartitionReassignment>
          moving = moving(admin);
      for (var resource : resources) {
        String topic = resource.name();
        int fewest = Integer.MAX_VALUE;
        for (var partition : described.get(topic).partitions()) {
          // A partition being moved lists its old and new replicas together: only those not
          // being added hold everything written.
          var move =
              moving.get(new org.apache.kafka.common.TopicPartition(topic, partition.partition()));
          int adding = move == null ? 0 : move.addingReplicas().size();
          fewest = Math.min(fewest, partition.replicas().size() - adding);
        }
        // At least as durable as configured: more replicas are taken.
        if (fewest < settings.replication()) {
          problems.add(
              "topic "
                  + topic
                  + " has "
                  + fewest
                  + " replicas per partition, configured "
                  + settings.replication()
                  + " ("
                  + TopicSettings.REPLICATION.name()
                  + ")");
        }
        var config = configs.get(resource);
        // The value in force: the topic's own, or the brokers' default.
        int insync = Integer.parseInt(config.get(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG).value());
        if (insync < settings.minInsync()) {
          problems.add(
              "topic "
                  + topic
                  + " has min.insync.replicas "
                  + insync
                  + ", configured "
                  + settings.minInsync()
                  + " ("
                  + TopicSettings.MIN_INSYNC.name()
                  + ")");
        } else if (insync > fewest) {
          problems.add(
              "topic "
                  + topic
                  + " has min.insync.replicas "
                  + insync
                  + " above its "
                  + fewest
                  + " replicas: no write could be taken");
        }
        var unclean = config.get(TopicConfig.UNCLEAN_LEADER_ELECTION_ENABLE_CONFIG);
        if (unclean != null && Boolean.parseBoolean(unclean.value())) {
          problems.add(
              "topic "
                  + topic
                  + " allows unclean leader election: a replica that missed writes taken could"
                  + " lead, and they would be lost");
        }
        String policy = config.get(TopicConfig.CLEANUP_POLICY_CONFIG).value();
        Set<String> policies = new java.util.HashSet<>();
        for (String each : policy.split(",")) {
          policies.add(each.strip());
        }
        if ((topic.equals(SENDTO) || topic.equals(RESULTS))
            && policies.contains(TopicConfig.CLEANUP_POLICY_COMPACT)) {
          // Keyed by account and by payout: a later record would remove one not yet read.
          problems.add(
              "topic "
                  + topic
                  + " is compacted (cleanup.policy="
                  + policy
                  + "): records not yet read could be removed by later ones of the same key");
        }
        if (COMPACTED.contains(topic)
            && !policies.equals(Set.of(TopicConfig.CLEANUP_POLICY_COMPACT))) {
          problems.add(
              "topic "
                  + topic
                  + " is not compacted alone (cleanup.policy="
                  + policy
                  + "): records kept per key would be deleted by age");
        }
      }
    } catch (ExecutionException | TimeoutException e) {
      problems.add("the topics cannot be described: " + e.getMessage());
    }
    return problems;
  }

  /**
   * The partitions being moved, where this principal may ask (it needs DESCRIBE on the cluster);
   * none known otherwise, and each partition's replicas are then counted as listed.
   */
  private static Map<
          org.apache.kafka.common.TopicPartition,
          org.apache.kafka.clients.admin.PartitionReassignment>
      moving(Admin admin) throws InterruptedException, TimeoutException {
    try {
      return admin.listPartitionReassignments().reassignments().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return Map.of();
    }
  }

  /**
   * Refuses the start, naming every difference, when the existing {@code topics} are not as {@code
   * settings} say (see {@link #settingsProblems}).
   *
   * @throws TopicLayout.Refused listing them
   */
  public static void checkSettings(Admin admin, TopicSettings settings, List<String> topics)
      throws InterruptedException {
    List<String> problems = settingsProblems(admin, settings, topics);
    if (!problems.isEmpty()) {
      throw new TopicLayout.Refused(
          TopicLayout.Reason.SETTINGS_DIFFER,
          "refusing to start: the Kafka topics are not as configured: "
              + String.join("; ", problems));
    }
  }

  /**
   * What is wrong with an existing approvals topic: it must keep each hold (not compact it away
   * under a later decision of the same key, nor delete it by size) for {@link
   * #APPROVALS_RETENTION}, stamp records with the broker's time, take a held batch as large as a
   * batch record, and have one partition (one order).
   */
  public static List<String> approvalsProblems(Admin admin) throws InterruptedException {
    // A topic just created is not known to every broker at once: asked too early, it is unknown.
    long deadline = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
    while (true) {
      List<String> problems = approvalsProblemsOnce(admin);
      boolean unknown =
          problems.stream().anyMatch(p -> p.contains("UnknownTopicOrPartitionException"));
      if (!unknown || System.nanoTime() > deadline) {
        return problems;
      }
      Thread.sleep(200);
    }
  }

  private static List<String> approvalsProblemsOnce(Admin admin) throws InterruptedException {
    List<String> problems = new ArrayList<>();
    try {
      var resource =
          new org.apache.kafka.common.config.ConfigResource(
              org.apache.kafka.common.config.ConfigResource.Type.TOPIC, APPROVALS);
      var config =
          admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource);
      int partitions =
          admin
              .describeTopics(List.of(APPROVALS))
              .allTopicNames()
              .get(30, TimeUnit.SECONDS)
              .get(APPROVALS)
              .partitions()
              .size();
      if (partitions != 1) {
        problems.add("has " + partitions + " partitions, not 1");
      }
      String policy = config.get(TopicConfig.CLEANUP_POLICY_CONFIG).value();
      if (policy.contains(TopicConfig.CLEANUP_POLICY_COMPACT)) {
        problems.add("is compacted (cleanup.policy=" + policy + "); it must be delete");
      }
      long retention = Long.parseLong(config.get(TopicConfig.RETENTION_MS_CONFIG).value());
      if (retention >= 0 && retention < APPROVALS_RETENTION.toMillis()) {
        problems.add(
            "keeps records "
                + retention
                + " ms, less than "
                + APPROVALS_RETENTION.toMillis()
                + " (retention.ms)");
      }
      long bytes = Long.parseLong(config.get(TopicConfig.RETENTION_BYTES_CONFIG).value());
      if (bytes >= 0) {
        problems.add("deletes by size (retention.bytes=" + bytes + "); it must be -1");
      }
      String time = config.get(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG).value();
      if (!"LogAppendTime".equals(time)) {
        // A writer's clock far ahead would otherwise age every held batch out at once.
        problems.add("stamps records with " + time + "; it must be LogAppendTime");
      }
      long maxBytes = Long.parseLong(config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG).value());
      if (maxBytes < MAX_MESSAGE_BYTES) {
        problems.add("takes records of " + maxBytes + " bytes, fewer than " + MAX_MESSAGE_BYTES);
      }
    } catch (ExecutionException | TimeoutException e) {
      problems.add("cannot be described: " + e.getMessage());
    }
    return problems.stream().map(p -> "topic " + APPROVALS + " " + p).toList();
  }

  /**
   * Creates the topics that do not exist yet, with {@code settings}' replicas and {@code
   * min.insync.replicas}; existing ones are left as they are ({@link #checkSettings} looks at
   * them).
   */
  public static void ensure(Admin admin, int partitions, TopicSettings settings)
      throws InterruptedException {
    short replication = (short) settings.replication();
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
                    // The daily maxima count a batch from the broker's time, whatever the clock of
                    // the gateway that wrote it.
                    TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG,
                    "LogAppendTime",
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
    wanted.add(
        new NewTopic(APPROVALS, 1, replication)
            .configs(
                Map.of(
                    TopicConfig.CLEANUP_POLICY_CONFIG,
                    TopicConfig.CLEANUP_POLICY_DELETE,
                    TopicConfig.RETENTION_MS_CONFIG,
                    Long.toString(APPROVALS_RETENTION.toMillis()),
                    // The fold goes by the log's time: the broker's, alike for every record.
                    TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG,
                    "LogAppendTime",
                    TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                    maxBytes)));
    wanted.add(
        new NewTopic(WEBHOOK_DELIVERIES, 1, replication)
            .configs(
                Map.of(
                    TopicConfig.RETENTION_MS_CONFIG,
                    Long.toString(WEBHOOK_DELIVERIES_RETENTION.toMillis()))));
    wanted.add(layoutTopic(replication, settings.minInsync()));
    String insync = Integer.toString(settings.minInsync());
    for (NewTopic topic : wanted) {
      Map<String, String> configs = new java.util.HashMap<>();
      if (topic.configs() != null) {
        configs.putAll(topic.configs());
      }
      configs.put(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, insync);
      topic.configs(configs);
    }
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
          if (e.getCause()
              instanceof org.apache.kafka.common.errors.InvalidReplicationFactorException) {
            throw new IllegalStateException(
                "cannot create topic "
                    + entry.getKey()
                    + " with "
                    + replication
                    + " replicas: "
                    + e.getCause().getMessage()
                    + " ("
                    + TopicSettings.REPLICATION.name()
                    + " is at most the number of brokers; 1 only on a one-broker cluster)",
                e);
          }
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
