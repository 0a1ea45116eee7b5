package io.txgw.consumer;

import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Address;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.common.model.PayoutStatus;
import io.txgw.deploy.infra.EmbeddedKafka;
import io.txgw.deploy.infra.TempDirs;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * How long a new owner takes to read a partition's journal at takeover, after a history of N
 * payouts written the way the consumer writes them (a PREPARED and a RECORDED record per unit, in
 * rounds of 500, the checkpoint committed with each round's offset, settled generations tombstoned
 * as they age out). Measured twice on the same log: from the committed checkpoint, as the consumer
 * reads now, and, as the baseline, the same history written without generations on a second
 * partition read from offset 0, as every takeover read it before checkpoints. Printed with the
 * payouts each read keeps in memory.
 */
public final class JournalTakeoverBenchmark {
  private static final String GROUP = "txgw-takeover-bench";
  private static final int ROUND = 500;

  private JournalTakeoverBenchmark() {}

  /** One way of reading the journal at takeover. */
  public record Read(String mode, long fromOffset, double seconds, int remembered, int pending) {}

  /** The history written, and both reads of it. */
  public record Result(int payouts, long journalRecords, double writeSeconds, List<Read> reads) {}

  public static void main(String[] args) throws Exception {
    int payouts = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    int window = args.length > 1 ? Integer.parseInt(args[1]) : PayoutProcessor.DEFAULT_HORIZON;
    print(run(payouts, window));
    System.exit(0);
  }

