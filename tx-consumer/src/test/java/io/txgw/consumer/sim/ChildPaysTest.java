package io.txgw.consumer.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import io.txgw.consumer.chain.Replacement;
import io.txgw.consumer.chain.SendOutcome;
import io.txgw.consumer.sim.SimBtcNode.Dialect;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Children lifting a stuck Bitcoin transaction, run by the real senders against the simulated node
 * of each dialect. The node's transactions are P2PKH-sized: a one-payout transaction with change
 * takes 226 vbytes and pays 500 sats (2.2 sat/vB), a child 192 vbytes.
 */
class ChildPaysTest {
  private final ManualClock clock = new ManualClock();
  private final List<String> trace = new ArrayList<>();

  private SimBtcNode node(Dialect dialect, int coins) {
    return new SimBtcNode(
        new Random(7), dialect, 1_000_000_000L, coins, trace::add, clock::instant);
  }

  private ChainSender sender(SimBtcNode node, long ceiling) {
    if (node.dialect() == Dialect.BCOIN) {
      BcoinSender bcoin = new BcoinSender(node, node, node.walletName(), 10, Duration.ZERO, clock);
      bcoin.withFeeCeiling(ceiling).liftingStuck(true);
      return bcoin;
    }
    BitcoinCoreSender core = new BitcoinCoreSender(node, node, node.walletName(), 10, clock);
    core.withFeeCeiling(ceiling).liftingStuck(true);
    return core;
  }

  private static Payout payout(int n) {
    return new Payout(
        "p" + n,
        "b1",
        "acme",
        Chain.BTC,
        Chain.BTC.nativeAsset(),
        "primary",
        new Address(String.format("rb1qsim%04d", n)),
        Amount.parse("0.01"),
        null,
        Instant.EPOCH);
  }

  /** A unit paying one payout, journaled with its fee as the consumer does, and broadcast. */
  private static JournalEntry sent(ChainSender sender, int n) throws Exception {
    JournalEntry unit = prepared(sender, n);
    SendOutcome outcome = sender.broadcast(unit);
    assertThat(outcome.status()).isEqualTo(PayoutStatus.BROADCAST);
    return unit.withState(JournalEntry.State.CONFIRMING, unit.payouts(), Instant.EPOCH);
  }

  private static JournalEntry prepared(ChainSender sender, int n) throws Exception {
    Payout p = payout(n);
    Preparation.Signed signed = (Preparation.Signed) sender.prepare("primary", List.of(p));
    JournalEntry.Item item =
        new JournalEntry.Item(
            p.id(),
            p.batchId(),
            p.clientId(),
            p.to(),
            p.amount(),
            p.acceptedAt(),
            signed.outputIndexes().get(0),
            PayoutStatus.BROADCAST,
            null);
    return new JournalEntry(
        "BTC:" + signed.txid(),
        Chain.BTC,
        "primary",
        signed.txid(),
        signed.rawTransaction(),
        null,
        JournalEntry.State.PREPARED,
        List.of(item),
        Instant.EPOCH,
        Instant.EPOCH,
        null,
        null,
        null,
        null,
        signed.feePerGas(),
        List.of());
  }

  /** Asks for a child, journals and sends it as the consumer does; the child, or what came. */
  private static Replacement lift(ChainSender sender, JournalEntry[] unit) throws Exception {
    Replacement r = sender.bumpByChild(unit[0]);
    if (r instanceof Replacement.Child child) {
      unit[0] =
          unit[0].withChild(
              child.kept(),
              new JournalEntry.Attempt(child.txid(), child.rawTransaction(), child.fee()),
              Instant.EPOCH);
      sender.sendChild(unit[0]);
    }
    return r;
  }

  /** The unit with a child journaled, and the process stopped before sending it. */
  private static JournalEntry withChildNeverSent(ChainSender sender, JournalEntry unit)
      throws Exception {
    Replacement.Child child = (Replacement.Child) sender.bumpByChild(unit);
    return unit.withChild(
        0,
        new JournalEntry.Attempt(child.txid(), child.rawTransaction(), child.fee()),
        Instant.EPOCH);
  }

