package io.txgw.cli;

import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.LayoutStore;
import io.txgw.common.kafka.TopicLayout;
import io.txgw.common.kafka.TopicLayout.Live;
import io.txgw.common.kafka.TopicLayout.Recorded;
import io.txgw.common.kafka.Topics;
import io.txgw.coordinator.control.Controls;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Grows {@code sendto} and {@code journal} together. Accounts move between partitions, so it acts
 * only when nothing is in flight: no gateway running (checked through their status view groups),
 * every payout of {@code sendto} committed by the consumer group, no journaled unit pending. Then a
 * payout's only protection left is the dedup index (a payout id already journaled is never paid
 * again), and that is carried over by copying each moved account's journal records to its new
 * partition. Chains stay paused until every consumer has taken the new partitions and so read their
 * journal again.
 */
@Command(
    name = "grow-partitions",
    mixinStandardHelpOptions = true,
    description = {
      "Grows sendto and journal to --to partitions together, safely. Stop every gateway first;"
          + " keep the consumers running: they drain sendto.",
      "Refuses, changing nothing, while a gateway runs or until sendto is drained and no"
          + " journaled unit is pending. Run it again after an interruption to finish."
    })
final class GrowPartitionsCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  @Mixin Txgw.Connection zookeeper;

  @Option(
      names = {"-b", "--bootstrap"},
      description = "Kafka bootstrap servers (default: $TXGW_KAFKA_BOOTSTRAP or 127.0.0.1:9092)")
  String bootstrap;

  private KafkaConnection kafka;

  @Option(
      names = {"-g", "--group"},
      defaultValue = "txgw-payouts",
      description = "the consumers' group (default: ${DEFAULT-VALUE})")
  String group;

  @Option(names = "--to", required = true, description = "partitions of sendto and journal")
  int to;

  @Option(
      names = "--drain-timeout",
      defaultValue = "300",
      description = "seconds to wait for the drain before refusing (default: ${DEFAULT-VALUE})")
  int drainSeconds;

  @Option(
      names = "--rebalance-timeout",
      defaultValue = "600",
      description =
          "seconds to wait for the consumers to take the new partitions (default: ${DEFAULT-VALUE})")
  int rebalanceSeconds;

  @Option(
      names = "--no-pause",
      description = "for consumers running without ZooKeeper, which no pause reaches")
  boolean noPause;

  @Option(
      names = "--timeout",
      defaultValue = "10",
      description = "seconds to wait for each Kafka request (default: ${DEFAULT-VALUE})")
  int timeoutSeconds;

  private Admin admin;
  private Drain drain;
  private PrintWriter out;

  /** The command will not go on; nothing it has not said was changed. */
  private static final class Refusal extends Exception {
    Refusal(String message) {
      super(message);
    }
  }

  @Override
  public Integer call() throws Exception {
    if (to < 1) {
      throw new IllegalArgumentException("--to must be 1 or more");
    }
    out = spec.commandLine().getOut();
    Duration timeout = Duration.ofSeconds(timeoutSeconds);
    try (Admin a = LayoutStore.admin(kafka());
        Drain d = new Drain(a, kafka(), group, timeout)) {
      admin = a;
      drain = d;
      return grow();
    } catch (Refusal e) {
      spec.commandLine().getErr().println("error: " + e.getMessage());
      return Txgw.REFUSED;
    } catch (TimeoutException | org.apache.kafka.common.errors.TimeoutException e) {
      throw unreachable();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
        throw unreachable();
      }
      throw e;
    }
  }

  private int grow() throws Exception {
    Live live = LayoutStore.live(admin);
    int sendto = live.count(Topics.SENDTO);
    int journal = live.count(Topics.JOURNAL);
    if (sendto == 0 || journal == 0) {
      throw new Refusal("topics sendto and journal must exist (a gateway creates them)");
    }
    Recorded before = recordedOrAdopted(live);
    out.printf(
        "sendto has %d partitions, journal %d; the layout record says %d%s%n",
        sendto,
        journal,
        before.partitions(),
        before.changing() ? " growing to " + before.growingTo() : "");
    if (unchanged(before, sendto, journal)) {
      out.printf("sendto and journal already have %d partitions: nothing to do%n", to);
      return 0;
    }
    refuseImpossible(before, live);

    Drain.State drained = awaitDrained(journal);
    out.println(drained.describe(group));

    try (CuratorFramework zk = noPause ? null : zookeeper.connect()) {
      Controls controls = zk == null ? null : new Controls(zk);
      Recorded growing = before.changing() ? before : before.growing(to, Instant.now(), by());
      LayoutStore.write(admin, kafka(), growing);
      out.printf("layout record: growing to %d; gateways refuse to start until it is done%n", to);
      boolean ours = pause(controls);
      Drain.State again = drain.read(journal);
      if (!again.drained()) {
        if (before.changing()) {
          // An earlier run may have grown a topic already: the pause and the record stay.
          throw new Refusal(
              "something moved while pausing ("
                  + again.describe(group)
                  + "). Chains stay paused and gateways refused; run this command again");
        }
        LayoutStore.write(admin, kafka(), before);
        if (ours) {
          controls.resumeAllOnly();
        }
        throw new Refusal(
            "something moved while pausing ("
                + again.describe(group)
                + "); nothing was changed, pause and layout record are as they were");
      }
      try {
        change(growing, sendto, journal, again.journal());
      } catch (Refusal | InterruptedException e) {
        throw e;
      } catch (Exception e) {
        throw new Refusal(
            "stopped half way ("
                + e
                + "). Chains stay paused and gateways refused; run this command again to finish");
      }
      if (ours) {
        controls.resumeAllOnly();
        out.println("resumed all chains");
      }
    }
    out.printf("done: sendto and journal have %d partitions; start the gateways%n", to);
    return 0;
  }

  /**
   * Grows journal, copies the moved accounts' history, grows sendto, waits for the consumers to
   * take the new partitions, and records the new count. Each step can be done again: a second run
   * finishes what an interrupted one started.
   */
  private void change(Recorded growing, int sendto, int journal, JournalScan history)
      throws Exception {
    Map<TopicPartition, Long> marks = drain.highWatermarks(Topics.SENDTO);
    // Journal first: a sendto partition without its journal partition stops its consumer.
    growTopic(Topics.JOURNAL, journal);
    List<JournalScan.Move> moves = history.moves(to);
    JournalScan.copy(kafka(), moves, Duration.ofSeconds(timeoutSeconds));
    Set<String> accounts = new HashSet<>();
    moves.forEach(m -> accounts.add(m.entry().unit().accountKey()));
    out.printf(
        "copied %d journal record(s) of %d account(s) to their new partitions%n",
        moves.size(), accounts.size());
    growTopic(Topics.SENDTO, sendto);
    awaitTaken();
    Map<TopicPartition, Long> ends = drain.highWatermarks(Topics.SENDTO);
    ends.keySet().retainAll(marks.keySet());
    if (!marks.equals(ends)) {
      throw new Refusal(
          "records were written to sendto during the change (ends "
              + marks
              + " became "
              + ends
              + "): a gateway still ran. Chains stay paused and the change unfinished; see"
              + " docs/operations.md \"Growing partitions\"");
    }
    LayoutStore.write(admin, kafka(), growing.grown(Instant.now(), by()));
    out.printf("layout record: %d partitions%n", to);
  }

  /** The layout record; a deployment from before it was kept records its current counts first. */
  private Recorded recordedOrAdopted(Live live) throws Exception {
    Optional<Recorded> recorded = LayoutStore.read(kafka());
    if (recorded.isPresent()) {
      return recorded.get();
    }
    int sendto = live.count(Topics.SENDTO);
    int journal = live.count(Topics.JOURNAL);
    if (sendto != journal) {
      throw new Refusal(
          String.format(
              "no layout record, and sendto has %d partitions but journal %d: which layout the"
                  + " journal belongs to is unknown",
              sendto, journal));
    }
    Recorded adopted = Recorded.of(live, Instant.now(), by());
    LayoutStore.write(admin, kafka(), adopted);
    return adopted;
  }

  private boolean unchanged(Recorded before, int sendto, int journal) {
    return !before.changing() && before.partitions() == to && sendto == to && journal == to;
  }

  private void refuseImpossible(Recorded before, Live live) throws Refusal {
    int sendto = live.count(Topics.SENDTO);
    int journal = live.count(Topics.JOURNAL);
    if (before.changing() && before.growingTo() != to) {
      throw new Refusal(
          String.format(
              "a change to %d partitions is under way (started %s by %s): finish it with --to %d",
              before.growingTo(), before.at(), before.by(), before.growingTo()));
    }
    int most = Math.max(before.partitions(), Math.max(sendto, journal));
    if (to < most) {
      throw new Refusal(
          String.format("--to %d: Kafka cannot take partitions away; there are %d", to, most));
    }
    if (live.count(Topics.RESULTS) != before.results()
        || live.count(Topics.BATCHES) != before.batches()) {
      throw new Refusal(
          String.format(
              "results (%d) or batches (%d) no longer have their recorded counts (%d, %d); growing"
                  + " sendto does not repair that",
              live.count(Topics.RESULTS),
              live.count(Topics.BATCHES),
              before.results(),
              before.batches()));
    }
    if (!before.changing() && (sendto != before.partitions() || journal != before.partitions())) {
      out.printf(
          "note: sendto and journal were changed without this command (recorded %d);"
              + " growing both to %d and copying the journal repairs that once drained%n",
          before.partitions(), to);
    }
  }

  private Drain.State awaitDrained(int journal) throws Exception {
    Drain.State state = drain.awaitDrained(journal, Duration.ofSeconds(drainSeconds), out);
    if (!state.drained()) {
      throw new Refusal(
          "not drained after "
              + drainSeconds
              + " s: "
              + state.describe(group)
              + hints(state)
              + "; nothing changed");
    }
    return state;
  }

  private String hints(Drain.State state) throws Exception {
    StringBuilder hints = new StringBuilder();
    if (!state.lagging().isEmpty() && state.members() == 0) {
      hints.append(". No consumer of ").append(group).append(" runs: the drain needs them");
    }
    if (!noPause) {
      try (CuratorFramework zk = zookeeper.connect()) {
        Map<String, Controls.Pause> pauses = new Controls(zk).read();
        if (!pauses.isEmpty()) {
          hints
              .append(". Paused: ")
              .append(pauses.keySet())
              .append("; paused consumers drain nothing");
        }
      } catch (Txgw.Unreachable e) {
        hints.append(". ").append(e.getMessage());
      }
    }
    return hints.toString();
  }

  /**
   * Pauses all chains. Returns true when the pause is this command's to lift: set now, or left by
   * an interrupted run of it; an operator's pause stays.
   */
  private boolean pause(Controls controls) throws Exception {
    if (controls == null) {
      return false;
    }
    String reason = "txgw grow-partitions --to " + to;
    Controls.Pause existing = controls.read().get(Controls.ALL);
    if (existing != null && !reason.equals(existing.reason())) {
      out.println("all chains were paused already (" + existing.reason() + "); they stay paused");
      return false;
    }
    controls.pause(null, new Controls.Pause(by(), Instant.now(), reason));
    out.println("paused all chains");
    return true;
  }

  private void growTopic(String topic, int from) throws Exception {
    if (from >= to) {
      return;
    }
    admin
        .createPartitions(Map.of(topic, NewPartitions.increaseTo(to)))
        .all()
        .get(timeoutSeconds, TimeUnit.SECONDS);
    out.printf("%s: %d -> %d partitions%n", topic, from, to);
  }

  private void awaitTaken() throws Exception {
    if (!drain.awaitTaken(to, Duration.ofSeconds(rebalanceSeconds), out)) {
      throw new Refusal(
          String.format(
              "the consumers of %s have not taken the %d partitions within %d s. Chains stay"
                  + " paused and the change unfinished: restart the consumers, then run this"
                  + " command again",
              group, to, rebalanceSeconds));
    }
    out.printf("the consumers of %s own all %d partitions%n", group, to);
  }

  private KafkaConnection kafka() {
    if (kafka == null) {
      kafka = CliKafka.connection(bootstrap, System.getenv());
    }
    return kafka;
  }

  private static String by() {
    return System.getProperty("user.name") + "@" + TopicLayout.host() + " (txgw grow-partitions)";
  }

  private Txgw.Unreachable unreachable() {
    return new Txgw.Unreachable(
        "cannot reach Kafka at " + kafka().bootstrap() + " within " + timeoutSeconds + " s");
  }
}
