package io.txgw.cli;

import io.txgw.common.kafka.GroupOffsets;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.TailProbe;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.JournalEntry;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;

/**
 * What is in flight, read from Kafka: running gateways, payouts the consumer group has not
 * committed, and journaled units not recorded. Nothing in flight is what makes moving accounts
 * between partitions safe.
 */
final class Drain implements AutoCloseable {
  /**
   * Each gateway's status view is a Kafka Streams application with the id {@code
   * txgw-status-<gateway id>} (StatusStreams): a group there with members is a running gateway.
   */
  static final String STATUS_VIEW_GROUPS = "txgw-status-";

  /**
   * One reading. {@code journal} is read only once no gateway runs and the group has committed
   * everything.
   */
  record State(
      List<String> gateways,
      Map<Integer, Long> lagging,
      boolean journalSettled,
      List<JournalEntry> pending,
      JournalScan journal,
      int members) {
    boolean drained() {
      return gateways.isEmpty()
          && lagging.isEmpty()
          && journalSettled
          && pending.isEmpty()
          && journal != null;
    }

    String describe(String group) {
      if (!gateways.isEmpty()) {
        return "gateways are running (status view groups "
            + gateways
            + "): stop every gateway first, so that no payout is written under the old layout"
            + " (a killed one leaves its group after its session timeout)";
      }
      if (!lagging.isEmpty()) {
        long total = lagging.values().stream().mapToLong(Long::longValue).sum();
        return String.format(
            "group %s has %d payout(s) of sendto to commit (by partition: %s), %d consumer(s)"
                + " running",
            group, total, lagging, members);
      }
      if (!journalSettled) {
        return "a journal transaction is open (a consumer is committing)";
      }
      if (!pending.isEmpty()) {
        JournalEntry first = pending.get(0);
        return String.format(
            "%d journaled unit(s) not recorded, e.g. %s of %s (waits for its outcome on chain)",
            pending.size(), first.unitId(), first.accountKey());
      }
      return "drained: sendto committed to its end, no journaled unit pending";
    }
  }

  private final Admin admin;
  private final KafkaConnection kafka;
  private final String group;
  private final Duration timeout;
  private final TailProbe probe;

  Drain(Admin admin, KafkaConnection kafka, String group, Duration timeout) {
    this.admin = admin;
    this.kafka = kafka;
    this.group = group;
    this.timeout = timeout;
    this.probe = new TailProbe(kafka);
  }

  /** Group ids of the gateways' status views that have members. */
  private List<String> runningGateways()
      throws ExecutionException, TimeoutException, InterruptedException {
    Collection<GroupListing> groups =
        admin.listGroups().all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    List<String> running = new ArrayList<>();
    for (GroupListing g : groups) {
      // A broker that does not say the state is taken as the worse case: running.
      boolean live =
          g.groupState().map(s -> s != GroupState.EMPTY && s != GroupState.DEAD).orElse(true);
      if (g.groupId().startsWith(STATUS_VIEW_GROUPS) && live) {
        running.add(g.groupId());
      }
    }
    running.sort(null);
    return running;
  }

  /** Reads which gateways run, sendto's lag and, once both are nil, the whole journal. */
  State read(int journalPartitions)
      throws ExecutionException, TimeoutException, InterruptedException {
    List<String> gateways = runningGateways();
    Map<TopicPartition, Long> ends = GroupOffsets.ends(admin, List.of(Topics.SENDTO), timeout);
    Map<TopicPartition, Long> committed = committed();
    Map<Integer, Long> lagging = new TreeMap<>();
    probe
        .lag(ends, committed, timeout)
        .forEach(
            (tp, lag) -> {
              if (lag > 0) {
                lagging.put(tp.partition(), lag);
              }
            });
    int members = members().size();
    if (!gateways.isEmpty() || !lagging.isEmpty()) {
      return new State(gateways, lagging, false, List.of(), null, members);
    }
    Map<TopicPartition, Long> stable = GroupOffsets.ends(admin, List.of(Topics.JOURNAL), timeout);
    if (!stable.equals(highWatermarks(Topics.JOURNAL))) {
      return new State(gateways, lagging, false, List.of(), null, members);
    }
    JournalScan journal = JournalScan.read(kafka, journalPartitions, timeout);
    return new State(gateways, lagging, true, journal.pending(), journal, members);
  }

