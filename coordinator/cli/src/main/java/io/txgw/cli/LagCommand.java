package io.txgw.cli;

import io.txgw.common.json.Json;
import io.txgw.common.kafka.GroupOffsets;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.TailProbe;
import io.txgw.common.kafka.Topics;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Consumer lag per partition of a group: committed offset, end offset (last stable offset, as
 * read_committed consumers see it), lag, owner, consume rate over the sampling interval, and the
 * time to drain at that rate. Talks to Kafka only, so it works against any cluster.
 */
@Command(
    name = "lag",
    description =
        "Consumer lag per partition: committed, end, lag, owner, consume rate, time to drain.")
final class LagCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = {"-b", "--bootstrap"},
      description = "Kafka bootstrap servers (default: $TXGW_KAFKA_BOOTSTRAP or 127.0.0.1:9092)")
  String bootstrap;

  @Option(
      names = {"-g", "--group"},
      defaultValue = "txgw-payouts",
      description = "consumer group (default: ${DEFAULT-VALUE})")
  String group;

  @Option(
      names = {"-t", "--topic"},
      defaultValue = Topics.SENDTO,
      description = "topic (default: ${DEFAULT-VALUE})")
  String topic;

  @Option(
      names = "--interval",
      defaultValue = "1",
      description =
          "seconds between the two readings a rate is taken from (default: ${DEFAULT-VALUE})")
  double intervalSeconds;

  @Option(names = "--watch", description = "print again every interval until stopped")
  boolean watch;

  @Option(
      names = "--count",
      defaultValue = "0",
      description = "with --watch: stop after this many tables (default: never)")
  int count;

  @Option(names = "--json", description = "one JSON document per table")
  boolean json;

  @Option(
      names = "--timeout",
      defaultValue = "5",
      description = "seconds to wait for Kafka (default: ${DEFAULT-VALUE})")
  int timeoutSeconds;

  /** One partition's reading. */
  record PartitionLag(
      String topic,
      int partition,
      Long committed,
      long end,
      long lag,
      String owner,
      Double ratePerSecond,
      Double secondsToDrain) {}

  /** The offsets of one moment. */
  private record Reading(
      long nanos, Map<TopicPartition, Long> committed, Map<TopicPartition, Long> ends) {}

  private TailProbe probe;
  private KafkaConnection kafka;

  @Override
  public Integer call() throws Exception {
    if (intervalSeconds <= 0) {
      throw new IllegalArgumentException("--interval must be above 0 seconds");
    }
    PrintWriter out = spec.commandLine().getOut();
    try {
      return watch(out);
    } catch (NotFound e) {
      spec.commandLine().getErr().println("error: " + e.getMessage());
      return Txgw.REFUSED;
    }
  }

  private int watch(PrintWriter out) throws Exception {
    try (Admin admin =
            Admin.create(
                kafka()
                    .clientProperties(
                        Map.of(
                            AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
                            timeoutSeconds * 1_000,
                            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                            timeoutSeconds * 1_000)));
        TailProbe probe = new TailProbe(kafka())) {
      this.probe = probe;
      Reading before = read(admin);
      int printed = 0;
      do {
        Thread.sleep((long) (intervalSeconds * 1_000));
        Reading now = read(admin);
        print(out, table(admin, before, now));
        before = now;
        printed++;
      } while (watch && (count <= 0 || printed < count));
    }
    return 0;
  }

  private KafkaConnection kafka() {
    if (kafka == null) {
      kafka = CliKafka.connection(bootstrap, System.getenv());
    }
    return kafka;
  }

  private Reading read(Admin admin) throws Exception {
    long nanos = System.nanoTime();
    Duration timeout = Duration.ofSeconds(timeoutSeconds);
    Map<TopicPartition, Long> offsets = await(() -> GroupOffsets.committed(admin, group, timeout));
    Map<TopicPartition, Long> ends = await(() -> GroupOffsets.ends(admin, List.of(topic), timeout));
    Map<TopicPartition, Long> committed = new HashMap<>();
    offsets.forEach(
        (tp, offset) -> {
          if (tp.topic().equals(topic)) {
            committed.put(tp, offset);
          }
        });
    return new Reading(nanos, committed, ends);
  }

  private List<PartitionLag> table(Admin admin, Reading before, Reading now) throws Exception {
    Map<TopicPartition, String> owners = new HashMap<>();
    ConsumerGroupDescription description =
        await(
                () ->
                    admin
                        .describeConsumerGroups(List.of(group))
                        .all()
                        .get(timeoutSeconds, TimeUnit.SECONDS))
            .get(group);
    if (now.committed().isEmpty() && description.members().isEmpty()) {
      throw new NotFound("no consumer group " + group + " (no members, nothing committed)");
    }
    for (MemberDescription member : description.members()) {
      String who = member.clientId() + " " + member.host().replaceFirst("^/", "");
      member.assignment().topicPartitions().forEach(tp -> owners.put(tp, who));
    }
    double seconds = (now.nanos() - before.nanos()) / 1e9;
    List<PartitionLag> rows = new ArrayList<>();
    for (int p = 0; p < now.ends().size(); p++) {
      TopicPartition tp = new TopicPartition(topic, p);
      long end = now.ends().get(tp);
      Long committed = now.committed().get(tp);
      // A partition the group never committed on has everything still to read; the last offset
      // or two may be only the commit markers of transactions.
      long lag =
          committed == null
              ? end
              : probe.lag(tp, committed, end, Duration.ofSeconds(Math.min(2, timeoutSeconds)));
      Long earlier = before.committed().get(tp);
      Double rate =
          committed == null
              ? null
              : (committed - (earlier == null ? committed : earlier)) / seconds;
      Double drain;
      if (lag == 0) {
        drain = 0.0;
      } else if (rate == null || rate <= 0) {
        drain = null;
      } else {
        drain = lag / rate;
      }
      rows.add(
          new PartitionLag(
              topic, p, committed, end, lag, owners.getOrDefault(tp, "-"), rate, drain));
    }
    return rows;
  }

  private void print(PrintWriter out, List<PartitionLag> rows) throws Exception {
    if (json) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("group", group);
      doc.put("topic", topic);
      doc.put("totalLag", rows.stream().mapToLong(PartitionLag::lag).sum());
      doc.put("partitions", rows);
      out.println(Json.mapper().writeValueAsString(doc));
      return;
    }
    out.printf(
        Locale.ROOT,
        "%-10s %9s %12s %12s %10s  %-36s %10s %10s%n",
        "topic",
        "partition",
        "committed",
        "end",
        "lag",
        "owner",
        "rate/s",
        "drain");
    for (PartitionLag r : rows) {
      out.printf(
          Locale.ROOT,
          "%-10s %9d %12s %12d %10d  %-36s %10s %10s%n",
          r.topic(),
          r.partition(),
          r.committed() == null ? "-" : r.committed().toString(),
          r.end(),
          r.lag(),
          r.owner(),
          r.ratePerSecond() == null ? "-" : String.format(Locale.ROOT, "%.1f", r.ratePerSecond()),
          drain(r.secondsToDrain(), r.lag()));
    }
    out.printf(Locale.ROOT, "total lag %d%n", rows.stream().mapToLong(PartitionLag::lag).sum());
    out.flush();
  }

  private static String drain(Double seconds, long lag) {
    if (seconds == null) {
      return lag > 0 ? "stalled" : "-";
    }
    return String.format(Locale.ROOT, "%.0fs", Math.ceil(seconds));
  }

  /** An admin read that may time out or fail. */
  @FunctionalInterface
  private interface AdminRead<T> {
    T read() throws ExecutionException, TimeoutException, InterruptedException;
  }

  /** Runs an admin read; an unreachable cluster or unknown group is said in one line. */
  private <T> T await(AdminRead<T> call) throws Exception {
    try {
      return call.read();
    } catch (TimeoutException e) {
      throw unreachable();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof GroupIdNotFoundException) {
        throw new NotFound("no consumer group " + group);
      }
      if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
        throw unreachable();
      }
      if (e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException) {
        throw new NotFound("no topic " + topic);
      }
      throw e;
    }
  }

  private Txgw.Unreachable unreachable() {
    return new Txgw.Unreachable(
        "cannot reach Kafka at " + kafka().bootstrap() + " within " + timeoutSeconds + " s");
  }

  /** The group or topic does not exist: said in one line, exit code 1. */
  private static final class NotFound extends Exception {
    NotFound(String message) {
      super(message);
    }
  }
}
