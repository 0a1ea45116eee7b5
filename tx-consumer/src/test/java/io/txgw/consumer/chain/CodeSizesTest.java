package io.txgw.consumer.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CodeSizesTest {
  @Test
  void theCreationCodeAsksEachAddressInTurnAndReturnsOneWordEach() {
    String a = "0x" + "ab".repeat(20);
    String b = "0x" + "CD".repeat(20);
    assertThat(CodeSizes.program(List.of(a, b)))
        .isEqualTo(
            "0x73"
                + "ab".repeat(20)
                + "3b610000"
                + "52"
                + "73"
                + "cd".repeat(20)
                + "3b610020"
                + "52"
                + "610040"
                + "6000f3");
  }

  @Test
  void theMostAddressesPerCallStayUnderTheCreationLimits() {
    List<String> many = new ArrayList<>();
    for (int i = 0; i < CodeSizes.MAX_PER_CALL; i++) {
      many.add(String.format("0x%040x", i + 1));
    }
    String program = CodeSizes.program(many);
    // EIP-3860: creation code of at most 49,152 bytes; EIP-170: at most 24,576 bytes returned.
    assertThat((program.length() - 2) / 2).isLessThanOrEqualTo(49_152);
    assertThat(32 * CodeSizes.MAX_PER_CALL).isLessThanOrEqualTo(24_576);
  }

  @Test
  void anythingButAnAddressIsNeverWrittenIntoTheCode() {
    assertThatThrownBy(() -> CodeSizes.program(List.of("0x1234")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void anAnswerIsReadAsOneSizePerAddressOrNotAtAll() {
    String two = "0x" + "00".repeat(31) + "05" + "00".repeat(30) + "0100";
    assertThat(CodeSizes.sizes(two, 2))
        .containsExactly(BigInteger.valueOf(5), BigInteger.valueOf(256));
    assertThat(CodeSizes.sizes(two, 3)).isNull();
    assertThat(CodeSizes.sizes("0x", 1)).isNull();
    assertThat(CodeSizes.sizes("0x" + "zz".repeat(32), 1)).isNull();
  }
}