  private Map<TopicPartition, Long> committed()
      throws ExecutionException, TimeoutException, InterruptedException {
    try {
      return GroupOffsets.committed(admin, group, timeout);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof GroupIdNotFoundException) {
        return Map.of();
      }
      throw e;
    }
  }

  /**
   * Reads every second until drained or {@code timeout} has passed; says each new reason to wait.
   *
   * @return the last reading, drained or not
   */
  State awaitDrained(int journalPartitions, Duration timeout, PrintWriter progress)
      throws ExecutionException, TimeoutException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String said = null;
    while (true) {
      State state = read(journalPartitions);
      if (state.drained() || System.nanoTime() > deadline) {
        return state;
      }
      String now = state.describe(group);
      if (!now.equals(said)) {
        progress.println("waiting for the drain: " + now);
        said = now;
      }
      Thread.sleep(1_000);
    }
  }

  /** Waits until {@link #taken} or {@code timeout} has passed; false in the second case. */
  boolean awaitTaken(int partitions, Duration timeout, PrintWriter progress)
      throws ExecutionException, TimeoutException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    boolean said = false;
    while (!taken(partitions)) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      if (!said) {
        progress.println(
            "waiting for the consumers to take the new partitions (a running consumer sees them"
                + " within 5 minutes; restarting the consumers is quicker)");
        said = true;
      }
      Thread.sleep(1_000);
    }
    return true;
  }

  /** The group's members, none when the group does not exist. */
  List<MemberDescription> members()
      throws ExecutionException, TimeoutException, InterruptedException {
    ConsumerGroupDescription d = describe();
    return d == null ? List.of() : List.copyOf(d.members());
  }

  /**
   * True once no consumer runs, or the group is stable with all {@code partitions} of sendto
   * assigned: an assignment of that many can only have been made after the growth, and the
   * consumers' eager rebalance (the default range assignor) revoked and assigned every partition,
   * so each owner has read its partitions' journal again, copied history included.
   */
  boolean taken(int partitions) throws ExecutionException, TimeoutException, InterruptedException {
    ConsumerGroupDescription d = describe();
    if (d == null || d.members().isEmpty()) {
      return true;
    }
    Set<Integer> owned = new TreeSet<>();
    for (MemberDescription m : d.members()) {
      m.assignment().topicPartitions().stream()
          .filter(tp -> tp.topic().equals(Topics.SENDTO))
          .forEach(tp -> owned.add(tp.partition()));
    }
    return d.groupState() == GroupState.STABLE && owned.size() == partitions;
  }

  private ConsumerGroupDescription describe()
      throws ExecutionException, TimeoutException, InterruptedException {
    try {
      return admin
          .describeConsumerGroups(List.of(group))
          .all()
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
          .get(group);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof GroupIdNotFoundException) {
        return null;
      }
      throw e;
    }
  }

  /** The end of each partition, open transactions and their markers included. */
  Map<TopicPartition, Long> highWatermarks(String topic)
      throws ExecutionException, TimeoutException, InterruptedException {
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    GroupOffsets.ends(admin, List.of(topic), timeout)
        .keySet()
        .forEach(tp -> latest.put(tp, OffsetSpec.latest()));
    Map<TopicPartition, Long> ends = new HashMap<>();
    admin
        .listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED))
        .all()
        .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
        .forEach((tp, info) -> ends.put(tp, info.offset()));
    return ends;
  }

  @Override
  public void close() {
    probe.close();
  }
}
