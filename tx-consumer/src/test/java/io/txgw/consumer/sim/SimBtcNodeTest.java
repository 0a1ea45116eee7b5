package io.txgw.consumer.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.model.Address;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.common.model.Payout;
import io.txgw.common.model.PayoutStatus;
import io.txgw.consumer.ManualClock;
import io.txgw.consumer.chain.BcoinSender;
import io.txgw.consumer.chain.BitcoinCoreSender;
import io.txgw.consumer.chain.ChainSender;
import io.txgw.consumer.chain.NodeUnavailableException;
import io.txgw.consumer.chain.Preparation;
import io.txgw.consumer.chain.SendOutcome;
import io.txgw.consumer.rpc.RpcException;
import io.txgw.consumer.sim.SimBtcNode.Dialect;
import io.txgw.consumer.sim.SimBtcNode.Transfer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The simulated node run by the real Bitcoin senders, faults off unless a test is about them. */
class SimBtcNodeTest {
  /** One BTC, in four confirmed coins. */
  private static final long WALLET_SATS = 100_000_000L;

  private final List<String> trace = new ArrayList<>();
  private final ManualClock clock = new ManualClock();

  private SimBtcNode node(Dialect dialect) {
    return node(dialect, WALLET_SATS, 42);
  }

  private SimBtcNode node(Dialect dialect, long walletSats, long seed) {
    return new SimBtcNode(new Random(seed), dialect, walletSats, trace::add, clock::instant);
  }

  /**
   * The real senders; bcoin's without waiting for its mempool, which this node needs no time for,
   * and on the test's clock.
   */
  private ChainSender sender(SimBtcNode node) {
    return node.dialect() == Dialect.BCOIN
        ? new BcoinSender(node, node, node.walletName(), 50, Duration.ZERO, clock)
        : new BitcoinCoreSender(node, node, node.walletName(), 50);
  }

  /** The real senders as they run while stuck transactions are lifted: confirmed coins only. */
  private ChainSender liftingSender(SimBtcNode node) {
    return node.dialect() == Dialect.BCOIN
        ? new BcoinSender(node, node, node.walletName(), 50, Duration.ZERO, clock)
            .liftingStuck(true)
        : new BitcoinCoreSender(node, node, node.walletName(), 50).liftingStuck(true);
  }

  /** Broadcasts, and again once bcoin's sender believes a conflict it has seen long enough. */
  private SendOutcome broadcastPastConflictWait(ChainSender sender, JournalEntry unit)
      throws Exception {
    SendOutcome outcome = sender.broadcast(unit);
    if (outcome.waits()) {
      clock.advance(BcoinSender.CONFLICT_AFTER.plusSeconds(1));
      outcome = sender.broadcast(unit);
    }
    return outcome;
  }

  private static Payout payout(int n, String btc) {
    return new Payout(
        "p" + n,
        "b1",
        "acme",
        Chain.BTC,
        Chain.BTC.nativeAsset(),
        "primary",
        new Address(String.format("rb1qsim%04d", n)),
        Amount.parse(btc),
        null,
        Instant.EPOCH);
  }

  private static List<Payout> threePayouts() {
    return List.of(payout(1, "0.001"), payout(2, "0.0025"), payout(3, "0.5"));
  }

  private static JournalEntry prepare(ChainSender sender, List<Payout> payouts) throws Exception {
    Preparation prepared = sender.prepare("primary", payouts);
    assertThat(prepared).isInstanceOf(Preparation.Signed.class);
    Preparation.Signed signed = (Preparation.Signed) prepared;
    List<JournalEntry.Item> items = new ArrayList<>();
    for (int i = 0; i < payouts.size(); i++) {
      Payout p = payouts.get(i);
      items.add(
          new JournalEntry.Item(
              p.id(),
              p.batchId(),
              p.clientId(),
              p.to(),
              p.amount(),
              p.acceptedAt(),
              signed.outputIndexes().get(i),
              PayoutStatus.ACCEPTED,
              null));
    }
    return new JournalEntry(
        "BTC:" + signed.txid(),
        Chain.BTC,
        "primary",
        signed.txid(),
        signed.rawTransaction(),
        null,
        JournalEntry.State.PREPARED,
        items,
        Instant.EPOCH,
        Instant.EPOCH);
  }