  public static Result run(int payouts, int window) throws Exception {
    Path dir = java.nio.file.Files.createTempDirectory("txgw-takeover-");
    try (EmbeddedKafka kafka = new EmbeddedKafka(dir.resolve("kafka"))) {
      String bootstrap = kafka.bootstrapServers();
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        Topics.ensure(admin, 2, io.txgw.common.kafka.TopicSettings.ONE_BROKER);
      }
      long start = System.nanoTime();
      long records = writeHistory(bootstrap, 0, payouts, window);
      double writeSeconds = (System.nanoTime() - start) / 1e9;
      writeHistory(bootstrap, 1, payouts, Integer.MAX_VALUE);
      JournalCheckpoint checkpoint = committedCheckpoint(bootstrap);
      JournalReader reader = new JournalReader(KafkaConnection.plaintext(bootstrap));
      List<Read> reads = new ArrayList<>();
      // Baseline first, so that the checkpoint read cannot profit from a colder cache.
      reads.add(read(reader, "whole journal (before)", 1, JournalCheckpoint.START));
      reads.add(read(reader, "from the checkpoint (now)", 0, checkpoint));
      reads.add(read(reader, "whole journal (before)", 1, JournalCheckpoint.START));
      reads.add(read(reader, "from the checkpoint (now)", 0, checkpoint));
      return new Result(payouts, records, writeSeconds, reads);
    } finally {
      TempDirs.deleteQuietly(dir);
    }
  }

  private static Read read(
      JournalReader reader, String mode, int partition, JournalCheckpoint from) {
    long start = System.nanoTime();
    JournalIndex index = reader.read(Map.of(partition, from)).get(partition);
    double seconds = (System.nanoTime() - start) / 1e9;
    return new Read(mode, from.previousStart(), seconds, index.remembered(), index.pendingCount());
  }

  /**
   * Writes the journal of {@code payouts} ETH payouts on one partition as one consumer would, with
   * generations of {@code window} (none when it is {@code Integer.MAX_VALUE}); answers its size.
   */
  private static long writeHistory(String bootstrap, int partition, int payouts, int window) {
    TopicPartition journal = new TopicPartition(Topics.JOURNAL, partition);
    TopicPartition sendto = new TopicPartition(Topics.SENDTO, partition);
    JournalIndex index = new JournalIndex();
    long written = 0;
    try (KafkaProducer<String, Object> producer = producer(bootstrap, partition);
        KafkaConsumer<byte[], byte[]> ends = endReader(bootstrap)) {
      producer.initTransactions();
      ConsumerGroupMetadata group = new ConsumerGroupMetadata(GROUP);
      for (int first = 0; first < payouts; first += ROUND) {
        int last = Math.min(first + ROUND, payouts);
        List<JournalEntry> round = new ArrayList<>();
        for (int i = first; i < last; i++) {
          round.add(prepared(i));
        }
        // As the consumer does: a roll when its journal transaction begins with nothing pending.
        List<String> forgotten = List.of();
        if (window != Integer.MAX_VALUE
            && index.shouldRoll(Math.max(1, window / 4), window, first)) {
          forgotten = index.roll(ends.endOffsets(List.of(journal)).get(journal));
        }
        producer.beginTransaction();
        for (String unitId : forgotten) {
          producer.send(new ProducerRecord<>(Topics.JOURNAL, partition, unitId, null));
        }
        for (JournalEntry unit : round) {
          producer.send(new ProducerRecord<>(Topics.JOURNAL, partition, unit.unitId(), unit));
          index.apply(unit);
        }
        producer.sendOffsetsToTransaction(
            Map.of(sendto, new OffsetAndMetadata(first, index.checkpoint().metadata())), group);
        producer.commitTransaction();
        written += round.size() + forgotten.size();

        producer.beginTransaction();
        for (JournalEntry unit : round) {
          JournalEntry recorded =
              unit.withState(
                  JournalEntry.State.RECORDED,
                  unit.payouts().stream()
                      .map(p -> p.withOutcome(PayoutStatus.BROADCAST, null))
                      .toList(),
                  Instant.EPOCH);
          producer.send(new ProducerRecord<>(Topics.JOURNAL, partition, unit.unitId(), recorded));
        }
        producer.sendOffsetsToTransaction(
            Map.of(sendto, new OffsetAndMetadata(last, index.checkpoint().metadata())), group);
        producer.commitTransaction();
        round.forEach(
            u -> index.apply(u.withState(JournalEntry.State.RECORDED, u.payouts(), Instant.EPOCH)));
        written += round.size();
      }
    }
    return written;
  }

  private static JournalEntry prepared(int i) {
    String txid = String.format("0x%064x", i);
    JournalEntry.Item item =
        new JournalEntry.Item(
            "p" + i,
            "b" + (i / 10_000),
            "acme",
            new Address(String.format("0x%040x", i)),
            Amount.parse("0.0" + (1 + i % 999)),
            Instant.EPOCH,
            null,
            PayoutStatus.ACCEPTED,
            null);
    // A signed legacy transfer is about 110 bytes: 220 hex characters.
    String raw = "0xf86c" + "ab".repeat(107);
    return new JournalEntry(
        "ETH:" + txid,
        Chain.ETH,
        "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
        txid,
        raw,
        (long) i,
        JournalEntry.State.PREPARED,
        List.of(item),
        Instant.EPOCH,
        Instant.EPOCH,
        (long) i);
  }

  private static JournalCheckpoint committedCheckpoint(String bootstrap) {
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, GROUP),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      TopicPartition sendto = new TopicPartition(Topics.SENDTO, 0);
      return JournalCheckpoint.of(consumer.committed(Set.of(sendto)).get(sendto));
    }
  }

  private static KafkaProducer<String, Object> producer(String bootstrap, int partition) {
    return new KafkaProducer<>(
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap,
            ProducerConfig.TRANSACTIONAL_ID_CONFIG,
            "txgw-takeover-bench-" + partition,
            ProducerConfig.LINGER_MS_CONFIG,
            5,
            ProducerConfig.BATCH_SIZE_CONFIG,
            256 * 1024,
            ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
            Topics.MAX_MESSAGE_BYTES),
        new StringSerializer(),
        new JsonSerde<>(Object.class));
  }

  private static KafkaConsumer<byte[], byte[]> endReader(String bootstrap) {
    return new KafkaConsumer<>(
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap,
            ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            "read_committed"),
        new ByteArrayDeserializer(),
        new ByteArrayDeserializer());
  }

  public static void print(Result r) {
    System.out.printf(
        Locale.ROOT,
        "%nhistory: %,d payouts, %,d journal records written in %.1f s%n",
        r.payouts(),
        r.journalRecords(),
        r.writeSeconds());
    System.out.printf(
        Locale.ROOT,
        "%-28s %12s %9s %12s %8s%n",
        "takeover read",
        "from",
        "seconds",
        "remembered",
        "pending");
    for (Read read : r.reads()) {
      System.out.printf(
          Locale.ROOT,
          "%-28s %12d %9.2f %12d %8d%n",
          read.mode(),
          read.fromOffset(),
          read.seconds(),
          read.remembered(),
          read.pending());
    }
    Read before = r.reads().get(2);
    Read now = r.reads().get(3);
    System.out.printf(
        Locale.ROOT,
        "takeover: %.2f s from the checkpoint, %.2f s for the whole journal: %.1fx faster, %.1fx"
            + " fewer payouts in memory%n",
        now.seconds(),
        before.seconds(),
        before.seconds() / now.seconds(),
        (double) before.remembered() / Math.max(1, now.remembered()));
  }
}