  @ParameterizedTest
  @EnumSource(Dialect.class)
  void aChildSpendsTheChangeSoThatTheTransactionAndItPayTheNextStep(Dialect dialect)
      throws Exception {
    SimBtcNode node = node(dialect, 4);
    ChainSender sender = sender(node, 100);
    JournalEntry[] unit = {sent(sender, 1)};
    assertThat(unit[0].feePerGas()).isEqualTo(BigInteger.valueOf(SimBtcNode.FEE_SATS));

    Replacement r = lift(sender, unit);

    // 500 sats for 226 vbytes is 2.2 sat/vB; the next step is 3: 3 x (226 + 192) - 500.
    assertThat(r).isInstanceOf(Replacement.Child.class);
    assertThat(((Replacement.Child) r).fee()).isEqualTo(BigInteger.valueOf(754));
    assertThat(((Replacement.Child) r).kept()).isZero();
    node.mine(Integer.MAX_VALUE);
    assertThat(node.highestChain()).containsExactly(1254, 418);
    assertThat(node.transfers()).hasSize(1);
    assertThat(node.transfers().get(0).txid()).isEqualTo(unit[0].txid());
  }

  @ParameterizedTest
  @EnumSource(Dialect.class)
  void childrenStopWithinHalfAStepOfTheCeilingAndTheirPackageNeverPassesIt(Dialect dialect)
      throws Exception {
    SimBtcNode node = node(dialect, 4);
    ChainSender sender = sender(node, 5);
    JournalEntry[] unit = {sent(sender, 1)};

    List<Replacement> steps = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      steps.add(lift(sender, unit));
    }

