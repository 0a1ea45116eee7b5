package io.txgw.gateway.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.model.Address;
import io.txgw.common.model.Amount;
import io.txgw.common.model.BatchRecord;
import io.txgw.common.model.Chain;
import io.txgw.common.model.Payout;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class PayoutIndexTest {
  private static final Instant T0 = Instant.parse("2026-11-21T10:00:00Z");

  /** What the view's store holds, by {@code client/payout}. */
  private final Map<String, PayoutClaim> store = new HashMap<>();

  /** Room for 4 payout ids and batches, 3 of them one client's. */
  private final PayoutIndex index =
      new PayoutIndex((client, id) -> Optional.ofNullable(store.get(client + "/" + id)), 4, 3);

  private static Payout payout(String batch, String id, String source, String to, String amount) {
    return new Payout(
        id,
        batch,
        "acme",
        Chain.ETH,
        Chain.ETH.nativeAsset(),
        source,
        new Address(to),
        Amount.parse(amount),
        null,
        T0);
  }

  private static Payout payout(String batch, String id) {
    return payout(batch, id, "0xsource", "0xto", "1");
  }

  private PayoutIndex.Check reserve(String batch, Payout... payouts) {
    return reserve(index, batch, payouts);
  }

  private static PayoutIndex.Check reserve(PayoutIndex index, String batch, Payout... payouts) {
    return index.reserve(record(batch, payouts), List.of(payouts));
  }

  /** The batch record of payouts, with a fingerprint of their content. */
  private static BatchRecord record(String batch, Payout... payouts) {
    List<Payout> list = List.of(payouts);
    return new BatchRecord(
        payouts[0].clientId(),
        batch,
        Chain.ETH,
        payouts[0].source(),
        Arrays.stream(payouts)
            .map(p -> p.id() + " " + p.source() + " " + p.to() + " " + p.amount())
            .collect(Collectors.joining(",")),
        list.stream().map(Payout::id).toList(),
        T0,
        list.stream().map(BatchRecord.Line::of).toList(),
        null);
  }

  private static Payout payout(String client, String batch, String id) {
    return new Payout(
        id,
        batch,
        client,
        Chain.ETH,
        Chain.ETH.nativeAsset(),
        "0xsource",
        new Address("0xto"),
        Amount.parse("1"),
        null,
        T0);
  }

  @Test
  void aNewBatchTakesItsIdsAndHoldsThemUntilTheViewHasIndexedIt() {
    PayoutIndex.Reserved b1 = (PayoutIndex.Reserved) reserve("b1", payout("b1", "p1"));
    b1.keep();
    assertThat(index.held()).isEqualTo(1);

    index.indexed("acme/b1");

    assertThat(index.held()).isZero();
  }

  @Test
  void anIdHeldForABatchOfThisGatewayIsCheckedLikeAStoredOne() {
    ((PayoutIndex.Reserved) reserve("b1", payout("b1", "p1"))).keep();

    PayoutIndex.Check other = reserve("b2", payout("b2", "p1", "0xother", "0xto", "1"));
    PayoutIndex.Check same = reserve("b3", payout("b3", "p1"));

    assertThat(((PayoutIndex.Taken) other).conflicts())
        .containsExactly(new PayoutIndex.Conflict(0, "p1", "b1", List.of("source")));
    assertThat(((PayoutIndex.Reserved) same).acceptedEarlier()).isEqualTo(Map.of("p1", "b1"));
  }

  @Test
  void anIdTheStoreHoldsForTheSamePaymentIsAcceptedEarlierAndNotTakenAgain() {
    store.put("acme/p1", PayoutClaim.of(payout("b0", "p1")));

    PayoutIndex.Reserved b1 =
        (PayoutIndex.Reserved) reserve("b1", payout("b1", "p1"), payout("b1", "p2"));

    assertThat(b1.acceptedEarlier()).isEqualTo(Map.of("p1", "b0"));
    assertThat(index.held()).isEqualTo(1);
  }

  @Test
  void anIdStillBeingWrittenMakesTheNextBatchWaitForThatWrite() {
    PayoutIndex.Reserved b1 = (PayoutIndex.Reserved) reserve("b1", payout("b1", "p1"));

    PayoutIndex.Busy busy =
        (PayoutIndex.Busy) reserve("b2", payout("b2", "p2"), payout("b2", "p1"));
    assertThat(busy.settled()).isNotDone();
    assertThat(index.held()).isEqualTo(1);
    b1.keep();

    assertThat(busy.settled()).isCompleted();
  }

  @Test
  void idsOfABatchKafkaDidNotTakeAreFreeAgain() {
    PayoutIndex.Reserved b1 = (PayoutIndex.Reserved) reserve("b1", payout("b1", "p1"));
    PayoutIndex.Busy busy = (PayoutIndex.Busy) reserve("b2", payout("b2", "p1", "0xo", "0xt", "2"));

    b1.release();

    assertThat(busy.settled()).isCompleted();
    assertThat(index.held()).isZero();
    assertThat(reserve("b2", payout("b2", "p1", "0xo", "0xt", "2")))
        .isInstanceOf(PayoutIndex.Reserved.class);
  }

  @Test
  void aBatchWithAConflictTakesNoneOfItsIds() {
    store.put("acme/p2", PayoutClaim.of(payout("b0", "p2", "0xsource", "0xto", "5")));

    PayoutIndex.Check check = reserve("b1", payout("b1", "p1"), payout("b1", "p2"));

    assertThat(((PayoutIndex.Taken) check).conflicts())
        .containsExactly(new PayoutIndex.Conflict(1, "p2", "b0", List.of("amount")));
    assertThat(index.held()).isZero();
  }

  @Test
  void theBatchsOwnIdsInTheStoreWithTheSameContentAreNotAConflict() {
    store.put("acme/p1", PayoutClaim.of(payout("b1", "p1")));

    assertThat(reserve("b1", payout("b1", "p1"))).isInstanceOf(PayoutIndex.Reserved.class);
  }

  @Test
  void theBatchsOwnIdsInTheStoreWithOtherContentAreAConflict() {
    store.put("acme/p1", PayoutClaim.of(payout("b1", "p1", "0xsource", "0xto", "5")));

    assertThat(((PayoutIndex.Taken) reserve("b1", payout("b1", "p1"))).conflicts())
        .containsExactly(new PayoutIndex.Conflict(0, "p1", "b1", List.of("amount")));
  }

  @Test
  void withTheViewFarBehindNewBatchesAreRefusedForNowUntilItCatchesUp() {
    ((PayoutIndex.Reserved) reserve("b1", payout("b1", "p1"), payout("b1", "p2"))).keep();

    assertThat(reserve("b2", payout("b2", "p3"), payout("b2", "p4")))
        .isInstanceOf(PayoutIndex.Full.class);
    index.indexed("acme/b1");

    assertThat(reserve("b2", payout("b2", "p3"), payout("b2", "p4")))
        .isInstanceOf(PayoutIndex.Reserved.class);
  }

  @Test
  void aBatchLargerThanTheBoundPassesWhenNothingElseIsHeld() {
    assertThat(
            reserve(
                "b1",
                payout("b1", "p1"),
                payout("b1", "p2"),
                payout("b1", "p3"),
                payout("b1", "p4")))
        .isInstanceOf(PayoutIndex.Reserved.class);
  }

  @Test
  void idsAreAClientsOwn() {
    ((PayoutIndex.Reserved) reserve("b1", payout("b1", "p1"))).keep();
    Payout globex =
        new Payout(
            "p1",
            "b1",
            "globex",
            Chain.ETH,
            Chain.ETH.nativeAsset(),
            "0xelse",
            new Address("0xto"),
            Amount.parse("9"),
            null,
            T0);

    assertThat(reserve(index, "b1", globex)).isInstanceOf(PayoutIndex.Reserved.class);
  }

  @Test
  void aBatchPostedAgainWithOtherContentAfterAnUnconfirmedWriteIsRefusedForItsOwnIds() {
    ((PayoutIndex.Reserved) reserve("b1", payout("b1", "p1"))).doubt();

    PayoutIndex.Check again = reserve("b1", payout("b1", "p1", "0xsource", "0xto", "2"));

    assertThat(((PayoutIndex.Taken) again).conflicts())
        .containsExactly(new PayoutIndex.Conflict(0, "p1", "b1", List.of("amount")));
    assertThat(index.unconfirmed("acme", "b1").orElseThrow().payoutIds()).containsExactly("p1");
  }

  @Test
  void theSameBatchPostedAgainAfterAnUnconfirmedWriteMayBeWrittenAgain() {
    ((PayoutIndex.Reserved) reserve("b1", payout("b1", "p1"))).doubt();

    PayoutIndex.Check again = reserve("b1", payout("b1", "p1"));

    assertThat(again).isInstanceOf(PayoutIndex.Reserved.class);
    assertThat(((PayoutIndex.Reserved) again).acceptedEarlier()).isEmpty();
    assertThat(index.held()).isEqualTo(1);
  }

  @Test
  void anIdOfABatchWhoseWriteIsUnconfirmedIsNeitherAcceptedEarlierNorAConflict() {
    ((PayoutIndex.Reserved) reserve("b1", payout("b1", "p1"))).doubt();

    PayoutIndex.Check same = reserve("b2", payout("b2", "p0"), payout("b2", "p1"));
    PayoutIndex.Check other = reserve("b3", payout("b3", "p1", "0xother", "0xto", "1"));

    assertThat(((PayoutIndex.Unconfirmed) same).ids())
        .containsExactly(new PayoutIndex.InDoubt(1, "p1", "b1"));
    assertThat(((PayoutIndex.Unconfirmed) other).ids())
        .containsExactly(new PayoutIndex.InDoubt(0, "p1", "b1"));
    assertThat(index.holding().inDoubt()).isEqualTo(1);
  }

  @Test
  void anIdOfAnUnconfirmedWriteThatAbortedIsFreeAgain() {
    PayoutIndex.Reserved b1 = (PayoutIndex.Reserved) reserve("b1", payout("b1", "p1"));
    b1.doubt();

    b1.release();

    PayoutIndex.Check b2 = reserve("b2", payout("b2", "p1"));
    assertThat(((PayoutIndex.Reserved) b2).acceptedEarlier()).isEmpty();
    assertThat(index.unconfirmed("acme", "b1")).isEmpty();
  }

  @Test
  void anIdOfAnUnconfirmedWriteThatCommittedIsAcceptedEarlier() {
    PayoutIndex.Reserved b1 = (PayoutIndex.Reserved) reserve("b1", payout("b1", "p1"));
    b1.doubt();

    b1.keep();

    PayoutIndex.Check b2 = reserve("b2", payout("b2", "p1"));
    assertThat(((PayoutIndex.Reserved) b2).acceptedEarlier()).isEqualTo(Map.of("p1", "b1"));
  }

  @Test
  void aRetryThatAbortsLeavesTheIdsOfTheUnconfirmedAttemptBeforeItInDoubt() {
    PayoutIndex.Reserved first = (PayoutIndex.Reserved) reserve("b1", payout("b1", "p1"));
    first.doubt();
    PayoutIndex.Reserved retry = (PayoutIndex.Reserved) reserve("b1", payout("b1", "p1"));

    retry.release();

    assertThat(reserve("b2", payout("b2", "p1"))).isInstanceOf(PayoutIndex.Unconfirmed.class);
    first.release();
    assertThat(reserve("b2", payout("b2", "p1"))).isInstanceOf(PayoutIndex.Reserved.class);
  }

  @Test
  void aRetriedBatchDoesNotCountItsOwnEarlierHoldAgainstTheBound() {
    ((PayoutIndex.Reserved) reserve("b1", payout("b1", "p1"), payout("b1", "p2"))).doubt();

    PayoutIndex.Check retry = reserve("b1", payout("b1", "p1"), payout("b1", "p2"));

    assertThat(retry).isInstanceOf(PayoutIndex.Reserved.class);
    assertThat(index.held()).isEqualTo(2);
  }

  @Test
  void aClientAtItsBoundDoesNotLockOtherClientsOut() {
    PayoutIndex perClient =
        new PayoutIndex((client, id) -> Optional.ofNullable(store.get(client + "/" + id)), 10, 3);
    PayoutIndex.Reserved leaked =
        (PayoutIndex.Reserved)
            reserve(perClient, "b1", payout("acme", "b1", "p1"), payout("acme", "b1", "p2"));
    leaked.doubt();

    PayoutIndex.Check acme = reserve(perClient, "b2", payout("acme", "b2", "p3"));
    PayoutIndex.Check globex = reserve(perClient, "b1", payout("globex", "b1", "p1"));

    assertThat(acme).isEqualTo(new PayoutIndex.Full(false, 3, 3));
    assertThat(globex).isInstanceOf(PayoutIndex.Reserved.class);
    PayoutIndex.Holding holding = perClient.holding();
    assertThat(holding.clientsAtLimit()).isEqualTo(1);
    assertThat(holding.full()).isFalse();
    assertThat(holding.refusals()).isEqualTo(1);
  }

  @Test
  void theGatewaysBoundRefusesEveryClientUntilItsHoldsAreRead() {
    PayoutIndex bounded =
        new PayoutIndex((client, id) -> Optional.ofNullable(store.get(client + "/" + id)), 5, 3);
    ((PayoutIndex.Reserved)
            reserve(bounded, "b1", payout("acme", "b1", "p1"), payout("acme", "b1", "p2")))
        .keep();
    ((PayoutIndex.Reserved) reserve(bounded, "b1", payout("globex", "b1", "q1"))).keep();

    PayoutIndex.Check initech = reserve(bounded, "b1", payout("initech", "b1", "r1"));

    assertThat(initech).isEqualTo(new PayoutIndex.Full(true, 5, 5));
    assertThat(bounded.holding().full()).isTrue();
    bounded.indexed("acme/b1");
    assertThat(bounded.holding().full()).isFalse();
    assertThat(reserve(bounded, "b1", payout("initech", "b1", "r1")))
        .isInstanceOf(PayoutIndex.Reserved.class);
  }

  @Test
  void aBatchOfPayoutsAllAcceptedEarlierCountsTowardTheBound() {
    store.put("acme/p1", PayoutClaim.of(payout("b0", "p1")));
    PayoutIndex bounded =
        new PayoutIndex((client, id) -> Optional.ofNullable(store.get(client + "/" + id)), 10, 2);

    assertThat(reserve(bounded, "b1", payout("b1", "p1"))).isInstanceOf(PayoutIndex.Reserved.class);
    assertThat(reserve(bounded, "b2", payout("b2", "p1"))).isInstanceOf(PayoutIndex.Reserved.class);
    assertThat(reserve(bounded, "b3", payout("b3", "p1"))).isInstanceOf(PayoutIndex.Full.class);
    assertThat(bounded.held()).isZero();
  }
}