  private static List<Transfer> expected(JournalEntry unit, long block) {
    return unit.payouts().stream()
        .map(
            i ->
                new Transfer(unit.txid(), i.to().value(), i.amount().toUnits(8).longValue(), block))
        .toList();
  }

  /** What the chain paid to the payouts' addresses, leaving out someone else's spends. */
  private static List<Transfer> paidToPayouts(SimBtcNode node) {
    return node.transfers().stream().filter(t -> t.address().startsWith("rb1qsim0")).toList();
  }

  @ParameterizedTest
  @EnumSource(Dialect.class)
  void preparedAndBroadcastTransactionPaysEveryOutputOnce(Dialect dialect) throws Exception {
    SimBtcNode node = node(dialect);
    ChainSender sender = sender(node);
    JournalEntry unit = prepare(sender, threePayouts());

    SendOutcome outcome = sender.broadcast(unit);
    node.mine(10);

    assertThat(outcome).isEqualTo(SendOutcome.broadcast(unit.txid()));
    // The change went back to the wallet: the chain paid the payouts and nothing else.
    assertThat(node.transfers()).containsExactlyInAnyOrderElementsOf(expected(unit, 2));
  }

  @ParameterizedTest
  @EnumSource(Dialect.class)
  void broadcastingTheSameBytesAgainPaysOnce(Dialect dialect) throws Exception {
    SimBtcNode node = node(dialect);
    ChainSender sender = sender(node);
    JournalEntry unit = prepare(sender, threePayouts());

    assertThat(sender.broadcast(unit).status()).isEqualTo(PayoutStatus.BROADCAST);
    assertThat(sender.broadcast(unit).status()).isEqualTo(PayoutStatus.BROADCAST);
    node.mine(10);
    // Core says "already in block chain" now; bcoin says nothing and shows it mined.
    assertThat(sender.broadcast(unit).status()).isEqualTo(PayoutStatus.BROADCAST);
    node.mine(10);

    assertThat(node.transfers()).containsExactlyInAnyOrderElementsOf(expected(unit, 2));
  }

  @ParameterizedTest
  @EnumSource(Dialect.class)
  void evictedTransactionIsHeldAgainAfterAResend(Dialect dialect) throws Exception {
    SimBtcNode node = node(dialect);
    ChainSender sender = sender(node);
    JournalEntry unit = prepare(sender, threePayouts());
    sender.broadcast(unit);

    node.evictOne();
    assertThat(node.mempoolSize()).isZero();
    SendOutcome again = sender.broadcast(unit);

    assertThat(again).isEqualTo(SendOutcome.broadcast(unit.txid()));
    assertThat(node.mempoolSize()).isEqualTo(1);
    node.mine(10);
    assertThat(node.transfers()).containsExactlyInAnyOrderElementsOf(expected(unit, 2));
  }

  @ParameterizedTest
  @EnumSource(Dialect.class)
  void foreignSpendOfAnEvictedTransactionsInputMakesBroadcastReplan(Dialect dialect)
      throws Exception {
    SimBtcNode node = node(dialect);
    ChainSender sender = sender(node);
    JournalEntry unit = prepare(sender, threePayouts());
    sender.broadcast(unit);
    node.evictOne();

    assertThat(node.foreignSpend()).isFalse();
    assertThat(node.foreignSpendIncludingEvicted()).isTrue();
    SendOutcome outcome = broadcastPastConflictWait(sender, unit);
    node.mine(10);

    assertThat(outcome.replan()).as(outcome.toString()).isTrue();
    assertThat(paidToPayouts(node)).isEmpty();
  }

