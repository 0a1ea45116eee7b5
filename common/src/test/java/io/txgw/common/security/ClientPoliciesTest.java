package io.txgw.common.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.model.Address;
import io.txgw.common.model.Chain;
import io.txgw.common.validation.BatchRules;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.BatchValidator;
import io.txgw.common.validation.PayoutLine;
import io.txgw.common.validation.ValidatedBatch;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClientPoliciesTest {
  private static final AddressCodec CODEC = new AddressCodec(BitcoinNetwork.BCOIN_REGTEST);
  private static final String SOURCE = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
  private static final String ALICE = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
  private static final String BOB = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359";

  private static ClientPolicies parse(String json) {
    return ClientPolicies.parse(json.getBytes(StandardCharsets.UTF_8), CODEC);
  }

  @Test
  void rightsAndListsMatchWhateverTheLetterCaseTheyWereWrittenIn() {
    ClientPolicies p =
        parse(
            """
            {"clients": {"acme": {"spend": ["eth:%s", "BTC:payouts"], "deny": ["%s"]}}}
            """
                .formatted(SOURCE.toLowerCase(), BOB.toUpperCase().replace("0X", "0x")));
    assertThat(p.of("acme").maySpend(Chain.ETH, SOURCE)).isTrue();
    assertThat(p.of("acme").maySpend(Chain.BTC, "payouts")).isTrue();
    assertThat(p.of("acme").recipientRefusal(new Address(BOB))).isPresent();
    assertThat(p.of("acme").recipientRefusal(new Address(ALICE))).isEmpty();
    assertThat(p.of("someone-else").maySpend(Chain.BTC, "payouts")).isFalse();
  }

  @Test
  void aTokenNeedsARightOfItsOwnTheRightToASourcesCoinIsNoneToItsTokens() {
    io.txgw.common.model.Asset tusd =
        new io.txgw.common.model.Asset("TUSD", 6, "0x5fbdb2315678afecb367f032d93f642f64180aa3");
    io.txgw.common.model.Asset usdc =
        new io.txgw.common.model.Asset("USDC", 6, "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48");
    ClientPolicies p =
        ClientPolicies.parse(
            ("{\"clients\": {\"acme\": {\"spend\": [\"ETH:%s\", \"ETH:%s:tusd\"],"
                    + " \"maxBatchTotal\": {\"TUSD\": \"100\"}},"
                    + " \"coins\": {\"spend\": [\"ETH:%s\"]}}}")
                .formatted(SOURCE, SOURCE.toLowerCase(), SOURCE)
                .getBytes(StandardCharsets.UTF_8),
            CODEC,
            java.util.Set.of("ETH", "BTC", "TUSD", "USDC"));
    assertThat(p.of("acme").maySpend(Chain.ETH, SOURCE, tusd)).isTrue();
    assertThat(p.of("acme").maySpend(Chain.ETH, SOURCE, usdc)).isFalse();
    assertThat(p.of("acme").maySpend(Chain.ETH, SOURCE, Chain.ETH.nativeAsset())).isTrue();
    assertThat(p.of("coins").maySpend(Chain.ETH, SOURCE, tusd)).isFalse();
    // A right to a token no asset list names is a mistake, refused with the file.
    assertThatThrownBy(
            () ->
                ClientPolicies.parse(
                    ("{\"clients\": {\"acme\": {\"spend\": [\"ETH:%s:USDT\"]}}}")
                        .formatted(SOURCE)
                        .getBytes(StandardCharsets.UTF_8),
                    CODEC,
                    java.util.Set.of("ETH", "BTC", "TUSD")))
        .hasMessageContaining("ETH:address:TOKEN");
  }

  @Test
  void aBatchAboveTheApprovalThresholdOfItsAssetNeedsApprovalAndOneAtItDoesNot() {
    ClientPolicies p =
        parse(
            """
            {"clients": {"acme": {"spend": ["BTC:payouts"], "approveAbove": {"eth": "10"}}}}
            """);
    ClientPolicy acme = p.of("acme");
    assertThat(acme.approvalThreshold("ETH", io.txgw.common.model.Amount.parse("10.000000001")))
        .contains(io.txgw.common.model.Amount.parse("10"));
    assertThat(acme.approvalThreshold("ETH", io.txgw.common.model.Amount.parse("10"))).isEmpty();
    assertThat(acme.approvalThreshold("BTC", io.txgw.common.model.Amount.parse("1000"))).isEmpty();
    assertThatThrownBy(
            () -> parse("{\"clients\": {\"acme\": {\"approveAbove\": {\"ETH\": \"0\"}}}}"))
        .hasMessageContaining("approveAbove ETH");
    assertThatThrownBy(
            () -> parse("{\"clients\": {\"acme\": {\"approveAbove\": {\"ETHER\": \"5\"}}}}"))
        .hasMessageContaining("approveAbove ETHER: not an asset");
    assertThatThrownBy(() -> parse("{\"clients\": {\"acme/eu\": {}}}"))
        .hasMessageContaining("no '/' or ':'");
  }

  @Test
  void everyProblemOfTheFileIsNamed() {
    assertThatThrownBy(
            () ->
                parse(
                    """
                    {"clients": {"acme": {"spend": ["DOGE:x", "ETH:0x12"], "maxBatchTotal": {"ETH": "-1"},
                      "deny": ["nope"], "colour": "red"}}}
                    """))
        .hasMessageContaining("DOGE:x")
        .hasMessageContaining("ETH:0x12")
        .hasMessageContaining("maxBatchTotal ETH")
        .hasMessageContaining("deny entry nope")
        .hasMessageContaining("unknown field colour");
    assertThatThrownBy(() -> parse("{\"clients\": {}, \"clients\": {}}"))
        .hasMessageContaining("not valid JSON");
  }

  @Test
  void theValidatorRefusesAnotherSourceADeniedOrZeroRecipientAndATotalAboveTheMaximum() {
    ClientPolicies p =
        parse(
            """
            {"clients": {"acme": {"spend": ["ETH:%s"], "maxBatchTotal": {"ETH": "2"}, "deny": ["%s"]}}}
            """
                .formatted(SOURCE, BOB));
    BatchValidator validator =
        new BatchValidator(
            new BatchRules(
                100,
                Map.of(
                    Chain.BTC,
                    io.txgw.common.model.Amount.parse("1"),
                    Chain.ETH,
                    io.txgw.common.model.Amount.parse("10")),
                CODEC));
    ValidatedBatch otherSource =
        validator.validate(
            new BatchSubmission("b1", "ETH", ALICE, List.of(new PayoutLine("p1", BOB, "1", null))),
            p.of("acme"),
            Instant.EPOCH);
    assertThat(otherSource.violations()).extracting(v -> v.field()).containsExactly("source", "to");
    ValidatedBatch zero =
        validator.validate(
            new BatchSubmission(
                "b2",
                "ETH",
                SOURCE,
                List.of(
                    new PayoutLine("p1", "0x0000000000000000000000000000000000000000", "1", null))),
            p.of("acme"),
            Instant.EPOCH);
    assertThat(zero.violations())
        .singleElement()
        .satisfies(v -> assertThat(v.reason()).contains("zero address"));
    ValidatedBatch tooMuch =
        validator.validate(
            new BatchSubmission(
                "b3",
                "ETH",
                SOURCE,
                List.of(
                    new PayoutLine("p1", ALICE, "1.5", null),
                    new PayoutLine("p2", ALICE, "0.6", null))),
            p.of("acme"),
            Instant.EPOCH);
    assertThat(tooMuch.violations())
        .singleElement()
        .satisfies(v -> assertThat(v.reason()).contains("2.1 ETH in total", "maximum of 2"));
    ValidatedBatch fine =
        validator.validate(
            new BatchSubmission(
                "b4", "ETH", SOURCE, List.of(new PayoutLine("p1", ALICE, "2", null))),
            p.of("acme"),
            Instant.EPOCH);
    assertThat(fine.valid()).isTrue();
  }
}
