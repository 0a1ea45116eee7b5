package io.txgw.common.kafka;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The partition counts txgw's safety rests on, checked by every gateway and consumer before it
 * starts.
 *
 * <p>{@code sendto} is keyed by sending account, so its partition count decides which partition,
 * and so which consumer, owns an account; journal partition i holds the units of sendto partition
 * i. A consumer's dedup index and its recovery of journaled units see only that one journal
 * partition. Growing {@code sendto} alone leaves partitions with no journal (the consumer cannot
 * read one); growing both without a drain moves accounts away from their history, so a payout
 * journaled before could be paid again. {@code results} and {@code batches} are keyed by client
 * ids, not accounts, and need not match {@code sendto}; but the status view finds a payout's state
 * and a batch's record (what a re-post is recognised by) by hashing the key over the partition
 * count, so they keep the count they were created with.
 *
 * <p>The counts the deployment was laid out with are kept as the one record of the compacted
 * {@value Topics#LAYOUT} topic ({@link LayoutStore}), written on the first start and by {@code txgw
 * grow-partitions}, the one safe way to change them. A start with live counts that differ from it
 * is refused.
 */
public final class TopicLayout {
  private static final Logger log = LoggerFactory.getLogger(TopicLayout.class);

  /** Where operators read how partitions are grown; every refusal points at it. */
  public static final String PROCEDURE = "docs/operations.md \"Growing partitions\"";

  private TopicLayout() {}

  /** Who is starting: gateways write {@code sendto}, consumers pay from it. */
  public enum Role {
    GATEWAY,
    CONSUMER
  }

  /**
   * The layout record.
   *
   * @param partitions partitions of {@code sendto} and of {@code journal}
   * @param growingTo while {@code txgw grow-partitions} runs, the count it grows them to; else null
   * @param by who wrote it, for the operator reading a refusal
   */
  public record Recorded(
      int partitions, int results, int batches, Integer growingTo, Instant at, String by) {

    /** The counts as they are now, taken as the deployment's layout. */
    public static Recorded of(Live live, Instant at, String by) {
      return new Recorded(
          live.count(Topics.SENDTO),
          live.count(Topics.RESULTS),
          live.count(Topics.BATCHES),
          null,
          at,
          by);
    }

    public boolean changing() {
      return growingTo != null;
    }

    public Recorded growing(int to, Instant when, String who) {
      return new Recorded(partitions, results, batches, to, when, who);
    }

    /** The change finished: {@code sendto} and {@code journal} now have {@code growingTo}. */
    public Recorded grown(Instant when, String who) {
      return new Recorded(growingTo, results, batches, null, when, who);
    }
  }

  /** Partition counts of the topics as they are; a topic that does not exist has none. */
  public record Live(Map<String, Integer> counts) {
    public Live {
      counts = Map.copyOf(counts);
    }

    /** The topic's partition count, or 0 when it does not exist. */
    public int count(String topic) {
      return counts.getOrDefault(topic, 0);
    }
  }

  /** Why a start is refused. */
  public enum Reason {
    /** A topic txgw needs does not exist. */
    MISSING_TOPIC,
    /** {@code txgw grow-partitions} started and has not finished. */
    CHANGE_UNDER_WAY,
    /** {@code sendto} and {@code journal} differ. */
    SENDTO_AND_JOURNAL_DIFFER,
    /** {@code sendto} and {@code journal} agree, but not with the layout record. */
    CHANGED_WITHOUT_PROCEDURE,
    /** {@code results} or {@code batches} no longer has its recorded count. */
    KEYED_TOPIC_CHANGED,
    /** Replicas, {@code min.insync.replicas} or compaction differ from the configuration. */
    SETTINGS_DIFFER,
    /** Kafka did not answer, or the layout record cannot be read. */
    UNREADABLE
  }

  /**
   * A refused start. It carries no stack trace: it is a verdict on the cluster, not a fault in the
   * code, and a process whose start throws it prints this one line and exits non-zero.
   */
  public static final class Refused extends RuntimeException {
    private final Reason reason;

    public Refused(Reason reason, String message) {
      super(message, null, false, false);
      this.reason = reason;
    }

    public Reason reason() {
      return reason;
    }
  }

