package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.txgw.cli.Txgw;
import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.config.Secret;
import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.KafkaSecurity;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Chain;
import io.txgw.common.model.Payout;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.consumer.TxConsumer;
import io.txgw.consumer.TxConsumerConfig;
import io.txgw.deploy.infra.ChildProcess;
import io.txgw.deploy.infra.EmbeddedKafka;
import io.txgw.deploy.infra.Ports;
import io.txgw.deploy.infra.ScramKafka;
import io.txgw.deploy.infra.TrustFiles;
import io.txgw.gateway.Gateway;
import io.txgw.gateway.GatewayConfig;
import io.txgw.loadgen.GatewayClient;
import io.txgw.loadgen.PayoutFactory;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Against a real broker with SCRAM logins and the ACL set of {@link
 * io.txgw.common.kafka.KafkaAcls}: the gateway and the consumers do their work with their own
 * credentials, and nobody else writes what they write.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KafkaSecurityIT {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final Secret API_KEY = new Secret("it-key-0123456789abcdef");
  private static final String ETH_SOURCE = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

  @TempDir static Path dir;
  static EmbeddedKafka kafka;
  static Gateway gateway;
  static TrustFiles trust;

  @BeforeAll
  static void startBrokerAndGateway() throws Exception {
    kafka = ScramKafka.start(dir.resolve("kafka"), 2);
    trust = TrustFiles.create(dir.resolve("trust"), Map.of("it", List.of("ETH:" + ETH_SOURCE)));
    Map<String, String> env = new HashMap<>(kafka.clientEnv(ScramKafka.GATEWAY));
    env.putAll(trust.env());
    env.put("TXGW_HTTP_PORT", "0");
    env.put("TXGW_ADMIN_PORT", "0");
    env.put("TXGW_API_KEYS", "it=" + API_KEY.reveal());
    env.put("TXGW_STATE_DIR", dir.resolve("gateway-state").toString());
    env.put("TXGW_TOPIC_PARTITIONS", "2");
    // Every client of the gateway (producers, the Streams view, lag watch, layout check) must
    // work as the gateway principal, or start() fails.
    gateway = new Gateway(GatewayConfig.fromEnv(env)).start();
  }

  @AfterAll
  static void stop() {
    if (gateway != null) {
      gateway.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  private static KafkaConnection as(String user) {
    return kafka.connection(user);
  }

  private static Map<String, Object> quick(KafkaConnection connection, Map<String, Object> own) {
    Map<String, Object> props = connection.clientProperties(own);
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
    props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 10_000);
    props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
    return props;
  }

  private static KafkaProducer<String, String> producer(
      KafkaConnection connection, String transactionalId) {
    Map<String, Object> own = new HashMap<>();
    if (transactionalId != null) {
      own.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    }
    return new KafkaProducer<>(
        quick(connection, own), new StringSerializer(), new StringSerializer());
  }

  @Test
  void theGatewayTakesABatchAndTheConsumerPrincipalPaysItOutOfSendtoInOneTransaction()
      throws Exception {
    PayoutFactory factory = new PayoutFactory(new AddressCodec(BitcoinNetwork.MAIN), 7);
    GatewayClient client = new GatewayClient("http://127.0.0.1:" + gateway.port(), API_KEY);
    GatewayClient.Answer answer =
        client.postBatch(
            new BatchSubmission(
                "sec-1",
                "ETH",
                ETH_SOURCE,
                factory.payouts(Chain.ETH, "sec", 3, BigInteger.ONE, BigInteger.TEN)));
    assertThat(answer.status()).as(String.valueOf(answer.body())).isBetween(200, 299);

    List<Payout> taken = new ArrayList<>();
    Map<String, Object> own = new HashMap<>();
    own.put(ConsumerConfig.GROUP_ID_CONFIG, "txgw-payouts");
    own.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    own.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    own.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    Map<String, Object> transactional = new HashMap<>();
    transactional.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "txgw-consumer-it");
    try (KafkaConsumer<String, Payout> consumer =
            new KafkaConsumer<>(
                as(ScramKafka.CONSUMER).clientProperties(own),
                new StringDeserializer(),
                new JsonSerde<>(Payout.class));
        KafkaProducer<String, PayoutResult> results =
            new KafkaProducer<>(
                quick(as(ScramKafka.CONSUMER), transactional),
                new StringSerializer(),
                new JsonSerde<>(PayoutResult.class))) {
      consumer.subscribe(List.of(Topics.SENDTO));
      Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (taken.size() < 3 && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, Payout> r : consumer.poll(Duration.ofMillis(200))) {
          taken.add(r.value());
          offsets.put(
              new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
        }
      }
      assertThat(taken).hasSize(3).allMatch(p -> p.batchId().equals("sec-1"));
      results.initTransactions();
      results.beginTransaction();
      for (Payout p : taken) {
        PayoutResult failed = PayoutResult.failed(p, "it", "no node in this test", Instant.now());
        results.send(new ProducerRecord<>(Topics.RESULTS, failed.resultKey(), failed));
      }
      results.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
      results.commitTransaction();
    }
    // The gateway's view reads the results as the gateway principal.
    await()
        .atMost(WAIT)
        .until(() -> client.batch("sec-1").body().path("counts").path("FAILED").asInt() == 3);
    // And the load generator's results check reads them as its own.
    assertThat(readAll(as(ScramKafka.LOADGEN), Topics.RESULTS)).hasSizeGreaterThanOrEqualTo(3);
  }

  @Test
  void theRealConsumerStartsAndJoinsItsGroupAsTheConsumerPrincipal() throws Exception {
    Map<String, String> env = new HashMap<>(kafka.clientEnv(ScramKafka.CONSUMER));
    env.putAll(trust.env());
    env.put("TXGW_CONSUMER_ID", "consumer-sec");
    env.put("TXGW_CONSUMER_GROUP", "txgw-payouts");
    // Never called while sendto holds nothing this group has not committed past.
    env.put("TXGW_ETH_RPC_URL", "http://127.0.0.1:" + Ports.freeLoopbackPort());
    // A group of its own would need an ACL: use the stack's and wait for the member to show.
    try (TxConsumer consumer = new TxConsumer(TxConsumerConfig.fromEnv(env), env)) {
      consumer.start();
      try (Admin admin = Admin.create(as(EmbeddedKafka.ADMIN).clientProperties())) {
        await()
            .atMost(WAIT)
            .until(
                () -> {
                  ConsumerGroupDescription group =
                      admin
                          .describeConsumerGroups(List.of("txgw-payouts"))
                          .all()
                          .get(10, TimeUnit.SECONDS)
                          .get("txgw-payouts");
                  return group.groupState() == GroupState.STABLE
                      && group.members().stream()
                          .anyMatch(m -> m.clientId().equals("consumer-sec"));
                });
      }
    }
  }

  @Test
  void theConsumerPrincipalCannotWriteSendto() {
    try (KafkaProducer<String, String> p = producer(as(ScramKafka.CONSUMER), null)) {
      assertThatThrownBy(() -> p.send(new ProducerRecord<>(Topics.SENDTO, "k", "v")).get())
          .hasCauseInstanceOf(TopicAuthorizationException.class);
    }
  }

  @Test
  void theGatewayPrincipalCannotWriteResultsNorTheJournal() {
    try (KafkaProducer<String, String> p = producer(as(ScramKafka.GATEWAY), null)) {
      for (String topic : List.of(Topics.RESULTS, Topics.JOURNAL, Topics.SENDTO_DEAD_LETTER)) {
        assertThatThrownBy(() -> p.send(new ProducerRecord<>(topic, "k", "v")).get())
            .as(topic)
            .hasCauseInstanceOf(TopicAuthorizationException.class);
      }
    }
  }

  @Test
  void theGatewayPrincipalCannotTakeAConsumersTransactionalId() {
    try (KafkaProducer<String, String> p = producer(as(ScramKafka.GATEWAY), "txgw-consumer-1")) {
      assertThatThrownBy(p::initTransactions)
          .isInstanceOf(TransactionalIdAuthorizationException.class);
    }
  }

  @Test
  void theOperatorAndLoadgenPrincipalsCannotWriteSendto() {
    for (String user : List.of(ScramKafka.OPERATOR, ScramKafka.LOADGEN)) {
      try (KafkaProducer<String, String> p = producer(as(user), null)) {
        assertThatThrownBy(() -> p.send(new ProducerRecord<>(Topics.SENDTO, "k", "v")).get())
            .as(user)
            .cause()
            .isInstanceOfAny(
                TopicAuthorizationException.class,
                org.apache.kafka.common.errors.ClusterAuthorizationException.class);
      }
    }
  }

  @Test
  void anUnknownUserOrAWrongPasswordIsRefusedAtLogin() {
    for (KafkaSecurity who :
        List.of(
            KafkaSecurity.scram("mallory", new Secret("guess")),
            KafkaSecurity.scram(ScramKafka.GATEWAY, new Secret("not-the-password")))) {
      KafkaConnection connection = new KafkaConnection(kafka.bootstrapServers(), who);
      try (Admin admin = Admin.create(quickAdmin(connection))) {
        assertThatThrownBy(() -> admin.describeCluster().clusterId().get(10, TimeUnit.SECONDS))
            .as(who.toString())
            .isInstanceOf(ExecutionException.class)
            .hasCauseInstanceOf(SaslAuthenticationException.class);
      }
    }
  }

  @Test
  void aClientWithoutCredentialsGetsNoAnswer() {
    try (Admin admin =
        Admin.create(quickAdmin(KafkaConnection.plaintext(kafka.bootstrapServers())))) {
      assertThatThrownBy(() -> admin.describeCluster().clusterId().get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(org.apache.kafka.common.errors.TimeoutException.class);
    }
  }

  @Test
  @Order(Integer.MAX_VALUE) // the payout group exists once the tests above have run
  void theOperatorReadsLagButOnlyTheAdminAppliesTheAcls() throws Exception {
    CliRun lag = cli(ScramKafka.OPERATOR, "lag", "--interval", "0.2", "--json");
    assertThat(lag.exit()).as(lag.output()).isZero();
    assertThat(lag.output()).contains("\"group\"").contains("txgw-payouts");

    CliRun asOperator = cli(ScramKafka.OPERATOR, "kafka-acls", "--apply", "--timeout", "10");
    assertThat(asOperator.exit()).as(asOperator.output()).isEqualTo(1);
    assertThat(asOperator.output()).contains("ACLs not created").contains("Authorization");

    CliRun asAdmin = cli(EmbeddedKafka.ADMIN, "kafka-acls", "--apply", "--timeout", "10");
    assertThat(asAdmin.exit()).as(asAdmin.output()).isZero();
    assertThat(asAdmin.output()).contains("created").doesNotContain("password");
  }

  private record CliRun(int exit, String output) {}

  /** The txgw command in a JVM of its own, whose environment holds {@code user}'s login. */
  private static CliRun cli(String user, String... args) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command =
        new ArrayList<>(
            List.of(
                java,
                "-Xmx128m",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                System.getProperty("java.class.path"),
                Txgw.class.getName()));
    command.addAll(List.of(args));
    Path log = dir.resolve("cli-" + user + "-" + args[0] + "-" + System.nanoTime() + ".log");
    try (ChildProcess process =
        ChildProcess.start("txgw-" + args[0], command, dir, kafka.clientEnv(user), log)) {
      assertThat(process.awaitExit(WAIT)).as("txgw " + args[0] + " exited").isTrue();
      return new CliRun(process.exitCode(), Files.readString(log));
    }
  }

  private static Map<String, Object> quickAdmin(KafkaConnection connection) {
    return connection.clientProperties(
        Map.of(
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3_000,
            AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000));
  }

  private static List<ConsumerRecord<String, String>> readAll(
      KafkaConnection connection, String topic) {
    Map<String, Object> own = new HashMap<>();
    own.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    own.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    List<ConsumerRecord<String, String>> all = new ArrayList<>();
    try (KafkaConsumer<String, String> c =
        new KafkaConsumer<>(
            connection.clientProperties(own), new StringDeserializer(), new StringDeserializer())) {
      List<TopicPartition> tps =
          c.partitionsFor(topic, WAIT).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      c.assign(tps);
      c.seekToBeginning(tps);
      Map<TopicPartition, Long> ends = c.endOffsets(tps, WAIT);
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (tps.stream().anyMatch(tp -> c.position(tp, WAIT) < ends.get(tp))
          && System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(all::add);
      }
    }
    return all;
  }
}
