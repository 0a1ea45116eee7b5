package io.txgw.common.kafka;

import static org.apache.kafka.common.acl.AclOperation.ALL;
import static org.apache.kafka.common.acl.AclOperation.CREATE;
import static org.apache.kafka.common.acl.AclOperation.DESCRIBE;
import static org.apache.kafka.common.acl.AclOperation.DESCRIBE_CONFIGS;
import static org.apache.kafka.common.acl.AclOperation.READ;
import static org.apache.kafka.common.acl.AclOperation.WRITE;
import static org.apache.kafka.common.resource.PatternType.LITERAL;
import static org.apache.kafka.common.resource.PatternType.PREFIXED;
import static org.apache.kafka.common.resource.ResourceType.GROUP;
import static org.apache.kafka.common.resource.ResourceType.TOPIC;
import static org.apache.kafka.common.resource.ResourceType.TRANSACTIONAL_ID;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The ACLs each txgw principal needs on a broker that denies what no ACL allows, and nothing more:
 * only the gateway writes {@code sendto} and {@code batches}, only the consumers write {@code
 * results}, {@code journal} and the dead letters. Topics are created beforehand by the broker admin
 * (or by a first gateway start as admin); growing partitions is an admin task.
 *
 * <p>Transactional ids are granted by prefix: the gateway's are {@code
 * txgw-<TXGW_GATEWAY_ID>-<lane>} and its view's {@code txgw-status-<TXGW_GATEWAY_ID>-...}, a
 * consumer's {@code txgw-<TXGW_CONSUMER_ID>}; so gateway ids must start with {@link
 * Principals#gatewayIdPrefix} and consumer ids with {@link Principals#consumerIdPrefix}. An
 * approved batch is written under {@code txgw-approval-<digest>}, granted to the gateway apart.
 */
public final class KafkaAcls {
  /** The view's application id, group and internal topics all start with this. */
  public static final String STATUS_PREFIX = "txgw-status-";

  /** The groups of webhook deliveries: {@code txgw-webhooks.<client>}, one per client. */
  public static final String WEBHOOK_GROUPS = "txgw-webhooks.";

  /**
   * Who is who: Kafka principals as {@code User:name}.
   *
   * @param gatewayIdPrefix what every TXGW_GATEWAY_ID starts with, e.g. {@code gateway}
   * @param consumerIdPrefix what every TXGW_CONSUMER_ID starts with, e.g. {@code consumer}
   * @param consumerGroup the consumers' group, TXGW_CONSUMER_GROUP
   */
  public record Principals(
      String gateway,
      String consumer,
      String operator,
      String loadgen,
      String gatewayIdPrefix,
      String consumerIdPrefix,
      String consumerGroup) {
    public Principals {
      Objects.requireNonNull(gateway, "gateway");
      Objects.requireNonNull(consumer, "consumer");
      Objects.requireNonNull(operator, "operator");
      Objects.requireNonNull(loadgen, "loadgen");
      if (gatewayIdPrefix.isEmpty() || consumerIdPrefix.isEmpty()) {
        throw new IllegalArgumentException("instance id prefixes must not be empty");
      }
      for (String prefix : List.of(gatewayIdPrefix, consumerIdPrefix)) {
        String granted = "txgw-" + prefix;
        if (granted.startsWith(APPROVAL_TRANSACTIONS)
            || APPROVAL_TRANSACTIONS.startsWith(granted)) {
          throw new IllegalArgumentException(
              "instance id prefix "
                  + prefix
                  + " overlaps the approved batches' transactional ids ("
                  + APPROVAL_TRANSACTIONS
                  + "*)");
        }
      }
      if (gatewayIdPrefix.startsWith(consumerIdPrefix)
          || consumerIdPrefix.startsWith(gatewayIdPrefix)) {
        throw new IllegalArgumentException(
            "instance id prefixes must not overlap: the consumer would get the gateway's"
                + " transactional ids or the other way round");
      }
    }

    /** User:gateway, User:consumer, User:operator, User:loadgen; ids gateway-*, consumer-*. */
    public static Principals defaults() {
      return new Principals(
          "User:gateway",
          "User:consumer",
          "User:operator",
          "User:loadgen",
          "gateway",
          "consumer",
          "txgw-payouts");
    }
  }

  private KafkaAcls() {}

  /** The prefix of the transactional ids approved batches are written under. */
  public static final String APPROVAL_TRANSACTIONS = "txgw-approval-";

  /** Every binding, in the order the table in docs/security.md lists them. */
  public static List<AclBinding> bindings(Principals p) {
    List<AclBinding> acls = new ArrayList<>();
    gateway(p, acls);
    consumer(p, acls);
    operator(p, acls);
    // The load generator checks that every payout got its result; its kafka target writes
    // sendto and so needs the gateway's credentials, by design.
    allow(acls, p.loadgen(), TOPIC, Topics.RESULTS, LITERAL, READ, DESCRIBE);
    return acls;
  }

