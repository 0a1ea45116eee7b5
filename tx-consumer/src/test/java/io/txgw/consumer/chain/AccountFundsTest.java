package io.txgw.consumer.chain;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import org.junit.jupiter.api.Test;

class AccountFundsTest {
  private static BigInteger wei(long n) {
    return BigInteger.valueOf(n);
  }

  @Test
  void transactionsSignedHereAreReservedUntilMined() {
    AccountFunds funds = AccountFunds.read(0, wei(100), null);
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
    AccountFunds funds = AccountFunds.read(2, wei(100), null);
    funds.spend(2, wei(30));
    funds.spend(3, wei(20));
    funds.spend(4, wei(10));

    AccountFunds after = AccountFunds.read(4, wei(99), funds);

    // A reorganisation may undo the other spends and mine ours after all: their costs stay held.
    assertThat(after.left()).isEqualTo(wei(99 - 30 - 20 - 10));
    assertThat(after.next()).isEqualTo(5);
  }

  @Test
  void aReceiptSeenAfterTheReadThatPassedItCountsItOnceMoreUntilTheNextRead() {
    AccountFunds funds = AccountFunds.read(0, wei(100), null);
    funds.spend(0, wei(30));
    AccountFunds after = AccountFunds.read(1, wei(70), funds);
    assertThat(after.left()).isEqualTo(wei(40));

    after.mined(0);
    assertThat(after.left()).isEqualTo(wei(40));

    assertThat(AccountFunds.read(1, wei(70), after).left()).isEqualTo(wei(70));
  }

  @Test
  void aMinedCostIsCountedAgainWhenAReorganisationAfterALaterReadTakesItsBlock() {
    AccountFunds funds = AccountFunds.read(0, wei(100), null);
    funds.spend(0, wei(30));
    funds.mined(0);
    AccountFunds settled = AccountFunds.read(1, wei(70), funds);
    assertThat(settled.left()).isEqualTo(wei(70));

    // Its block left the chain: the balance is whole again, and the transaction will be mined.
    AccountFunds undone = AccountFunds.read(0, wei(100), settled);
    assertThat(undone.left()).isEqualTo(wei(70));

    AccountFunds again = AccountFunds.read(1, wei(70), undone);
    assertThat(again.left()).isEqualTo(wei(70));
  }

  @Test
  void aRepricedTransactionReservesItsNewCostAndAMinedOneIsNotRepriced() {
    AccountFunds funds = AccountFunds.read(0, wei(100), null);
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
    AccountFunds mined = AccountFunds.read(2, wei(35), null, followed);
    assertThat(mined.left()).isEqualTo(wei(35));
    assertThat(mined.next()).isEqualTo(2);

    // A reorganisation took both blocks: they will be mined again at nonces 0 and 1.
    AccountFunds undone = AccountFunds.read(0, wei(100), null, followed);
    assertThat(undone.left()).isEqualTo(wei(35));
    assertThat(undone.next()).isEqualTo(2);
  }

  @Test
  void atMostMaxMinedKeptCostsAreKeptForReorganisations() {
    int over = AccountFunds.MAX_MINED_KEPT + 5;
    AccountFunds funds = AccountFunds.read(0, wei(10L * over), null);
    for (int nonce = 0; nonce < over; nonce++) {
      funds.spend(nonce, wei(1));
      funds.mined(nonce);
    }

    // A reorganisation back to the start: only the costs kept are counted again.
    AccountFunds undone = AccountFunds.read(0, wei(10L * over), funds);

    assertThat(undone.left()).isEqualTo(wei(10L * over - AccountFunds.MAX_MINED_KEPT));
  }
}
