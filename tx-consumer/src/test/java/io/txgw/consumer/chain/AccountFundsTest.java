package io.txgw.consumer.chain;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import org.junit.jupiter.api.Test;

class AccountFundsTest {
  private static BigInteger wei(long n) {
    return BigInteger.valueOf(n);
  }

  /** A read at a block no followed unit's cost is held for. */
  private static void read(AccountFunds funds, long nonce, BigInteger balance) {
    funds.read(nonce, balance, new java.util.TreeMap<>());
  }

  @Test
  void transactionsSignedHereAreReservedUntilMined() {
    AccountFunds funds = new AccountFunds();
    read(funds, 0, wei(100));
    funds.spend(0, wei(30));
    funds.spend(1, wei(20));

    assertThat(funds.left()).isEqualTo(wei(50));
    assertThat(funds.next()).isEqualTo(2);

    funds.mined(0);

    assertThat(funds.left()).isEqualTo(wei(50));
  }

  @Test
  void aNonceTheCountPassedStaysReservedWhileNoReceiptOfOursIsSeen() {
    // Ours at 2 and 3; another spender's transactions took both nonces for a pittance each.
    AccountFunds funds = new AccountFunds();
    read(funds, 2, wei(100));
    funds.spend(2, wei(30));
    funds.spend(3, wei(20));
    funds.spend(4, wei(10));

    read(funds, 4, wei(99));

    // A reorganisation may undo the other spends and mine ours after all: their costs stay held.
    assertThat(funds.left()).isEqualTo(wei(99 - 30 - 20 - 10));
    assertThat(funds.next()).isEqualTo(5);
  }

  @Test
  void aReceiptSeenAfterTheReadThatPassedItCountsItOnceMoreUntilTheNextRead() {
    AccountFunds funds = new AccountFunds();
    read(funds, 0, wei(100));
    funds.spend(0, wei(30));
    read(funds, 1, wei(70));
    assertThat(funds.left()).isEqualTo(wei(40));

    funds.mined(0);
    assertThat(funds.left()).isEqualTo(wei(40));

    read(funds, 1, wei(70));
    assertThat(funds.left()).isEqualTo(wei(70));
  }

  @Test
  void aMinedCostIsCountedAgainWhenAReorganisationAfterALaterReadTakesItsBlock() {
    AccountFunds funds = new AccountFunds();
    read(funds, 0, wei(100));
    funds.spend(0, wei(30));
    funds.mined(0);
    read(funds, 1, wei(70));
    assertThat(funds.left()).isEqualTo(wei(70));

    // Its block left the chain: the balance is whole again, and the transaction will be mined.
    read(funds, 0, wei(100));
    assertThat(funds.left()).isEqualTo(wei(70));

    read(funds, 1, wei(70));
    assertThat(funds.left()).isEqualTo(wei(70));
  }

  @Test
  void aRepricedTransactionReservesItsNewCostAndAMinedOneIsNotRepriced() {
    AccountFunds funds = new AccountFunds();
    read(funds, 0, wei(100));
    funds.spend(0, wei(30));
    funds.spend(1, wei(20));
    funds.repriced(1, wei(25));
    assertThat(funds.left()).isEqualTo(wei(45));

    funds.mined(0);
    funds.repriced(0, wei(40));
    assertThat(funds.left()).isEqualTo(wei(45));
  }

  @Test
  void unitsTheJournalFollowsAreHeldOnAFreshReadOnceTheirBlocksAreGoneAndSignedAbove() {
    java.util.TreeMap<Long, BigInteger> followed = new java.util.TreeMap<>();
    followed.put(0L, wei(60));
    followed.put(1L, wei(5));

    // Forgotten since their receipts; their blocks still on the chain: nothing to hold.
    AccountFunds mined = new AccountFunds();
    mined.read(2, wei(35), followed);
    assertThat(mined.left()).isEqualTo(wei(35));
    assertThat(mined.next()).isEqualTo(2);

    // A reorganisation took both blocks: they will be mined again at nonces 0 and 1.
    AccountFunds undone = new AccountFunds();
    undone.read(0, wei(100), followed);
    assertThat(undone.left()).isEqualTo(wei(35));
    assertThat(undone.next()).isEqualTo(2);
  }

  @Test
  void aFollowedUnitThisSenderStillHoldsUnminedIsNotCountedTwiceAndOneSeenMinedIsKeptOnce() {
    AccountFunds funds = new AccountFunds();
    read(funds, 0, wei(100));
    funds.spend(0, wei(30));
    funds.spend(1, wei(20));
    funds.mined(1);
    java.util.TreeMap<Long, BigInteger> followed = new java.util.TreeMap<>();
    followed.put(0L, wei(30));
    followed.put(1L, wei(20));

    // Both blocks gone: 0 is still held as unmined, 1 as mined, each once.
    funds.read(0, wei(100), followed);

    assertThat(funds.left()).isEqualTo(wei(50));
    assertThat(funds.next()).isEqualTo(2);
  }

  @Test
  void aFollowedUnitDearerThanTheCostSeenMinedHereIsHeldAtItsDearerCost() {
    AccountFunds funds = new AccountFunds();
    read(funds, 0, wei(100));
    funds.spend(0, wei(30));
    funds.mined(0);
    java.util.TreeMap<Long, BigInteger> followed = new java.util.TreeMap<>();
    // Replaced at a higher fee before: either attempt may be the one mined again.
    followed.put(0L, wei(35));

    funds.read(0, wei(100), followed);

    assertThat(funds.left()).isEqualTo(wei(65));
  }

  @Test
  void atMostMaxMinedKeptCostsAreKeptForReorganisations() {
    int over = AccountFunds.MAX_MINED_KEPT + 5;
    AccountFunds funds = new AccountFunds();
    read(funds, 0, wei(10L * over));
    for (int nonce = 0; nonce < over; nonce++) {
      funds.spend(nonce, wei(1));
      funds.mined(nonce);
    }

    // A reorganisation back to the start: only the costs kept are counted again.
    read(funds, 0, wei(10L * over));

    assertThat(funds.left()).isEqualTo(wei(10L * over - AccountFunds.MAX_MINED_KEPT));
  }
}