  private static void gateway(Principals p, List<AclBinding> acls) {
    String g = p.gateway();
    allow(acls, g, TOPIC, Topics.SENDTO, LITERAL, WRITE, DESCRIBE);
    // The lag watch reads the tail of sendto to tell records from transaction markers.
    allow(acls, g, TOPIC, Topics.SENDTO, LITERAL, READ);
    allow(acls, g, TOPIC, Topics.BATCHES, LITERAL, WRITE, READ, DESCRIBE);
    // DESCRIBE_CONFIGS: at start the gateway checks that the topic keeps every hold.
    allow(acls, g, TOPIC, Topics.APPROVALS, LITERAL, WRITE, READ, DESCRIBE, DESCRIBE_CONFIGS);
    allow(acls, g, TOPIC, Topics.RESULTS, LITERAL, READ, DESCRIBE);
    // Webhooks: one group per client, whose offsets say what its receiver has acknowledged, and
    // the log of every delivery attempt.
    allow(acls, g, GROUP, WEBHOOK_GROUPS, PREFIXED, READ, DESCRIBE);
    // CREATE: a gateway upgraded onto an existing cluster creates this topic itself.
    allow(acls, g, TOPIC, Topics.WEBHOOK_DELIVERIES, LITERAL, WRITE, READ, DESCRIBE, CREATE);
    // Seeing every topic lets the start-up check find them all instead of trying to create one.
    allow(acls, g, TOPIC, Topics.JOURNAL, LITERAL, DESCRIBE);
    allow(acls, g, TOPIC, Topics.SENDTO_DEAD_LETTER, LITERAL, DESCRIBE);
    layout(acls, g);
    allow(acls, g, TRANSACTIONAL_ID, "txgw-" + p.gatewayIdPrefix(), PREFIXED, WRITE, DESCRIBE);
    // Each approved batch is written under a transactional id of its own, alike on every gateway.
    allow(acls, g, TRANSACTIONAL_ID, APPROVAL_TRANSACTIONS, PREFIXED, WRITE, DESCRIBE);
    // The status view: a Streams application of its own, with its own group, transactional
    // ids and internal topics under one prefix.
    allow(acls, g, TOPIC, STATUS_PREFIX, PREFIXED, ALL);
    allow(acls, g, GROUP, STATUS_PREFIX, PREFIXED, ALL);
    allow(acls, g, TRANSACTIONAL_ID, STATUS_PREFIX, PREFIXED, WRITE, DESCRIBE);
    // The lag watch describes the consumers' group and its offsets; DESCRIBE cannot commit.
    allow(acls, g, GROUP, p.consumerGroup(), LITERAL, DESCRIBE);
    // At start the gateway checks every txgw topic's replicas, min.insync.replicas and compaction.
    for (String topic : Topics.ALL) {
      if (!topic.equals(Topics.APPROVALS)) {
        allow(acls, g, TOPIC, topic, LITERAL, DESCRIBE_CONFIGS);
      }
    }
  }

  private static void consumer(Principals p, List<AclBinding> acls) {
    String c = p.consumer();
    allow(acls, c, TOPIC, Topics.SENDTO, LITERAL, READ, DESCRIBE);
    allow(acls, c, GROUP, p.consumerGroup(), LITERAL, READ, DESCRIBE);
    allow(acls, c, TOPIC, Topics.RESULTS, LITERAL, WRITE, DESCRIBE);
    allow(acls, c, TOPIC, Topics.JOURNAL, LITERAL, WRITE, READ, DESCRIBE);
    allow(acls, c, TOPIC, Topics.SENDTO_DEAD_LETTER, LITERAL, WRITE, DESCRIBE);
    allow(acls, c, TOPIC, Topics.BATCHES, LITERAL, DESCRIBE);
    allow(acls, c, TOPIC, Topics.APPROVALS, LITERAL, DESCRIBE);
    layout(acls, c);
    allow(acls, c, TRANSACTIONAL_ID, "txgw-" + p.consumerIdPrefix(), PREFIXED, WRITE, DESCRIBE);
    // At start a consumer checks the durability of the topics it pays from and records on.
    for (String topic : Topics.CONSUMED) {
      allow(acls, c, TOPIC, topic, LITERAL, DESCRIBE_CONFIGS);
    }
  }

  /** Read-only: txgw lag and the drain checks. Growing partitions needs the broker admin. */
  private static void operator(Principals p, List<AclBinding> acls) {
    String o = p.operator();
    for (String topic :
        List.of(
            Topics.SENDTO,
            Topics.RESULTS,
            Topics.BATCHES,
            Topics.JOURNAL,
            Topics.SENDTO_DEAD_LETTER,
            Topics.APPROVALS,
            Topics.WEBHOOK_DELIVERIES,
            Topics.LAYOUT)) {
      allow(acls, o, TOPIC, topic, LITERAL, READ, DESCRIBE);
    }
    allow(acls, o, GROUP, p.consumerGroup(), LITERAL, DESCRIBE);
    allow(acls, o, GROUP, STATUS_PREFIX, PREFIXED, DESCRIBE);
    allow(acls, o, GROUP, WEBHOOK_GROUPS, PREFIXED, DESCRIBE);
  }

  /**
   * Whoever starts first records the topic layout (and creates its topic when an older txgw did
   * not); later starts only read it.
   */
  private static void layout(List<AclBinding> acls, String principal) {
    allow(acls, principal, TOPIC, Topics.LAYOUT, LITERAL, READ, WRITE, CREATE, DESCRIBE);
  }

  private static void allow(
      List<AclBinding> acls,
      String principal,
      ResourceType type,
      String name,
      PatternType pattern,
      AclOperation... operations) {
    for (AclOperation op : operations) {
      acls.add(
          new AclBinding(
              new ResourcePattern(type, name, pattern),
              new AccessControlEntry(principal, "*", op, AclPermissionType.ALLOW)));
    }
  }

  /** One line per binding, as an operator reads it: principal, operation, resource. */
  public static String describe(AclBinding b) {
    return String.format(
        "%-16s %-8s %-16s %s%s",
        b.entry().principal(),
        b.entry().operation(),
        b.pattern().resourceType(),
        b.pattern().name(),
        b.pattern().patternType() == PREFIXED ? "*" : "");
  }
}
