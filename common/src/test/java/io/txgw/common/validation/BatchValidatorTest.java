package io.txgw.common.validation;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BatchValidatorTest {
  private static final String ETH_SOURCE = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
  private static final String ETH_TO = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
  private static final Instant NOW = Instant.parse("2026-11-21T00:00:00Z");

  private final BatchValidator validator =
      new BatchValidator(
          new BatchRules(
              3,
              Map.of(Chain.BTC, Amount.parse("1"), Chain.ETH, Amount.parse("10")),
              new AddressCodec(BitcoinNetwork.BCOIN_REGTEST)));

  private static BatchSubmission eth(PayoutLine... lines) {
    return new BatchSubmission("b-1", "ETH", ETH_SOURCE, List.of(lines));
  }

  private static final String USDC = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48";

  private final BatchValidator withTokens =
      new BatchValidator(
          new BatchRules(
              3,
              Map.of(Chain.BTC, Amount.parse("1"), Chain.ETH, Amount.parse("10")),
              new AddressCodec(BitcoinNetwork.BCOIN_REGTEST),
              io.txgw.common.model.AssetRegistry.parse("ETH:USDC=" + USDC + ":6:500")));

  @Test
  void aTokenBatchIsCheckedAgainstTheTokensDecimalsAndMaximumNotTheCoins() {
    ValidatedBatch ok =
        withTokens.validate(
            new BatchSubmission(
                "b-t",
                "ETH",
                ETH_SOURCE,
                List.of(new PayoutLine("p1", ETH_TO, "12.5", null)),
                "usdc"),
            "acme",
            NOW);
    assertThat(ok.valid()).isTrue();
    assertThat(ok.payouts().get(0).asset().symbol()).isEqualTo("USDC");
    assertThat(ok.payouts().get(0).asset().contract()).isEqualTo(USDC);
    assertThat(ok.payouts().get(0).amount().toUnits(6))
        .isEqualTo(new java.math.BigInteger("12500000"));
    // The same lines as ETH are another batch.
    ValidatedBatch coin =
        withTokens.validate(eth(new PayoutLine("p1", ETH_TO, "12.5", null)), "acme", NOW);
    assertThat(coin.fingerprint()).isNotEqualTo(ok.fingerprint());

    ValidatedBatch bad =
        withTokens.validate(
            new BatchSubmission(
                "b-t",
                "ETH",
                ETH_SOURCE,
                List.of(
                    new PayoutLine("p1", ETH_TO, "1.0000001", null),
                    new PayoutLine("p2", ETH_TO, "500.000001", null),
                    new PayoutLine("p3", ETH_TO, "501", null)),
                "USDC"),
            "acme",
            NOW);
    assertThat(bad.violations())
        .extracting(Violation::index, Violation::field)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(0, "amount"),
            org.assertj.core.groups.Tuple.tuple(1, "amount"),
            org.assertj.core.groups.Tuple.tuple(2, "amount"));
    assertThat(bad.violations().get(0).reason()).contains("6 decimal places for USDC");
  }

  @Test
  void anAssetNotConfiguredIsRefusedWholeAndNeverPaidAsTheCoin() {
    ValidatedBatch result =
        withTokens.validate(
            new BatchSubmission(
                "b-u", "ETH", ETH_SOURCE, List.of(new PayoutLine("p1", ETH_TO, "1", null)), "USDT"),
            "acme",
            NOW);
    assertThat(result.valid()).isFalse();
    assertThat(result.violations()).hasSize(1);
    assertThat(result.violations().get(0).field()).isEqualTo("asset");
    assertThat(result.violations().get(0).reason()).contains("ETH, USDC");
    // The native coin may be named.
    assertThat(
            withTokens
                .validate(
                    new BatchSubmission(
                        "b-e",
                        "ETH",
                        ETH_SOURCE,
                        List.of(new PayoutLine("p1", ETH_TO, "1", null)),
                        "ETH"),
                    "acme",
                    NOW)
                .valid())
        .isTrue();
  }

  @Test
  void aValidBatchBecomesCanonicalPayouts() {
    ValidatedBatch result =
        validator.validate(
            eth(new PayoutLine("p1", ETH_TO.toLowerCase(), "1.5", "salary")), "acme", NOW);
    assertThat(result.valid()).isTrue();
    assertThat(result.payouts()).hasSize(1);
    assertThat(result.payouts().get(0).to().value()).isEqualTo(ETH_TO);
    assertThat(result.payouts().get(0).accountKey()).isEqualTo("ETH:" + ETH_SOURCE);
    assertThat(result.fingerprint()).hasSize(64);
  }

  @Test
  void reportsEveryBadItemWithItsIndexIdFieldAndReason() {
    ValidatedBatch result =
        validator.validate(
            eth(
                new PayoutLine("p1", "0x1234", "1", null),
                new PayoutLine("p2", ETH_TO, "0.0000000000000000001", null),
                new PayoutLine("p3", ETH_TO, "11", null)),
            "acme",
            NOW);
    assertThat(result.valid()).isFalse();
    assertThat(result.payouts()).isEmpty();
    assertThat(result.violations())
        .extracting(Violation::index, Violation::id, Violation::field)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(0, "p1", "to"),
            org.assertj.core.groups.Tuple.tuple(1, "p2", "amount"),
            org.assertj.core.groups.Tuple.tuple(2, "p3", "amount"));
    assertThat(result.violations().get(1).reason()).contains("18 decimal places");
    assertThat(result.violations().get(2).reason()).contains("maximum");
  }

  @Test
  void refusesZeroAndDuplicatedIds() {
    ValidatedBatch result =
        validator.validate(
            eth(new PayoutLine("p1", ETH_TO, "0", null), new PayoutLine("p1", ETH_TO, "1", null)),
            "acme",
            NOW);
    assertThat(result.violations())
        .extracting(Violation::field, Violation::reason)
        .contains(
            org.assertj.core.groups.Tuple.tuple("amount", "must be greater than zero"),
            org.assertj.core.groups.Tuple.tuple("id", "duplicate of the payout at index 0"));
  }

  @Test
  void refusesABatchOverTheSizeLimitWithoutListingEveryItem() {
    List<PayoutLine> lines = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      lines.add(new PayoutLine("p" + i, ETH_TO, "1", null));
    }
    ValidatedBatch result =
        validator.validate(new BatchSubmission("b", "ETH", ETH_SOURCE, lines), "acme", NOW);
    assertThat(result.violations())
        .singleElement()
        .satisfies(v -> assertThat(v.field()).isEqualTo("payouts"));
  }

  @Test
  void reportsBatchLevelProblemsTogether() {
    ValidatedBatch result =
        validator.validate(new BatchSubmission(null, "DOGE", "x", List.of()), "acme", NOW);
    assertThat(result.violations())
        .extracting(Violation::field)
        .containsExactlyInAnyOrder("batchId", "chain", "payouts");
  }

  @Test
  void bitcoinSourceIsAWalletNameAndAmountsHaveEightDecimals() {
    ValidatedBatch ok =
        validator.validate(
            new BatchSubmission(
                "b",
                "BTC",
                "primary",
                List.of(
                    new PayoutLine("p", "RJnhxQm2k38icpc19eiej3n2LtYGj5DWAc", "0.00012345", null))),
            "acme",
            NOW);
    assertThat(ok.valid()).isTrue();
    ValidatedBatch bad =
        validator.validate(
            new BatchSubmission(
                "b",
                "BTC",
                "primary wallet",
                List.of(
                    new PayoutLine(
                        "p", "RJnhxQm2k38icpc19eiej3n2LtYGj5DWAc", "0.000123456", null))),
            "acme",
            NOW);
    assertThat(bad.violations()).extracting(Violation::field).containsExactly("source", "amount");
  }

  @Test
  void theSameContentGivesTheSameFingerprintAndAnyChangeAnother() {
    String a =
        validator.validate(eth(new PayoutLine("p1", ETH_TO, "1", null)), "c", NOW).fingerprint();
    String b =
        validator.validate(eth(new PayoutLine("p1", ETH_TO, "1.0", null)), "c", NOW).fingerprint();
    String c =
        validator.validate(eth(new PayoutLine("p1", ETH_TO, "1.01", null)), "c", NOW).fingerprint();
    assertThat(a).isEqualTo(b).isNotEqualTo(c);
  }
}