  @Test
  void bcoinForeignSpendOfAnUnsentTransactionsInputMakesBroadcastReplan() throws Exception {
    SimBtcNode node = node(Dialect.BCOIN);
    ChainSender sender = sender(node);
    JournalEntry unit = prepare(sender, threePayouts());

    assertThat(node.foreignSpend()).isTrue();
    SendOutcome first = sender.broadcast(unit);
    clock.advance(BcoinSender.CONFLICT_AFTER.plusSeconds(1));
    SendOutcome outcome = sender.broadcast(unit);
    node.mine(10);

    // The sender first allows for a node in rotation that lags, then believes the conflict.
    assertThat(first.waits()).as(first.toString()).isTrue();
    assertThat(outcome.replan()).as(outcome.toString()).isTrue();
    assertThat(paidToPayouts(node)).isEmpty();
    assertThat(node.transfers()).singleElement().satisfies(t -> assertThat(t.block()).isEqualTo(2));
  }

  @Test
  void coreRefusesAnUnsentTransactionWhoseInputSomeoneElseSpentAndItsWalletNeverSawIt()
      throws Exception {
    SimBtcNode node = node(Dialect.CORE);
    JournalEntry unit = prepare(sender(node), threePayouts());

    assertThat(node.foreignSpend()).isTrue();

    // Core's wallet learns of a transaction only from its mempool: no negative confirmations.
    assertThatThrownBy(() -> node.call("sendrawtransaction", unit.rawTransaction()))
        .isInstanceOfSatisfying(RpcException.class, e -> assertThat(e.code()).isEqualTo(-25));
    assertThatThrownBy(() -> node.call("gettransaction", unit.txid()))
        .isInstanceOfSatisfying(
            RpcException.class,
            e -> {
              assertThat(e.code()).isEqualTo(-5);
              assertThat(e.getMessage()).isEqualTo("Invalid or non-wallet transaction id");
            });
  }

  @ParameterizedTest
  @EnumSource(Dialect.class)
  void lockedCoinsKeepTheNextPreparationOffTheSameInputs(Dialect dialect) throws Exception {
    SimBtcNode node = node(dialect);
    ChainSender sender = sender(node);
    JournalEntry first = prepare(sender, List.of(payout(1, "0.01")));
    JournalEntry second = prepare(sender, List.of(payout(2, "0.02")));

    Set<String> inputs = new HashSet<>();
    for (JournalEntry unit : List.of(first, second)) {
      for (JsonNode in : node.call("decoderawtransaction", unit.rawTransaction()).path("vin")) {
        assertThat(inputs.add(in.path("txid").asText() + ":" + in.path("vout").asInt())).isTrue();
      }
    }
    assertThat(sender.broadcast(first).status()).isEqualTo(PayoutStatus.BROADCAST);
    assertThat(sender.broadcast(second).status()).isEqualTo(PayoutStatus.BROADCAST);
    node.mine(10);
    assertThat(paidToPayouts(node)).hasSize(2);
  }

