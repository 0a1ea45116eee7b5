package io.txgw.consumer.chain;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.consumer.signing.EthFees;
import io.txgw.consumer.signing.EthTransaction;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class FollowedUnitsTest {
  private static final String FROM = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
  private static final String TO = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
  private static final BigInteger GWEI = BigInteger.valueOf(1_000_000_000L);
  private static final BigInteger ETHER = GWEI.multiply(GWEI);

  private static EthTransaction transfer(long nonce, BigInteger fee) {
    return new EthTransaction(31337, nonce, FROM, TO, ETHER, 21_000, new EthFees.Legacy(fee), "0x");
  }

  private static JournalEntry unit(long nonce, String txid, String raw) {
    return new JournalEntry(
        "ETH:" + txid,
        Chain.ETH,
        FROM,
        txid,
        raw,
        nonce,
        JournalEntry.State.CONFIRMING,
        List.of(),
        Instant.EPOCH,
        Instant.EPOCH);
  }

  @Test
  void aUnitAtOrAboveTheCountCostsItsDearestTransactionAndOneBelowIsNotCounted() throws Exception {
    EthTransaction dear = transfer(5, GWEI.multiply(BigInteger.TWO));
    EthTransaction cheap = transfer(5, GWEI);
    // Replaced at a higher fee, then settled by the cheaper one the chain mined: either may be
    // mined again once its block is gone.
    JournalEntry replaced =
        unit(5, "0x" + "01".repeat(32), EthereumSenderTest.KEYS.sign(dear))
            .replacedBy(
                "0x" + "02".repeat(32), EthereumSenderTest.KEYS.sign(cheap), GWEI, Instant.EPOCH);
    JournalEntry below =
        unit(4, "0x" + "03".repeat(32), EthereumSenderTest.KEYS.sign(transfer(4, GWEI)));
    FollowedUnits followed = new FollowedUnits();
    followed.set(List.of(below, replaced));

    assertThat(followed.costs(FROM, 5, false))
        .containsExactly(java.util.Map.entry(5L, dear.cost()));
    assertThat(followed.costs(TO, 0, false)).isEmpty();

    // The dearer one current, the cheaper one replaced: the same cost.
    followed.set(
        List.of(
            unit(5, "0x" + "02".repeat(32), EthereumSenderTest.KEYS.sign(cheap))
                .replacedBy(
                    "0x" + "01".repeat(32),
                    EthereumSenderTest.KEYS.sign(dear),
                    GWEI.multiply(BigInteger.TWO),
                    Instant.EPOCH)));
    assertThat(followed.costs(FROM, 5, false))
        .containsExactly(java.util.Map.entry(5L, dear.cost()));
  }
}
