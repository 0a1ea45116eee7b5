package io.txgw.consumer.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.json.Json;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Address;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.common.model.Payout;
import io.txgw.common.model.PayoutResult;
import io.txgw.consumer.AccountGuard;
import io.txgw.consumer.ManualClock;
import io.txgw.consumer.SimulatedProcess;
import io.txgw.consumer.chain.EthereumSender;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.common.KafkaException;
import org.junit.jupiter.api.Test;

/**
 * Issue scenario 6: a consumer frozen inside its journal transaction while its partition moves to
 * another. Whichever side of the group check it froze on, the next owner never prepares what it
 * journaled: either the frozen transaction commits and holds the next owner's journal read back
 * until it has (the next owner then settles those units), or it is refused and aborted (the next
 * owner then prepares the payouts itself). Each payout is paid once.
 */
class FrozenInsideTransactionTest {
  private static final String SOURCE = io.txgw.consumer.TestTrust.ethAddress(0xa0);

  private final List<String> trace = new ArrayList<>();
  private final SimKafka kafka = new SimKafka(1);
  private final SimEthNode node =
      new SimEthNode(new Random(7), SimEthNode.Dialect.GETH, true, trace::add);
  private final ManualClock clock = new ManualClock();
  private final List<Payout> payouts = new ArrayList<>();
  private final Map<String, Instant> quarantine = new HashMap<>();

  private final class Process {
    final String name;
    final SimConsumer consumer;
    final List<SimProducer> producers = new ArrayList<>();
    final SimulatedProcess loop;

    Process(String name) {
      this.name = name;
      consumer = kafka.newConsumer(name);
      quarantine.put(name, Instant.MIN);
      loop =
          new SimulatedProcess(
              consumer,
              () -> {
                producers.add(kafka.newProducer("txgw-" + name));
                return producers.get(producers.size() - 1);
              },
              Map.of(
                  Chain.ETH,
                  new EthereumSender(
                          node,
                          clock,
                          x -> false,
                          null,
                          new io.txgw.consumer.signing.AccountSigners(
                              java.util.List.of(new SimNodeSigner(node))),
                          SimEthNode.CHAIN_ID)
                      .replacingUndecodedAsCoin()),
              io.txgw.consumer.TestTrust.intake("acme", java.util.Set.of("ETH:" + SOURCE)),
              p -> journal(p),
              1_000,
              AccountGuard.unguarded(),
              clock,
              () -> clock.instant().isBefore(quarantine.get(name)),
              io.txgw.consumer.finality.Finality.none());
      loop.start();
    }

    SimProducer producer() {
      return producers.get(producers.size() - 1);
    }

