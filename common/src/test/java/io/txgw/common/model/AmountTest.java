package io.txgw.common.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txgw.common.json.Json;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;

class AmountTest {
  @Test
  void keepsEveryDigitOfAnEighteenDecimalAmount() {
    Amount amount = Amount.parse("1.000000000000000001");
    assertThat(amount.toUnits(18)).isEqualTo(new BigInteger("1000000000000000001"));
    assertThat(amount.toString()).isEqualTo("1.000000000000000001");
  }

  @Test
  void equalAmountsWrittenWithDifferentTrailingZerosAreEqual() {
    assertThat(Amount.parse("0.10")).isEqualTo(Amount.parse("0.1"));
    assertThat(Amount.parse("100").toString()).isEqualTo("100");
  }

  @Test
  void refusesSignsExponentsAndSeparators() {
    for (String bad :
        new String[] {"-1", "+1", "1e-8", "1,5", " 1", "1.", ".5", "", "0x10", "NaN"}) {
      assertThatThrownBy(() -> Amount.parse(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void refusesToConvertAnAmountFinerThanTheUnit() {
    assertThatThrownBy(() -> Amount.parse("0.000000001").toUnits(8))
        .isInstanceOf(ArithmeticException.class);
  }

  @Test
  void travelsThroughJsonAsAString() throws Exception {
    String json = Json.mapper().writeValueAsString(Amount.parse("0.00012345"));
    assertThat(json).isEqualTo("\"0.00012345\"");
    assertThat(Json.mapper().readValue(json, Amount.class)).isEqualTo(Amount.parse("0.00012345"));
  }

  @Test
  void fromBaseUnitsGivesTheCoinAmount() {
    assertThat(Amount.ofUnits(BigInteger.valueOf(12345), 8).toString()).isEqualTo("0.00012345");
  }
}