  /**
   * Refuses the start unless the topics have the layout this deployment was created with; records
   * the layout when none is recorded yet and the topics agree (the first start, or the first after
   * an upgrade).
   *
   * @throws Refused with the counts in question and where the procedure is described
   */
  public static Recorded check(KafkaConnection kafka, Role role) throws InterruptedException {
    try (Admin admin = LayoutStore.admin(kafka)) {
      Live live = LayoutStore.live(admin);
      Optional<Recorded> recorded = LayoutStore.read(kafka);
      verify(role, live, recorded);
      if (recorded.isPresent()) {
        return recorded.get();
      }
      Recorded first =
          Recorded.of(live, Instant.now(), role.name().toLowerCase(Locale.ROOT) + "@" + host());
      LayoutStore.write(admin, kafka, first);
      log.info(
          "topic layout recorded: sendto and journal {}, results {}, batches {} partitions",
          first.partitions(),
          first.results(),
          first.batches());
      return first;
    } catch (ExecutionException | TimeoutException | KafkaException e) {
      throw new Refused(
          Reason.UNREADABLE,
          "refusing to start: cannot read the topic layout from Kafka at "
              + kafka.bootstrap()
              + ": "
              + (e.getCause() == null ? e : e.getCause()));
    }
  }

  /**
   * The rules, without Kafka: returns when a {@code role} may start with these counts.
   *
   * @throws Refused naming the counts that differ
   */
  static void verify(Role role, Live live, Optional<Recorded> recorded) {
    List<String> missing = new ArrayList<>();
    for (String topic : List.of(Topics.SENDTO, Topics.JOURNAL, Topics.RESULTS, Topics.BATCHES)) {
      if (live.count(topic) == 0) {
        missing.add(topic);
      }
    }
    if (!missing.isEmpty()) {
      throw new Refused(
          Reason.MISSING_TOPIC,
          "refusing to start: topic(s) "
              + String.join(", ", missing)
              + " do not exist; a gateway creates them on its first start");
    }
    int sendto = live.count(Topics.SENDTO);
    int journal = live.count(Topics.JOURNAL);
    if (recorded.isPresent() && recorded.get().changing()) {
      Recorded r = recorded.get();
      // Consumers are let in once both topics agree: the change waits for them to take the new
      // partitions, and the chains stay paused meanwhile. Gateways would write payouts under a
      // layout that is about to change.
      if (role == Role.GATEWAY
          || sendto != journal
          || (sendto != r.partitions() && sendto != r.growingTo())) {
        throw new Refused(
            Reason.CHANGE_UNDER_WAY,
            String.format(
                "refusing to start: a partition change from %d to %d (started %s by %s) has not"
                    + " finished (sendto has %d partitions, journal %d); run txgw grow-partitions"
                    + " --to %d again, see %s",
                r.partitions(),
                r.growingTo(),
                r.at(),
                r.by(),
                sendto,
                journal,
                r.growingTo(),
                PROCEDURE));
      }
      return;
    }
    if (sendto != journal) {
      throw new Refused(
          Reason.SENDTO_AND_JOURNAL_DIFFER,
          String.format(
              "refusing to start: topic sendto has %d partitions but journal has %d; they must be"
                  + " equal (journal partition i holds the transactions of sendto partition i)%s."
                  + " Partitions are grown only with txgw grow-partitions, see %s",
              sendto,
              journal,
              recorded
                  .map(r -> ", and this deployment was laid out with " + r.partitions())
                  .orElse(""),
              PROCEDURE));
    }
    if (recorded.isEmpty()) {
      return;
    }
    Recorded r = recorded.get();
    if (sendto != r.partitions()) {
      throw new Refused(
          Reason.CHANGED_WITHOUT_PROCEDURE,
          String.format(
              "refusing to start: topics sendto and journal have %d partitions but this deployment"
                  + " was laid out with %d (%s by %s): accounts have moved between partitions"
                  + " without txgw grow-partitions, away from their journal. See %s",
              sendto, r.partitions(), r.at(), r.by(), PROCEDURE));
    }
    List<String> changed = new ArrayList<>();
    if (live.count(Topics.RESULTS) != r.results()) {
      changed.add(
          "results has "
              + live.count(Topics.RESULTS)
              + " partitions, laid out with "
              + r.results());
    }
    if (live.count(Topics.BATCHES) != r.batches()) {
      changed.add(
          "batches has "
              + live.count(Topics.BATCHES)
              + " partitions, laid out with "
              + r.batches());
    }
    if (!changed.isEmpty()) {
      throw new Refused(
          Reason.KEYED_TOPIC_CHANGED,
          "refusing to start: "
              + String.join("; ", changed)
              + ". The status view finds payouts and batches by hashing over the count they were"
              + " created with; these topics are never grown. See "
              + PROCEDURE);
    }
  }

  /**
   * The {@code sendto} partition of an account key among {@code partitions}, as producers pick it.
   */
  public static int partitionOf(String key, int partitions) {
    return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
  }

  /** This machine's name, for the record's {@code by}. */
  public static String host() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "unknown-host";
    }
  }
}
