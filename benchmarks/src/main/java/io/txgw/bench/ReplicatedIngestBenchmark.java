package io.txgw.bench;

import io.txgw.bench.IngestBenchmark.Phase;
import io.txgw.bench.IngestBenchmark.Sizes;
import io.txgw.bench.IngestBenchmark.Workload;
import io.txgw.common.kafka.TopicSettings;
import io.txgw.deploy.infra.EmbeddedKafka;
import io.txgw.deploy.infra.GatewayProcess;
import io.txgw.deploy.infra.KafkaCluster;
import io.txgw.deploy.infra.TempDirs;
import io.txgw.deploy.infra.TrustFiles;
import java.io.Closeable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What replication costs ingest, in one run: the same batches and single payouts posted to a
 * gateway on one broker (topics of one replica) and to a gateway on a three-node cluster (three
 * replicas, a write taken once two hold it, {@code acks=all} as always). Prints payouts a second
 * and the single payouts' p99 for each, and the ratio of the cluster to the one broker.
 *
 * <p>{@code benchmarks/run.sh replicated-ingest [batches, default 60] [single payouts, default
 * 20000] [singles in flight, default 64]}.
 */
public final class ReplicatedIngestBenchmark {
  private ReplicatedIngestBenchmark() {}

  /** One setup's figures. */
  public record Run(String setup, Phase batches, Phase singles) {}

  public static void main(String[] args) throws Exception {
    Sizes sizes =
        new Sizes(
            args.length > 0 ? Integer.parseInt(args[0]) : 60,
            8,
            args.length > 1 ? Integer.parseInt(args[1]) : 20_000,
            args.length > 2 ? Integer.parseInt(args[2]) : 64,
            0.25);
    print(run(sizes));
    System.exit(0);
  }

  public static List<Run> run(Sizes sizes) throws Exception {
    Workload workload = Workload.make(sizes);
    List<Run> runs = new ArrayList<>();
    runs.add(measure("one broker, 1 replica", sizes, workload, false));
    runs.add(measure("three brokers, 3 replicas, min.insync 2", sizes, workload, true));
    return runs;
  }

  private static Run measure(String setup, Sizes sizes, Workload workload, boolean cluster)
      throws Exception {
    Path work = Files.createTempDirectory("txgw-replicated-");
    Closeable kafka = null;
    try {
      String bootstrap;
      TopicSettings topics;
      if (cluster) {
        KafkaCluster three = new KafkaCluster(work.resolve("cluster"), 3);
        kafka = three;
        bootstrap = three.bootstrapServers();
        topics = KafkaCluster.topicSettings();
      } else {
        EmbeddedKafka one = new EmbeddedKafka(work.resolve("kafka"));
        kafka = one;
        bootstrap = one.bootstrapServers();
        topics = TopicSettings.ONE_BROKER;
      }
      try (GatewayProcess gateway =
              GatewayProcess.start(
                  bootstrap,
                  IngestBenchmark.CLIENT + "=" + IngestBenchmark.API_KEY,
                  TrustFiles.create(
                          work.resolve("trust"),
                          Map.of(IngestBenchmark.CLIENT, List.of("ETH:" + workload.source())))
                      .env(),
                  IngestBenchmark.gatewayJvm(),
                  work.resolve("logs"),
                  topics);
          HttpLoad load =
              new HttpLoad(gateway.port(), IngestBenchmark.API_KEY, sizes.singleConcurrency())) {
        // Warm-up first: the JIT compilers of the gateway take most of a core for a while.
        IngestBenchmark.post(
            load,
            workload.warmupBatches(),
            sizes.batchConcurrency(),
            "warm-up",
            IngestBenchmark.BATCH_SIZE);
        IngestBenchmark.post(
            load, workload.warmupSingles(), sizes.singleConcurrency(), "warm-up", 1);
        Phase batches =
            IngestBenchmark.post(
                load,
                workload.batches(),
                sizes.batchConcurrency(),
                "batch API, 1,000 per request",
                IngestBenchmark.BATCH_SIZE);
        Phase singles =
            IngestBenchmark.post(
                load, workload.singles(), sizes.singleConcurrency(), "single payouts", 1);
        return new Run(setup, batches, singles);
      }
    } finally {
      if (kafka != null) {
        kafka.close();
      }
      TempDirs.deleteQuietly(work);
    }
  }

  static void print(List<Run> runs) {
    System.out.printf(
        Locale.ROOT,
        "%n%-42s %14s %14s %12s %8s%n",
        "setup",
        "batch payouts/s",
        "singles/s",
        "single p99 ms",
        "errors");
    for (Run r : runs) {
      System.out.printf(
          Locale.ROOT,
          "%-42s %14.0f %14.0f %12.1f %8d%n",
          r.setup(),
          r.batches().payouts() / r.batches().seconds(),
          r.singles().payouts() / r.singles().seconds(),
          r.singles().p99Millis(),
          r.batches().errors() + r.singles().errors());
    }
    Run one = runs.get(0);
    Run three = runs.get(1);
    System.out.printf(
        Locale.ROOT,
        "three brokers / one broker: batch API %.2fx, single payouts %.2fx (same run)%n",
        (three.batches().payouts() / three.batches().seconds())
            / (one.batches().payouts() / one.batches().seconds()),
        (three.singles().payouts() / three.singles().seconds())
            / (one.singles().payouts() / one.singles().seconds()));
  }
}