    assertThat(steps.subList(0, 3)).allMatch(r -> r instanceof Replacement.Child);
    assertThat(steps.get(3)).isInstanceOf(Replacement.AtCeiling.class);
    assertThat(unit[0].children()).hasSize(3);
    node.mine(Integer.MAX_VALUE);
    long[] highest = node.highestChain();
    assertThat(highest[0]).isLessThanOrEqualTo(5 * highest[1]).isGreaterThan(4 * highest[1]);
  }

  @ParameterizedTest
  @EnumSource(Dialect.class)
  void aChildNoNodeHoldsIsLeftOutAndTheNextSpendsTheChangeItSpent(Dialect dialect)
      throws Exception {
    SimBtcNode node = node(dialect, 4);
    ChainSender sender = sender(node, 100);
    JournalEntry unit = sent(sender, 1);
    // Journaled, and refused by every node (never signed): its output is nowhere.
    int change = 1 - unit.payouts().get(0).outputIndex();
    com.fasterxml.jackson.databind.node.ArrayNode inputs =
        io.txgw.common.json.Json.mapper().createArrayNode();
    inputs.addObject().put("txid", unit.txid()).put("vout", change);
    com.fasterxml.jackson.databind.node.ObjectNode outputs =
        io.txgw.common.json.Json.mapper().createObjectNode().put("rb1qsimwalletreceive0", 0.1);
    String unsigned = node.call("createrawtransaction", inputs, outputs).asText();
    String lostTxid = node.call("decoderawtransaction", unsigned).path("txid").asText();
    JournalEntry.Attempt lost =
        new JournalEntry.Attempt(lostTxid, unsigned, BigInteger.valueOf(700));
    JournalEntry[] withLost = {unit.withChild(0, lost, Instant.EPOCH)};

    Replacement r = lift(sender, withLost);

    assertThat(r).isInstanceOf(Replacement.Child.class);
    assertThat(((Replacement.Child) r).kept()).isZero();
    assertThat(withLost[0].children())
        .extracting(JournalEntry.Attempt::txid)
        .containsExactly(((Replacement.Child) r).txid());
    node.mine(Integer.MAX_VALUE);
    assertThat(node.highestChain()).containsExactly(1254, 418);
  }

  @ParameterizedTest
  @EnumSource(Dialect.class)
  void aSecondChildSpendsTheFirstAndPaysForAllThree(Dialect dialect) throws Exception {
    SimBtcNode node = node(dialect, 4);
    ChainSender sender = sender(node, 100);
    JournalEntry[] unit = {sent(sender, 1)};
    lift(sender, unit);

    Replacement second = lift(sender, unit);

    // 1254 sats for 418 vbytes is 3 sat/vB; the next step is 4: 4 x (418 + 192) - 1254.
    assertThat(second).isInstanceOf(Replacement.Child.class);
    assertThat(((Replacement.Child) second).kept()).isEqualTo(1);
    assertThat(((Replacement.Child) second).fee()).isEqualTo(BigInteger.valueOf(1186));
    node.mine(Integer.MAX_VALUE);
    assertThat(node.highestChain()).containsExactly(2440, 610);
  }

  @ParameterizedTest
  @EnumSource(Dialect.class)
  void aChildJournaledAndNeverSentIsSentBeforeAnotherIsSigned(Dialect dialect) throws Exception {
    SimBtcNode node = node(dialect, 4);
    ChainSender sender = sender(node, 100);
    JournalEntry journaled = withChildNeverSent(sender, sent(sender, 1));

    Replacement next = sender.bumpByChild(journaled);

    assertThat(next).isInstanceOf(Replacement.Child.class);
    assertThat(((Replacement.Child) next).kept()).isEqualTo(1);
    assertThat(((Replacement.Child) next).fee()).isEqualTo(BigInteger.valueOf(1186));
  }

  @ParameterizedTest
  @EnumSource(Dialect.class)
  void aLostChildIsNotSentAgainOnceTheTransactionIsMined(Dialect dialect) throws Exception {
    SimBtcNode node = node(dialect, 4);
    ChainSender sender = sender(node, 100);
    JournalEntry journaled = withChildNeverSent(sender, sent(sender, 1));
    // Mined without the child, which never reached the node.
    node.mine(Integer.MAX_VALUE);

    Replacement r = sender.bumpByChild(journaled);

    assertThat(r).isInstanceOf(Replacement.NotNow.class);
    assertThat(((Replacement.NotNow) r).reason()).contains("mined");
    node.mine(Integer.MAX_VALUE);
    assertThat(node.highestChain()).containsExactly(500, 226);
  }

  @ParameterizedTest
  @EnumSource(Dialect.class)
  void aPayoutWaitsForItsChangeToConfirmRatherThanSpendWhatAChildMaySpend(Dialect dialect)
      throws Exception {
    // One coin: the next payout could only be funded from the first one's change.
    SimBtcNode node = node(dialect, 1);
    ChainSender sender = sender(node, 100);
    JournalEntry[] first = {sent(sender, 1)};

    assertThatThrownBy(() -> prepared(sender, 2)).isInstanceOf(NodeUnavailableException.class);
    assertThat(lift(sender, first)).isInstanceOf(Replacement.Child.class);
    node.mine(Integer.MAX_VALUE);
    JournalEntry next = prepared(sender, 2);

    assertThat(sender.broadcast(next).status()).isEqualTo(PayoutStatus.BROADCAST);
    node.mine(Integer.MAX_VALUE);
    assertThat(node.transfers()).hasSize(2);
    assertThat(node.spentByChildAndPayout()).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(Dialect.class)
  void aMinedTransactionOrOneWithoutAJournaledFeeIsNotLifted(Dialect dialect) throws Exception {
    SimBtcNode node = node(dialect, 4);
    ChainSender sender = sender(node, 100);
    JournalEntry unit = sent(sender, 1);
    JournalEntry unpriced =
        new JournalEntry(
            unit.unitId(),
            Chain.BTC,
            "primary",
            unit.txid(),
            unit.rawTransaction(),
            null,
            unit.state(),
            unit.payouts(),
            Instant.EPOCH,
            Instant.EPOCH);

    assertThat(sender.bumpByChild(unpriced)).isInstanceOf(Replacement.NotNow.class);
    node.mine(Integer.MAX_VALUE);
    Replacement mined = sender.bumpByChild(unit);

    assertThat(mined).isInstanceOf(Replacement.NotNow.class);
    assertThat(((Replacement.NotNow) mined).reason()).contains("mined");
  }

  @ParameterizedTest
  @EnumSource(Dialect.class)
  void pastTheMostChildrenAUnitMayHaveItWaitsAsAtTheCeiling(Dialect dialect) throws Exception {
    SimBtcNode node = node(dialect, 4);
    ChainSender sender = sender(node, 100_000);
    JournalEntry[] unit = {sent(sender, 1)};
    for (int i = 0; i < JournalEntry.MAX_CHILDREN; i++) {
      assertThat(lift(sender, unit)).isInstanceOf(Replacement.Child.class);
    }

    assertThat(lift(sender, unit)).isInstanceOf(Replacement.AtCeiling.class);
    assertThat(unit[0].children()).hasSize(JournalEntry.MAX_CHILDREN);
  }
}
