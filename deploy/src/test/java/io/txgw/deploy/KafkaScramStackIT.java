package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Chain;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.model.PayoutStatus;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.PayoutLine;
import io.txgw.deploy.infra.ScramKafka;
import io.txgw.loadgen.GatewayClient;
import io.txgw.loadgen.PayoutFactory;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole stack with Kafka taking SCRAM logins and ACLs: the real gateway and consumer, each as
 * its own principal, pay a batch on anvil.
 */
class KafkaScramStackIT {
  private static LocalStack stack;

  @BeforeAll
  static void startStack() throws Exception {
    stack = LocalStack.startWithKafkaScram(LocalStack.Options.defaults());
  }

  @AfterAll
  static void stopStack() {
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void aBatchIsPaidWithEveryPartLoggedInAsItsOwnPrincipal() throws Exception {
    GatewayClient client = new GatewayClient(stack.gatewayUrl(), stack.apiKey());
    PayoutFactory factory = new PayoutFactory(new AddressCodec(BitcoinNetwork.BCOIN_REGTEST), 9);
    List<PayoutLine> lines =
        factory.payouts(Chain.ETH, "scram", 5, BigInteger.ONE, new BigInteger("1000000000"));
    GatewayClient.Answer answer =
        client.postBatch(new BatchSubmission("scram-eth", "ETH", stack.ethSource(), lines));
    assertThat(answer.status()).isEqualTo(202);

    JsonNode status = Demo.awaitFinal(client, "scram-eth", 5, Duration.ofMinutes(2));
    assertThat(status.path("counts").path("CONFIRMED").asInt()).isEqualTo(5);
    List<PayoutResult> results = results(stack.kafkaConnection(ScramKafka.LOADGEN));
    assertThat(results)
        .filteredOn(r -> r.batchId().equals("scram-eth"))
        .extracting(PayoutResult::status)
        .contains(PayoutStatus.BROADCAST, PayoutStatus.CONFIRMED);
  }

  private static List<PayoutResult> results(KafkaConnection connection) {
    Map<String, Object> own = new HashMap<>();
    own.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    own.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    List<PayoutResult> all = new ArrayList<>();
    Duration wait = Duration.ofSeconds(30);
    try (KafkaConsumer<String, PayoutResult> c =
        new KafkaConsumer<>(
            connection.clientProperties(own),
            new StringDeserializer(),
            new JsonSerde<>(PayoutResult.class))) {
      List<TopicPartition> tps =
          c.partitionsFor(Topics.RESULTS, wait).stream()
              .map(p -> new TopicPartition(Topics.RESULTS, p.partition()))
              .toList();
      c.assign(tps);
      c.seekToBeginning(tps);
      Map<TopicPartition, Long> ends = c.endOffsets(tps, wait);
      long deadline = System.nanoTime() + wait.toNanos();
      while (tps.stream().anyMatch(tp -> c.position(tp, wait) < ends.get(tp))
          && System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(r -> all.add(r.value()));
      }
    }
    return all;
  }
}
