package io.txgw.consumer.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.consumer.rpc.RpcException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SendsAheadTest {
  private final List<String> sent = Collections.synchronizedList(new ArrayList<>());
  private final List<String> startedAhead = new ArrayList<>();
  private final List<String> sentEarly = Collections.synchronizedList(new ArrayList<>());

  private static JournalEntry unit(int nonce) {
    String txid = "0x" + "%064x".formatted(nonce);
    return new JournalEntry(
        "ETH:" + txid,
        Chain.ETH,
        "0x00000000000000000000000000000000000000a1",
        txid,
        "raw-" + nonce,
        (long) nonce,
        JournalEntry.State.PREPARED,
        List.of(),
        Instant.EPOCH,
        Instant.EPOCH);
  }

  private static List<JournalEntry> units(int n) {
    List<JournalEntry> units = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      units.add(unit(i));
    }
    return units;
  }

  private SendsAhead round(
      List<JournalEntry> units,
      java.util.function.Predicate<JournalEntry> atOnce,
      SendsAhead.Send send,
      java.util.concurrent.Executor executor,
      int width) {
    return new SendsAhead(
        units,
        atOnce,
        u -> startedAhead.add(u.rawTransaction()),
        u -> sentEarly.add(u.rawTransaction()),
        send,
        executor,
        width);
  }

  /** Records each send; the node answers "ok", but refuses {@code refusedRaw} with {@code e}. */
  /** A node's JSON-RPC error answer (code -32000), as geth words a refused transaction. */
  private static RpcException nodeError(String message) {
    return new RpcException(RpcException.Kind.NODE_ERROR, -32000, 200, message, null);
  }

  private SendsAhead.Send refusing(String refusedRaw, RpcException e) {
    return raw -> {
      sent.add(raw);
      if (raw.equals(refusedRaw)) {
        throw e;
      }
      return TextNode.valueOf("ok");
    };
  }

  private SendsAhead.Send recording() {
    return raw -> {
      sent.add(raw);
      return TextNode.valueOf("answer to " + raw);
    };
  }

  @Test
  void startsTheNextUnitsSendsInTheRoundsOrderUpToTheWidthAndAnswersEachWithItsOwnSend()
      throws Exception {
    List<JournalEntry> units = units(5);
    try (SendsAhead round = round(units, u -> true, recording(), Runnable::run, 3)) {
      JsonNode first = round.send(units.get(0));
      assertThat(sent).containsExactly("raw-0", "raw-1", "raw-2");
      assertThat(first.asText()).isEqualTo("answer to raw-0");

      JsonNode second = round.send(units.get(1));
      assertThat(second.asText()).isEqualTo("answer to raw-1");
      assertThat(sent).containsExactly("raw-0", "raw-1", "raw-2", "raw-3");

      round.send(units.get(2));
      round.send(units.get(3));
      assertThat(round.send(units.get(4)).asText()).isEqualTo("answer to raw-4");
    }
    // Each unit's bytes went to the node once, in the round's order.
    assertThat(sent).containsExactly("raw-0", "raw-1", "raw-2", "raw-3", "raw-4");
    assertThat(startedAhead).containsExactly("raw-1", "raw-2", "raw-3", "raw-4");
  }

  @Test
  void aUnitWhoseTurnWouldAskTheChainFirstIsNotStartedAheadButSentAtItsTurn() throws Exception {
    List<JournalEntry> units = units(4);
    Set<String> looksUpFirst = Set.of(units.get(1).txid());
    try (SendsAhead round =
        round(units, u -> !looksUpFirst.contains(u.txid()), recording(), Runnable::run, 3)) {
      round.send(units.get(0));
      assertThat(sent).containsExactly("raw-0", "raw-2", "raw-3");
      assertThat(round.send(units.get(1)).asText()).isEqualTo("answer to raw-1");
      round.send(units.get(2));
      round.send(units.get(3));
    }
    assertThat(sent).containsExactly("raw-0", "raw-2", "raw-3", "raw-1");
  }

  @Test
  void aSendsFailureIsTheAnswerAtItsUnitsTurnNotBefore() throws Exception {
    List<JournalEntry> units = units(3);
    RpcException refused = nodeError("nonce too low");
    try (SendsAhead round = round(units, u -> true, refusing("raw-1", refused), Runnable::run, 2)) {
      assertThat(round.send(units.get(0)).asText()).isEqualTo("ok");
      assertThatThrownBy(() -> round.send(units.get(1))).isSameAs(refused);
      assertThat(round.send(units.get(2)).asText()).isEqualTo("ok");
    }
  }

  @Test
  void aSendStartedAheadThatTheNodeNeverSawIsSentOnceMoreAtItsTurnAndTheRestGoOneAtATime()
      throws Exception {
    List<JournalEntry> units = units(5);
    AtomicInteger heldBack = new AtomicInteger();
    SendsAhead.Send send =
        raw -> {
          sent.add(raw);
          if (raw.equals("raw-1") && heldBack.getAndIncrement() == 0) {
            throw new RpcException(
                RpcException.Kind.HELD_BACK, null, 0, "no share of the budget in time", null);
          }
          return TextNode.valueOf("ok " + raw);
        };
    try (SendsAhead round = round(units, u -> true, send, Runnable::run, 3)) {
      round.send(units.get(0));
      assertThat(sent).containsExactly("raw-0", "raw-1", "raw-2");
      assertThat(round.send(units.get(1)).asText()).isEqualTo("ok raw-1");
      assertThat(round.refused()).isTrue();
      // No more sends ahead in this round: unit 3 goes at its turn.
      assertThat(sent).containsExactly("raw-0", "raw-1", "raw-2", "raw-1");
      round.send(units.get(2));
      round.send(units.get(3));
      assertThat(sent).containsExactly("raw-0", "raw-1", "raw-2", "raw-1", "raw-3");
    }
  }

  @Test
  void aNodesRefusalOfASendStartedAheadIsItsAnswerAndEndsTheOverlap() throws Exception {
    List<JournalEntry> units = units(4);
    RpcException tooHigh = nodeError("nonce too high");
    try (SendsAhead round = round(units, u -> true, refusing("raw-2", tooHigh), Runnable::run, 3)) {
      round.send(units.get(0));
      round.send(units.get(1));
      assertThat(round.refused()).as("a failed send ahead is seen at the next turn").isTrue();
      assertThatThrownBy(() -> round.send(units.get(2))).isSameAs(tooHigh);
      round.send(units.get(3));
    }
    assertThat(sent).containsExactly("raw-0", "raw-1", "raw-2", "raw-3");
  }

  @Test
  void widthOneSendsEachUnitAtItsTurnOnly() throws Exception {
    List<JournalEntry> units = units(3);
    try (SendsAhead round = round(units, u -> true, recording(), Runnable::run, 1)) {
      round.send(units.get(0));
      assertThat(sent).containsExactly("raw-0");
      round.send(units.get(1));
      assertThat(sent).containsExactly("raw-0", "raw-1");
    }
    assertThat(startedAhead).isEmpty();
  }

  @Test
  void theRoundEndsOnlyOnceEverySendStartedAheadHasItsAnswerThoughTheirTurnsNeverCame()
      throws Exception {
    List<JournalEntry> units = units(4);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger answered = new AtomicInteger();
    SendsAhead.Send slow =
        raw -> {
          if (!raw.equals("raw-0")) {
            release.await();
          }
          answered.incrementAndGet();
          return TextNode.valueOf("ok");
        };
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      SendsAhead round = round(units, u -> true, slow, pool, 4);
      round.send(units.get(0));
      // The round stops here (its lease is in doubt, say): units 1-3 are on their way.
      release.countDown();
      round.close();
      assertThat(answered).hasValue(4);
      // Taken by the node though their turns never came: sent, not to be sent again.
      assertThat(sentEarly).containsExactlyInAnyOrder("raw-1", "raw-2", "raw-3");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aUnitNotOfTheRoundIsSentAtItsTurn() throws Exception {
    List<JournalEntry> units = units(2);
    try (SendsAhead round = round(units, u -> true, recording(), Runnable::run, 3)) {
      assertThat(round.send(unit(9)).asText()).isEqualTo("answer to raw-9");
    }
    assertThat(sent).containsExactly("raw-9");
  }
}