  @Test
  void bcoinAnswersWithTheTxidOfATransactionItsMempoolRefuses() throws Exception {
    SimBtcNode node = node(Dialect.BCOIN);
    ChainSender sender = sender(node);
    // Both created before either locks its coins: both spend the largest coin.
    JsonNode first = node.rest("POST", "/wallet/primary/create", createBody("rb1qsim0001"));
    JsonNode second = node.rest("POST", "/wallet/primary/create", createBody("rb1qsim0002"));
    assertThat(second.path("inputs")).isEqualTo(first.path("inputs"));

    node.call("sendrawtransaction", first.path("hex").asText());
    JsonNode answer = node.call("sendrawtransaction", second.path("hex").asText());

    assertThat(answer.asText()).isEqualTo(second.path("hash").asText());
    assertThatThrownBy(() -> node.call("getrawtransaction", second.path("hash").asText(), true))
        .isInstanceOfSatisfying(
            RpcException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(RpcException.Kind.NODE_ERROR);
              assertThat(e.getMessage()).isEqualTo("Transaction not found.");
            });
    // Spent only in the mempool the input may come free again; spent in the chain, never.
    JournalEntry unit = unitOf(second, payout(2, "0.01"));
    assertThat(sender.broadcast(unit).waits()).isTrue();
    node.mine(10);
    assertThat(broadcastPastConflictWait(sender, unit).replan()).isTrue();
  }

  private static JsonNode createBody(String address) {
    var body = io.txgw.common.json.Json.mapper().createObjectNode();
    body.putArray("outputs").addObject().put("address", address).put("value", 1_000_000);
    return body.put("sign", true).put("rate", 1000);
  }

  private static JournalEntry unitOf(JsonNode created, Payout p) {
    int index = 0;
    while (!created.path("outputs").path(index).path("address").asText().equals(p.to().value())) {
      index++;
    }
    JournalEntry.Item item =
        new JournalEntry.Item(
            p.id(), "b1", "acme", p.to(), p.amount(), Instant.EPOCH, index, null, null);
    return new JournalEntry(
        "BTC:x",
        Chain.BTC,
        "primary",
        created.path("hash").asText(),
        created.path("hex").asText(),
        null,
        JournalEntry.State.PREPARED,
        List.of(item),
        Instant.EPOCH,
        Instant.EPOCH);
  }

  @Test
  void bcoinTakesAChainPastTheAncestorLimitSilentlyAndItWaitsForABlock() throws Exception {
    SimBtcNode node = node(Dialect.BCOIN, 4_000_000, 42);
    ChainSender sender = sender(node);
    List<JournalEntry> waiting = new ArrayList<>();
    // Four coins grow four chains of change, a level every four units: the 26th level is refused.
    int units = 0;
    while (waiting.isEmpty() && units < 120) {
      units++;
      JournalEntry unit = prepare(sender, List.of(payout(units, "0.0001")));
      if (sender.broadcast(unit).waits()) {
        waiting.add(unit);
      }
    }
    assertThat(waiting).hasSize(1);
    assertThat(units).isGreaterThan(4 * (SimBtcNode.MAX_ANCESTORS - 1));
    assertThat(trace).anyMatch(line -> line.contains("too-long-mempool-chain"));

    node.mine(Integer.MAX_VALUE);
    for (JournalEntry unit : waiting) {
      assertThat(sender.broadcast(unit).status()).isEqualTo(PayoutStatus.BROADCAST);
    }
    node.mine(Integer.MAX_VALUE);

    assertThat(paidToPayouts(node)).hasSize(units);
    assertThat(paidToPayouts(node).stream().map(Transfer::address).distinct()).hasSize(units);
  }

  @Test
  void payoutsTheWalletCouldFundOnlyFromUnconfirmedChangeWaitForABlock() throws Exception {
    for (Dialect dialect : Dialect.values()) {
      SimBtcNode node = node(dialect, 4_000_000, 42);
      ChainSender sender = liftingSender(node);
      // Four confirmed coins: four units, each spending one; the fifth could only spend change.
      for (int n = 1; n <= 4; n++) {
        assertThat(sender.broadcast(prepare(sender, List.of(payout(n, "0.0001")))).status())
            .isEqualTo(PayoutStatus.BROADCAST);
      }

      assertThatThrownBy(() -> sender.prepare("primary", List.of(payout(5, "0.0001"))))
          .isInstanceOf(NodeUnavailableException.class)
          .hasMessageContaining("wait for a block");
      node.mine(Integer.MAX_VALUE);
      JournalEntry fifth = prepare(sender, List.of(payout(5, "0.0001")));

      assertThat(sender.broadcast(fifth).status()).isEqualTo(PayoutStatus.BROADCAST);
      node.mine(Integer.MAX_VALUE);
      assertThat(paidToPayouts(node)).hasSize(5);
    }
  }

  @ParameterizedTest
  @EnumSource(Dialect.class)
  void walletWithoutEnoughFundsRefusesToPrepare(Dialect dialect) throws Exception {
    ChainSender sender = sender(node(dialect));

    Preparation prepared = sender.prepare("primary", List.of(payout(1, "2")));

    assertThat(prepared).isInstanceOf(Preparation.Refused.class);
    assertThat(((Preparation.Refused) prepared).reason())
        .startsWith(dialect == Dialect.BCOIN ? "Not enough funds." : "Insufficient funds");
  }

  @ParameterizedTest
  @EnumSource(Dialect.class)
  void walletRefusesADustOutput(Dialect dialect) throws Exception {
    ChainSender sender = sender(node(dialect));

    Preparation prepared = sender.prepare("primary", List.of(payout(1, "0.000001")));

    assertThat(prepared).isInstanceOf(Preparation.Refused.class);
  }

  @Test
  void coreWalletSpendsNeitherCoinsNorChangeOfAnEvictedTransactionUntilItIsSentAgain()
      throws Exception {
    SimBtcNode node = node(Dialect.CORE, 4_000_000, 42);
    ChainSender sender = sender(node);
    for (int n = 1; n <= 4; n++) {
      sender.broadcast(prepare(sender, List.of(payout(n, "0.0001"))));
      node.evictOne();
    }

    assertThat(sender.prepare("primary", List.of(payout(5, "0.0001"))))
        .isInstanceOf(Preparation.Refused.class);
    assertThat(node.walletResend()).isEqualTo(4);
    prepare(sender, List.of(payout(5, "0.0001")));
  }

  @Test
  void lostAnswerHidesABroadcastThatHappened() throws Exception {
    SimBtcNode node = node(Dialect.CORE);
    JournalEntry unit = prepare(sender(node), threePayouts());

    node.faults(new SimEthNode.Faults(0, 0, 0, 1, 0, 0));
    assertThatThrownBy(() -> node.call("sendrawtransaction", unit.rawTransaction()))
        .isInstanceOfSatisfying(
            RpcException.class, e -> assertThat(e.kind()).isEqualTo(RpcException.Kind.TIMEOUT));

    assertThat(node.mempoolSize()).isEqualTo(1);
  }

  @Test
  void lostRequestAndRefusedConnectionLeaveTheNodeUntouched() throws Exception {
    SimBtcNode node = node(Dialect.CORE);
    JournalEntry unit = prepare(sender(node), threePayouts());

    node.faults(new SimEthNode.Faults(0, 0, 1, 0, 0, 0));
    assertThatThrownBy(() -> node.call("sendrawtransaction", unit.rawTransaction()))
        .isInstanceOfSatisfying(
            RpcException.class, e -> assertThat(e.kind()).isEqualTo(RpcException.Kind.TIMEOUT));
    node.faults(new SimEthNode.Faults(1, 0, 0, 0, 0, 0));
    assertThatThrownBy(() -> node.call("sendrawtransaction", unit.rawTransaction()))
        .isInstanceOfSatisfying(
            RpcException.class,
            e -> assertThat(e.kind()).isEqualTo(RpcException.Kind.CONNECT_FAILED));
    node.faults(new SimEthNode.Faults(0, 1, 0, 0, 0, 0));
    assertThatThrownBy(() -> node.call("sendrawtransaction", unit.rawTransaction()))
        .isInstanceOfSatisfying(
            RpcException.class,
            e -> assertThat(e.kind()).isEqualTo(RpcException.Kind.RATE_LIMITED));

    assertThat(node.mempoolSize()).isZero();
  }

  @Test
  void crashBeforeActsNotAndCrashAfterActs() throws Exception {
    SimBtcNode node = node(Dialect.BCOIN);
    JournalEntry unit = prepare(sender(node), threePayouts());

    node.faults(new SimEthNode.Faults(0, 0, 0, 0, 1, 0));
    assertThatThrownBy(() -> node.call("sendrawtransaction", unit.rawTransaction()))
        .isInstanceOf(SimCrash.class);
    assertThat(node.mempoolSize()).isZero();
    node.faults(new SimEthNode.Faults(0, 0, 0, 0, 0, 1));
    assertThatThrownBy(() -> node.call("sendrawtransaction", unit.rawTransaction()))
        .isInstanceOf(SimCrash.class);
    assertThat(node.mempoolSize()).isEqualTo(1);
  }

  @Test
  void laggingReadAnswersAsOfABlockTheNodeHadSeenUpToTwentySecondsAgo() throws Exception {
    SimBtcNode node = node(Dialect.BCOIN);
    JournalEntry unit = prepare(sender(node), threePayouts());
    node.call("sendrawtransaction", unit.rawTransaction());
    clock.advance(Duration.ofSeconds(30));
    node.mine(10);
    JsonNode input = node.call("decoderawtransaction", unit.rawTransaction()).path("vin").path(0);
    String prev = input.path("txid").asText();
    int index = input.path("vout").asInt();

    node.faults(new SimEthNode.Faults(0, 0, 0, 0, 0, 0, 1));
    JsonNode lagging = node.call("getrawtransaction", unit.txid(), true);
    JsonNode coin = node.call("gettxout", prev, index, false);
    node.faults(SimEthNode.Faults.NONE);

    assertThat(lagging.path("confirmations").asInt()).isZero();
    assertThat(coin.isNull()).isFalse();
    assertThat(node.call("getrawtransaction", unit.txid(), true).path("confirmations").asInt())
        .isEqualTo(1);
    assertThat(node.call("gettxout", prev, index, false).isNull()).isTrue();
  }

  @Test
  void bcoinShowsAJustTakenTransactionOnlyAFewLookUpsLater() throws Exception {
    SimBtcNode node = node(Dialect.BCOIN);
    node.lateMempool(1);
    JournalEntry unit = prepare(sender(node), threePayouts());

    node.call("sendrawtransaction", unit.rawTransaction());

    int misses = 0;
    while (misses <= 3 && !found(node, unit.txid())) {
      misses++;
    }
    assertThat(misses).isBetween(1, 3);
  }

  @Test
  void bcoinSenderWithItsDefaultWaitOutlastsALateMempool() throws Exception {
    SimBtcNode node = node(Dialect.BCOIN);
    node.lateMempool(1);
    ChainSender sender = new BcoinSender(node, node, "primary", 50);
    JournalEntry unit = prepare(sender, threePayouts());

    assertThat(sender.broadcast(unit)).isEqualTo(SendOutcome.broadcast(unit.txid()));
  }

  private static boolean found(SimBtcNode node, String txid) throws Exception {
    try {
      node.call("getrawtransaction", txid, true);
      return true;
    } catch (RpcException e) {
      return false;
    }
  }

  /** {@code getblock} as each dialect's client calls it. */
  private static JsonNode block(SimBtcNode node, String hash) throws Exception {
    return node.dialect() == Dialect.CORE
        ? node.call("getblock", hash, 1)
        : node.call("getblock", hash, true, false);
  }

  private static String hashAt(SimBtcNode node, long height) throws Exception {
    return node.call("getblockhash", height).asText();
  }

  private static List<String> txids(JsonNode block) {
    List<String> ids = new ArrayList<>();
    block.path("tx").forEach(t -> ids.add(t.asText()));
    return ids;
  }

  @ParameterizedTest
  @EnumSource(Dialect.class)
  void blocksLinkByPreviousBlockHashAndAMinedTransactionNamesItsBlock(Dialect dialect)
      throws Exception {
    SimBtcNode node = node(dialect);
    JournalEntry unit = prepare(sender(node), threePayouts());
    sender(node).broadcast(unit);
    node.mine(10);

    String best = node.call("getbestblockhash").asText();
    JsonNode tip = block(node, best);
    JsonNode funding = block(node, hashAt(node, 1));
    JsonNode tx = node.call("getrawtransaction", unit.txid(), true);

    assertThat(node.call("getblockcount").asLong()).isEqualTo(2);
    assertThat(best).matches("[0-9a-f]{64}").isEqualTo(hashAt(node, 2));
    assertThat(tip.path("height").asLong()).isEqualTo(2);
    assertThat(tip.path("confirmations").asLong()).isEqualTo(1);
    assertThat(tip.path("previousblockhash").asText()).isEqualTo(hashAt(node, 1));
    assertThat(txids(tip)).containsExactly(unit.txid());
    assertThat(funding.path("previousblockhash").asText()).isEqualTo(hashAt(node, 0));
    assertThat(funding.path("nextblockhash").asText()).isEqualTo(best);
    assertThat(funding.path("confirmations").asLong()).isEqualTo(2);
    assertThat(txids(funding)).hasSize(1);
    assertThat(tx.path("blockhash").asText()).isEqualTo(best);
    assertThat(tx.path("confirmations").asLong()).isEqualTo(1);
    assertThatThrownBy(() -> node.call("getblockhash", 3))
        .isInstanceOfSatisfying(RpcException.class, e -> assertThat(e.code()).isEqualTo(-8));
    assertThatThrownBy(() -> block(node, "00".repeat(32)))
        .isInstanceOfSatisfying(
            RpcException.class,
            e -> {
              assertThat(e.code()).isEqualTo(dialect == Dialect.CORE ? -5 : -1);
              assertThat(e.getMessage()).isEqualTo("Block not found");
            });
  }

  @ParameterizedTest
  @EnumSource(Dialect.class)
  void reorgReturningTransactionsToTheMempoolMinesThemAgainInABlockWithANewHash(Dialect dialect)
      throws Exception {
    SimBtcNode node = node(dialect);
    ChainSender sender = sender(node);
    JournalEntry unit = prepare(sender, threePayouts());
    sender.broadcast(unit);
    node.mine(10);
    node.mine(10);
    String oldTwo = hashAt(node, 2);
    String oldThree = hashAt(node, 3);

    assertThat(node.reorg(2, true)).containsExactly(unit.txid());

    assertThat(node.call("getblockcount").asLong()).isEqualTo(1);
    assertThat(node.mempoolSize()).isEqualTo(1);
    assertThat(node.transfers()).isEmpty();
    JsonNode pooled = node.call("getrawtransaction", unit.txid(), true);
    assertThat(pooled.path("blockhash").asText("")).isEmpty();
    assertThat(pooled.path("confirmations").asLong(0)).isZero();

    node.mine(10);
    String newTwo = hashAt(node, 2);

    assertThat(newTwo).isNotEqualTo(oldTwo);
    assertThat(block(node, newTwo).path("previousblockhash").asText()).isEqualTo(hashAt(node, 1));
    assertThat(txids(block(node, newTwo))).containsExactly(unit.txid());
    assertThat(node.call("getrawtransaction", unit.txid(), true).path("blockhash").asText())
        .isEqualTo(newTwo);
    assertThat(node.transfers()).containsExactlyInAnyOrderElementsOf(expected(unit, 2));
    // Blocks taken off the chain are still served by hash, as not on the main chain.
    JsonNode old = block(node, oldTwo);
    assertThat(old.path("confirmations").asLong()).isEqualTo(-1);
    assertThat(old.path("height").asLong()).isEqualTo(2);
    assertThat(txids(old)).containsExactly(unit.txid());
    assertThat(block(node, oldThree).path("previousblockhash").asText()).isEqualTo(oldTwo);
  }

  @ParameterizedTest
  @EnumSource(Dialect.class)
  void reorgWithoutTheMempoolLeavesTheCoinsUnspentAndTheWalletSendsItAgain(Dialect dialect)
      throws Exception {
    SimBtcNode node = node(dialect);
    ChainSender sender = sender(node);
    JournalEntry unit = prepare(sender, threePayouts());
    sender.broadcast(unit);
    node.mine(10);
    String mined = hashAt(node, 2);
    JsonNode input = node.call("decoderawtransaction", unit.rawTransaction()).path("vin").path(0);
    String prev = input.path("txid").asText();
    int index = input.path("vout").asInt();
    assertThat(node.call("gettxout", prev, index, false).isNull()).isTrue();

    node.reorg(1, false);

    assertThat(node.call("gettxout", prev, index, false).isNull()).isFalse();
    assertThat(node.mempoolSize()).isZero();
    assertThat(node.transfers()).isEmpty();
    assertThatThrownBy(() -> node.call("getrawtransaction", unit.txid(), true))
        .isInstanceOfSatisfying(
            RpcException.class,
            e ->
                assertThat(e.getMessage())
                    .startsWith(
                        dialect == Dialect.CORE
                            ? "No such mempool or blockchain transaction"
                            : "Transaction not found."));

    // Both wallets count it as theirs and unconfirmed again, and send it again.
    assertThat(node.walletResend()).isEqualTo(1);
    node.mine(10);
    assertThat(hashAt(node, 2)).isNotEqualTo(mined);
    assertThat(node.transfers()).containsExactlyInAnyOrderElementsOf(expected(unit, 2));
  }

  @Test
  void reorgDropsFromTheMempoolWhatSpendsAnOutputNoLongerThere() throws Exception {
    SimBtcNode node = node(Dialect.BCOIN, 4_000_000, 42);
    ChainSender sender = sender(node);
    // Four coins: the fifth unit spends the change of one of the first four.
    List<JournalEntry> units = new ArrayList<>();
    for (int n = 1; n <= 4; n++) {
      units.add(prepare(sender, List.of(payout(n, "0.0001"))));
      sender.broadcast(units.get(n - 1));
    }
    node.mine(10);
    JournalEntry child = prepare(sender, List.of(payout(5, "0.0001")));
    sender.broadcast(child);
    assertThat(node.mempoolSize()).isEqualTo(1);

    node.reorg(1, false);

    assertThat(node.mempoolSize()).isZero();
    assertThat(node.walletResend()).isEqualTo(5);
    node.mine(10);
    assertThat(paidToPayouts(node)).hasSize(5);
  }

  @Test
  void reorgKeepsTheFundingBlock() {
    SimBtcNode node = node(Dialect.CORE);
    node.mine(1);

    assertThatThrownBy(() -> node.reorg(2, true)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> node.reorg(0, true)).isInstanceOf(IllegalArgumentException.class);
    node.reorg(1, true);
    assertThat(node.height()).isEqualTo(1);
  }

  @Test
  void laggingNodeAnswersBlockReadsAsOfAnOlderTip() throws Exception {
    SimBtcNode node = node(Dialect.CORE);
    clock.advance(Duration.ofSeconds(30));
    node.mine(1);
    String tip = node.call("getbestblockhash").asText();

    node.faults(new SimEthNode.Faults(0, 0, 0, 0, 0, 0, 1));
    assertThat(node.call("getblockcount").asLong()).isEqualTo(1);
    assertThat(node.call("getbestblockhash").asText()).isNotEqualTo(tip);
    assertThatThrownBy(() -> block(node, tip)).isInstanceOf(RpcException.class);
    node.faults(SimEthNode.Faults.NONE);

    assertThat(block(node, tip).path("height").asLong()).isEqualTo(2);
  }

  @Test
  void sameSeedAndCallsGiveTheSameRun() throws Exception {
    List<List<String>> traces = new ArrayList<>();
    for (int run = 0; run < 2; run++) {
      trace.clear();
      SimBtcNode node = node(Dialect.CORE, WALLET_SATS, 7);
      ChainSender sender = sender(node);
      for (int n = 1; n <= 5; n++) {
        JournalEntry unit = prepare(sender, List.of(payout(n, "0.01"), payout(n + 10, "0.02")));
        sender.broadcast(unit);
        node.evictOne();
        sender.broadcast(unit);
        node.mine(2);
      }
      traces.add(List.copyOf(trace));
    }

    assertThat(traces.get(1)).isEqualTo(traces.get(0));
  }
}
