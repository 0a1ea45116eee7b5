package io.txgw.common.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txgw.common.config.Secret;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RecordSealTest {
  private final RecordSeal gateway = RecordSeal.parse(new Secret(RecordSeal.generate("new")));
  private final byte[] value = "{\"id\":\"p1\",\"amount\":\"1\"}".getBytes(StandardCharsets.UTF_8);

  @Test
  void aRecordSealedByTheGatewayVerifies() {
    assertThat(gateway.verify("ETH:0xabc", value, gateway.seal("ETH:0xabc", value)))
        .isEqualTo(RecordSeal.Verdict.VALID);
  }

  @Test
  void anAlteredValueOrKeyOrAnotherKeysSealDoesNotVerify() {
    byte[] seal = gateway.seal("ETH:0xabc", value);
    byte[] altered = "{\"id\":\"p1\",\"amount\":\"9\"}".getBytes(StandardCharsets.UTF_8);
    assertThat(gateway.verify("ETH:0xabc", altered, seal)).isEqualTo(RecordSeal.Verdict.MISMATCH);
    assertThat(gateway.verify("ETH:0xdef", value, seal)).isEqualTo(RecordSeal.Verdict.MISMATCH);
    RecordSeal forger = RecordSeal.parse(new Secret(RecordSeal.generate("new")));
    assertThat(gateway.verify("ETH:0xabc", value, forger.seal("ETH:0xabc", value)))
        .isEqualTo(RecordSeal.Verdict.MISMATCH);
    assertThat(gateway.verify("ETH:0xabc", value, null)).isEqualTo(RecordSeal.Verdict.MISSING);
    assertThat(gateway.verify("ETH:0xabc", value, "v1:other:AAAA".getBytes()))
        .isEqualTo(RecordSeal.Verdict.UNKNOWN_KEY);
    assertThat(gateway.verify("ETH:0xabc", value, "garbage".getBytes()))
        .isEqualTo(RecordSeal.Verdict.MALFORMED);
  }

  @Test
  void duringARotationTheOldKeysSealsStillVerifyWhileTheNewOneSeals() {
    String old = RecordSeal.generate("old");
    String fresh = RecordSeal.generate("new");
    RecordSeal before = RecordSeal.parse(new Secret(old));
    RecordSeal during = RecordSeal.parse(new Secret(fresh + "," + old));
    assertThat(during.verify("k", value, before.seal("k", value)))
        .isEqualTo(RecordSeal.Verdict.VALID);
    assertThat(new String(during.seal("k", value), StandardCharsets.UTF_8)).startsWith("v1:new:");
  }

  @Test
  void aKeyAnnouncedButNotHeldIsToldApartFromAStrangersKey() {
    RecordSeal consumer = RecordSeal.parse(new Secret(RecordSeal.generate("old") + ",new="));
    RecordSeal gatewayAhead = RecordSeal.parse(new Secret(RecordSeal.generate("new")));
    RecordSeal stranger = RecordSeal.parse(new Secret(RecordSeal.generate("evil")));
    assertThat(consumer.verify("k", value, gatewayAhead.seal("k", value)))
        .isEqualTo(RecordSeal.Verdict.EXPECTED_KEY);
    assertThat(consumer.verify("k", value, stranger.seal("k", value)))
        .isEqualTo(RecordSeal.Verdict.UNKNOWN_KEY);
  }

  @Test
  void aShortKeyIsRefusedWithoutShowingIt() {
    assertThatThrownBy(() -> RecordSeal.parse(new Secret("k=c2VjcmV0")))
        .hasMessageContaining("at least 32")
        .hasMessageNotContaining("c2VjcmV0");
  }
}
