package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.cli.Txgw;
import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.LayoutStore;
import io.txgw.common.kafka.TopicLayout;
import io.txgw.common.kafka.TopicLayout.Recorded;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Address;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.common.model.PayoutStatus;
import io.txgw.coordinator.control.Controls;
import io.txgw.coordinator.zk.ZkClients;
import io.txgw.deploy.infra.EmbeddedKafka;
import io.txgw.deploy.infra.EmbeddedZooKeeper;
import io.txgw.deploy.infra.TrustFiles;
import io.txgw.gateway.Gateway;
import io.txgw.gateway.GatewayConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.retry.RetryOneTime;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code txgw grow-partitions} against a real broker and ZooKeeper. Every test starts from topics
 * of 2 partitions, layout recorded, no chain paused.
 */
class GrowPartitionsIT {
  @TempDir static Path dir;
  static EmbeddedKafka kafka;
  static EmbeddedZooKeeper zooKeeper;
  static CuratorFramework zk;
  static Admin admin;

  @BeforeAll
  static void startBrokerAndZooKeeper() {
    kafka = new EmbeddedKafka(dir.resolve("kafka"));
    zooKeeper = new EmbeddedZooKeeper(dir.resolve("zookeeper"));
    zk = ZkClients.open(zooKeeper.connectString()).newClient(60_000, 15_000, new RetryOneTime(200));
    zk.start();
    admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()));
  }

  @AfterAll
  static void stop() {
    if (admin != null) {
      admin.close();
    }
    if (zk != null) {
      zk.close();
    }
    if (zooKeeper != null) {
      zooKeeper.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @BeforeEach
  void twoPartitionsLaidOutAndNothingPaused() throws Exception {
    FreshTopics.laidOut(admin, kafka.bootstrapServers(), 2);
    new Controls(zk).resume(null);
  }

  @Test
  void growsBothTopicsCarriesMovedAccountsHistoryAndConsumersStartOnTheNewLayout()
      throws Exception {
    List<String> accounts = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      accounts.add("ETH:0x" + Integer.toHexString(0xa000 + i));
    }
    List<String> moving =
        accounts.stream()
            .filter(a -> TopicLayout.partitionOf(a, 4) != TopicLayout.partitionOf(a, 2))
            .toList();
    assertThat(moving).as("some accounts move from 2 to 4 partitions").isNotEmpty();
    for (String account : accounts) {
      int p = TopicLayout.partitionOf(account, 2);
      FreshTopics.write(kafka.bootstrapServers(), Topics.SENDTO, p, account, "{}");
      JournalEntry unit = recorded(account);
      FreshTopics.write(kafka.bootstrapServers(), Topics.JOURNAL, p, unit.unitId(), json(unit));
    }
    commitEverything("drained");

    Run run = txgw("grow-partitions", "--to", "4", "-g", "drained", "--drain-timeout", "10");

    assertThat(run.exit()).as(run.out() + run.err()).isZero();
    assertThat(run.out())
        .contains("paused all chains", "journal: 2 -> 4 partitions", "sendto: 2 -> 4 partitions")
        .contains("copied " + moving.size() + " journal record(s) of " + moving.size())
        .contains("resumed all chains", "done");
    assertThat(LayoutStore.live(admin).count(Topics.SENDTO)).isEqualTo(4);
    assertThat(LayoutStore.live(admin).count(Topics.JOURNAL)).isEqualTo(4);
    Recorded layout =
        LayoutStore.read(KafkaConnection.plaintext(kafka.bootstrapServers())).orElseThrow();
    assertThat(layout.partitions()).isEqualTo(4);
    assertThat(layout.changing()).isFalse();
    assertThat(new Controls(zk).read()).isEmpty();
    List<ConsumerRecord<String, JournalEntry>> journal =
        TopicReader.readAll(kafka.bootstrapServers(), Topics.JOURNAL, JournalEntry.class);
    for (String account : moving) {
      assertThat(journal)
          .as("%s's unit in its new partition", account)
          .anyMatch(
              r ->
                  r.partition() == TopicLayout.partitionOf(account, 4)
                      && r.key().equals("unit-" + account));
    }
    assertThat(
            TopicLayout.check(
                    KafkaConnection.plaintext(kafka.bootstrapServers()), TopicLayout.Role.CONSUMER)
                .partitions())
        .isEqualTo(4);
  }

  @Test
  void refusesAndChangesNothingUntilSendtoIsDrained() throws Exception {
    FreshTopics.write(kafka.bootstrapServers(), Topics.SENDTO, 0, "ETH:0xabc", "{}");

    Run run = txgw("grow-partitions", "--to", "4", "-g", "undrained", "--drain-timeout", "1");

    assertThat(run.exit()).as(run.out()).isEqualTo(1);
    assertThat(run.err())
        .contains("not drained after 1 s", "1 payout(s) of sendto to commit")
        .contains("No consumer of undrained runs", "nothing changed");
    assertUnchanged();
  }

  @Test
  void refusesWhileAGatewayRunsAndChangesNothing() throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("TXGW_HTTP_PORT", "0");
    env.put("TXGW_ADMIN_PORT", "0");
    env.putAll(TrustFiles.create(dir.resolve("trust"), Map.of("acme", List.of())).env());
    env.put("TXGW_KAFKA_BOOTSTRAP", kafka.bootstrapServers());
    env.putAll(io.txgw.common.kafka.TopicSettings.ONE_BROKER.env());
    env.put("TXGW_GATEWAY_ID", "gw-running");
    env.put("TXGW_API_KEYS", "acme=0123456789abcdef0123");
    env.put("TXGW_TOPIC_PARTITIONS", "2");
    env.put("TXGW_STATE_DIR", dir.resolve("gateway-state").toString());
    Gateway running = new Gateway(GatewayConfig.fromEnv(env)).start();
    Run run;
    try {
      run = txgw("grow-partitions", "--to", "4", "-g", "gateway", "--drain-timeout", "1");
    } finally {
      running.close();
    }

    assertThat(run.exit()).as(run.out()).isEqualTo(1);
    assertThat(run.err()).contains("gateways are running", "txgw-status-gw-running");
    assertUnchanged();
  }

  private static void assertUnchanged() throws Exception {
    assertThat(LayoutStore.live(admin).count(Topics.SENDTO)).isEqualTo(2);
    assertThat(LayoutStore.live(admin).count(Topics.JOURNAL)).isEqualTo(2);
    Recorded layout =
        LayoutStore.read(KafkaConnection.plaintext(kafka.bootstrapServers())).orElseThrow();
    assertThat(layout.partitions()).isEqualTo(2);
    assertThat(layout.changing()).isFalse();
    assertThat(new Controls(zk).read()).isEmpty();
  }

  /** The group's offsets at the end of every sendto partition, as consumers that paid all. */
  private static void commitEverything(String group) throws Exception {
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (int p = 0; p < 2; p++) {
      latest.put(new TopicPartition(Topics.SENDTO, p), OffsetSpec.latest());
    }
    Map<TopicPartition, OffsetAndMetadata> ends = new HashMap<>();
    admin
        .listOffsets(latest)
        .all()
        .get()
        .forEach((tp, info) -> ends.put(tp, new OffsetAndMetadata(info.offset())));
    admin.alterConsumerGroupOffsets(group, ends).all().get();
  }

  private static JournalEntry recorded(String account) {
    String source = account.substring("ETH:".length());
    JournalEntry.Item item =
        new JournalEntry.Item(
            "payout-" + account,
            "b1",
            "acme",
            new Address(source),
            Amount.parse("1"),
            Instant.EPOCH,
            null,
            PayoutStatus.BROADCAST,
            null);
    return new JournalEntry(
        "unit-" + account,
        Chain.ETH,
        source,
        "0x01",
        null,
        0L,
        JournalEntry.State.RECORDED,
        List.of(item),
        Instant.EPOCH,
        Instant.EPOCH);
  }

  private static String json(JournalEntry unit) {
    return new String(
        new JsonSerde<>(JournalEntry.class).serialize(Topics.JOURNAL, unit),
        StandardCharsets.UTF_8);
  }

  private record Run(int exit, String out, String err) {}

  private static Run txgw(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(
        List.of(
            "-b",
            kafka.bootstrapServers(),
            "-z",
            zooKeeper.connectString(),
            "--rebalance-timeout",
            "10"));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit =
        Txgw.run(
            new PrintWriter(out, true), new PrintWriter(err, true), all.toArray(String[]::new));
    return new Run(exit, out.toString(), err.toString());
  }
}
