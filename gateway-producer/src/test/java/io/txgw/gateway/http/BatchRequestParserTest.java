package io.txgw.gateway.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txgw.common.validation.PayoutLine;
import io.txgw.common.validation.Violation;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BatchRequestParserTest {
  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void readsAJsonBatchAsRawText() {
    BatchRequestParser.Parsed parsed =
        BatchRequestParser.json(
            utf8(
                "{\"batchId\":\"b1\",\"chain\":\"ETH\",\"source\":\"0xabc\","
                    + "\"payouts\":[{\"id\":\"p1\",\"to\":\"0xdef\",\"amount\":\"0.10\",\"memo\":\"m\"}]}"));
    assertThat(parsed.typeViolations()).isEmpty();
    assertThat(parsed.submission().payouts())
        .containsExactly(new PayoutLine("p1", "0xdef", "0.10", "m"));
  }

  @Test
  void everyFieldTheApiDoesNotKnowIsNamedNotIgnoredAndTheAssetIsRead() {
    BatchRequestParser.Parsed parsed =
        BatchRequestParser.json(
            utf8(
                "{\"batchId\":\"b1\",\"chain\":\"ETH\",\"source\":\"s\",\"asset\":\"USDC\","
                    + "\"token\":\"x\",\"payouts\":[{\"id\":\"p1\",\"to\":\"a\",\"amount\":\"1\","
                    + "\"memmo\":\"typo\"}]}"));
    assertThat(parsed.submission().asset()).isEqualTo("USDC");
    assertThat(parsed.typeViolations())
        .extracting(Violation::index, Violation::id, Violation::field)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(null, null, "token"),
            org.assertj.core.groups.Tuple.tuple(0, "p1", "memmo"));
    assertThat(parsed.typeViolations().get(1).reason())
        .isEqualTo("is not a field of a payout; known: amount, id, memo, to");
  }

  @Test
  void aCsvBatchNamesEachUnknownOrRepeatedQueryParameterRatherThanPayTheCoin() {
    java.util.Map<String, java.util.List<String>> query = new java.util.LinkedHashMap<>();
    query.put("batchId", java.util.List.of("b1"));
    query.put("chain", java.util.List.of("ETH"));
    query.put("source", java.util.List.of("s"));
    query.put("assets", java.util.List.of("USDC"));
    query.put("asset", java.util.List.of("USDC", "ETH"));
    BatchRequestParser.Parsed parsed = BatchRequestParser.csv(utf8("p1,addr,1\n"), query, 10_000);
    assertThat(parsed.typeViolations())
        .extracting(Violation::field)
        .containsExactlyInAnyOrder("assets", "asset");
    assertThat(parsed.submission().asset()).isEqualTo("USDC");
  }

  @Test
  void aRepeatedKeyIsRefusedRatherThanLeftToTheParserToPickAValue() {
    assertThatThrownBy(
            () ->
                BatchRequestParser.json(
                    utf8(
                        "{\"batchId\":\"b1\",\"payouts\":[{\"id\":\"p1\",\"amount\":\"1\","
                            + "\"amount\":\"1000\"}]}")))
        .isInstanceOf(MalformedRequestException.class)
        .hasMessageContaining("Duplicate field 'amount'");
  }

  @Test
  void nestingDeeperThanABatchNeedsIsRefusedBeforeItCostsAnything() {
    String deep = "[".repeat(10_000) + "]".repeat(10_000);
    assertThatThrownBy(() -> BatchRequestParser.json(utf8("{\"payouts\":" + deep + "}")))
        .isInstanceOf(MalformedRequestException.class)
        .hasMessageContaining("nesting deeper than " + BatchRequestParser.MAX_NESTING);
  }

  @Test
  void aSecondValueAfterTheBatchIsRefusedNotIgnored() {
    assertThatThrownBy(
            () -> BatchRequestParser.json(utf8("{\"batchId\":\"b1\"}{\"batchId\":\"b2\"}")))
        .isInstanceOf(MalformedRequestException.class);
  }

  @Test
  void anAmountSentAsAJsonNumberIsAViolationNotACoercion() {
    BatchRequestParser.Parsed parsed =
        BatchRequestParser.json(
            utf8("{\"batchId\":\"b1\",\"payouts\":[{\"id\":\"p1\",\"to\":\"x\",\"amount\":0.1}]}"));
    assertThat(parsed.typeViolations())
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.index()).isZero();
              assertThat(v.id()).isEqualTo("p1");
              assertThat(v.field()).isEqualTo("amount");
              assertThat(v.reason()).contains("not a JSON number");
            });
  }

  @Test
  void brokenJsonIsMalformedWithItsPosition() {
    assertThatThrownBy(() -> BatchRequestParser.json(utf8("{\"batchId\": [")))
        .isInstanceOf(MalformedRequestException.class)
        .hasMessageContaining("line 1");
    assertThatThrownBy(() -> BatchRequestParser.json(utf8("[1,2]")))
        .isInstanceOf(MalformedRequestException.class)
        .hasMessageContaining("JSON object");
  }

  @Test
  void readsCsvWithHeaderQuotesAndWindowsLineEnds() {
    BatchRequestParser.Parsed parsed =
        BatchRequestParser.csv(
            utf8(
                "id,to,amount,memo\r\np1,addr1,1.5,\"a, \"\"quoted\"\" memo\"\r\n\r\np2,addr2,2\r\n"),
            "b1",
            "BTC",
            "primary");
    assertThat(parsed.typeViolations()).isEmpty();
    assertThat(parsed.submission().batchId()).isEqualTo("b1");
    assertThat(parsed.submission().payouts())
        .containsExactly(
            new PayoutLine("p1", "addr1", "1.5", "a, \"quoted\" memo"),
            new PayoutLine("p2", "addr2", "2", null));
  }

  @Test
  void aCsvLineWithTheWrongNumberOfFieldsIsNamed() {
    BatchRequestParser.Parsed parsed =
        BatchRequestParser.csv(utf8("p1,addr1\n"), "b1", "BTC", "primary");
    assertThat(parsed.typeViolations())
        .singleElement()
        .satisfies(v -> assertThat(v.field()).isEqualTo("line 1"));
  }

  @Test
  void anUnclosedCsvQuoteIsMalformed() {
    assertThatThrownBy(() -> BatchRequestParser.csv(utf8("p1,addr,\"1\n"), "b", "BTC", "w"))
        .isInstanceOf(MalformedRequestException.class);
  }

  @Test
  void aBodyOfMillionsOfValuesIsRefusedBeforeItIsBuiltInMemory() {
    StringBuilder body = new StringBuilder("{\"payouts\":[");
    for (int i = 0; i < 1_000_000; i++) {
      body.append(i == 0 ? "1" : ",1");
    }
    body.append("]}");
    byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> BatchRequestParser.json(bytes, 10_000))
        .isInstanceOf(MalformedRequestException.class)
        .hasMessageContaining("more values than a batch of 10000 payouts holds");
  }

  @Test
  void aCsvBodyOfManyBadRowsKeepsTheFirstThousandProblemsAndCountsTheRest() {
    byte[] rows = "x\n".repeat(100_000).getBytes(StandardCharsets.UTF_8);
    BatchRequestParser.Parsed parsed = BatchRequestParser.csv(rows, "b", "ETH", "s", null, 200_000);
    assertThat(parsed.typeViolations()).hasSize(1_000);
    assertThat(parsed.typeViolations().total()).isEqualTo(100_000);
  }

  @Test
  void aCsvBodyWithMoreRowsThanTheLargestBatchIsNotReadPastIt() {
    byte[] rows = "p,rb1qx,1\n".repeat(100_000).getBytes(StandardCharsets.UTF_8);
    BatchRequestParser.Parsed parsed = BatchRequestParser.csv(rows, "b", "BTC", "s", null, 10_000);
    assertThat(parsed.submission().payouts()).isEmpty();
    assertThat(parsed.typeViolations())
        .singleElement()
        .satisfies(v -> assertThat(v.reason()).contains("more than 10000 payouts"));
  }
}