    void poll() {
      try {
        loop.pollOnce();
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private List<SimulatedProcess.Logged> journal(int partition) {
    if (kafka.hasOpenTransaction(Topics.JOURNAL, partition)) {
      throw new KafkaException("journal has an open transaction; the real reader waits");
    }
    return kafka.committed(Topics.JOURNAL, partition).stream()
        .map(r -> new SimulatedProcess.Logged(r.offset(), (JournalEntry) r.value()))
        .toList();
  }

  private void post(int n) throws Exception {
    node.fund(SOURCE, BigInteger.TEN.pow(24));
    for (int i = payouts.size(), end = payouts.size() + n; i < end; i++) {
      Payout p =
          new Payout(
              "p" + i,
              "b1",
              "acme",
              Chain.ETH,
              Chain.ETH.nativeAsset(),
              SOURCE,
              new Address(io.txgw.consumer.TestTrust.ethAddress(0x1000 + i)),
              Amount.parse("1"),
              null,
              Instant.EPOCH);
      payouts.add(p);
      byte[] bytes = Json.mapper().writeValueAsBytes(p);
      kafka.append(
          Topics.SENDTO,
          0,
          p.accountKey(),
          new SealedValue(bytes, io.txgw.consumer.TestTrust.SEAL.seal(p.accountKey(), bytes)));
    }
  }

  private void freezeAt(SimKafka.Call call, Process frozen, Process next) {
    freezeAt(call, frozen, next, false);
  }

  /**
   * @param pastTimeout frozen past {@code transaction.timeout.ms} too: the coordinator aborts its
   *     transaction
   */
  private void freezeAt(SimKafka.Call call, Process frozen, Process next, boolean pastTimeout) {
    kafka.pauseBeforeNext(
        call,
        () -> {
          kafka.expire(frozen.consumer);
          kafka.rebalance(new Random(1));
          if (pastTimeout) {
            assertThat(kafka.timeOutTransaction(frozen.producer())).isTrue();
          }
          for (int i = 0; i < 5; i++) {
            next.poll();
            clock.advance(java.time.Duration.ofSeconds(1));
          }
          // Awake again, the pause detector holds its broadcasts back.
          quarantine.put(frozen.name, clock.instant().plusSeconds(10));
        });
  }

  private void runUntilSettled(Process a, Process b) {
    for (int i = 0; i < 50; i++) {
      a.poll();
      b.poll();
      clock.advance(java.time.Duration.ofSeconds(1));
      if (kafka.assignments().values().stream().mapToInt(List::size).sum() == 0) {
        // The frozen one rejoined after its session expired: the group deals again.
        kafka.rebalance(new Random(2));
      }
    }
  }

  private void assertEachPaidOnce() {
    Map<String, Integer> paid = new HashMap<>();
    node.transfers().forEach(t -> paid.merge(t.to(), 1, Integer::sum));
    for (Payout p : payouts) {
      assertThat(paid.get(p.to().value())).as(p.id() + " paid").isEqualTo(1);
    }
    Map<String, Integer> results = new HashMap<>();
    kafka
        .committed(Topics.RESULTS)
        .forEach(r -> results.merge(((PayoutResult) r.value()).payoutId(), 1, Integer::sum));
    assertThat(results).hasSize(payouts.size()).allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
  }

  /** Two consumers; whichever owns the partition first freezes at {@code call} mid-journal. */
  private void freezeTheOwnerAt(SimKafka.Call call) throws Exception {
    post(3);
    Process a = new Process("a");
    Process b = new Process("b");
    kafka.rebalance(new Random(3));
    Process owner = kafka.assignments().getOrDefault("a", List.of()).isEmpty() ? b : a;
    freezeAt(call, owner, owner == a ? b : a);
    runUntilSettled(a, b);
    assertEachPaidOnce();
  }

  @Test
  void frozenAfterItsOffsetsPassedTheCheckItsJournalCommitsLateAndTheNextOwnerSettlesItsUnits()
      throws Exception {
    freezeTheOwnerAt(SimKafka.Call.COMMIT);
  }

  @Test
  void frozenBeforeItsOffsetsWereCheckedItsJournalIsAbortedAndTheNextOwnerPreparesThePayouts()
      throws Exception {
    freezeTheOwnerAt(SimKafka.Call.SEND_OFFSETS);
  }

  @Test
  void frozenPastItsTransactionTimeoutItReplacesItsUnusableProducerAndPaysOn() throws Exception {
    // Transaction protocol 2: the timed-out transaction leaves the frozen one's producer fatally
    // failed, an abort refused too. Tried again, it would keep its partition and pay nothing.
    kafka.fatalTimeouts(true);
    post(3);
    Process a = new Process("a");
    Process b = new Process("b");
    kafka.rebalance(new Random(3));
    Process owner = kafka.assignments().getOrDefault("a", List.of()).isEmpty() ? b : a;
    Process other = owner == a ? b : a;
    freezeAt(SimKafka.Call.COMMIT, owner, other, true);
    runUntilSettled(a, b);

    // The other one dies: what is posted now only the once-frozen one can pay.
    kafka.kill(other.consumer);
    kafka.rebalance(new Random(4));
    post(3);
    for (int i = 0; i < 30; i++) {
      owner.poll();
      clock.advance(java.time.Duration.ofSeconds(1));
    }
    assertEachPaidOnce();
    assertThat(owner.producers).as("producers of the once-frozen process").hasSize(2);
  }
}
