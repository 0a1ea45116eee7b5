package io.txgw.gateway.events;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.config.Secret;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class WebhookSignatureTest {
  private static final Secret SECRET = new Secret("a-webhook-secret-of-thirty-two-chars!");
  private static final byte[] BODY = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);

  @Test
  void signsTheTimestampADotAndTheBodyWithHmacSha256() {
    // openssl dgst -sha256 -hmac 'a-webhook-secret-of-thirty-two-chars!' <<< '1700000000.{"a":1}'
    // (without the line break)
    assertThat(WebhookSignature.header(1_700_000_000L, BODY, List.of(SECRET)))
        .isEqualTo(
            "t=1700000000,v1=6da9374c4a6e278f335188b43653b4c4e1381f85d8cbd9fb59fa2d3cfeb1c267");
  }

  @Test
  void whileASecretIsRotatedEveryDeliveryCarriesOneSignaturePerSecret() {
    Secret next = new Secret("the-next-webhook-secret-32-chars-long");
    String header = WebhookSignature.header(1_700_000_000L, BODY, List.of(SECRET, next));
    assertThat(header.split(",")).hasSize(3);
    assertThat(header)
        .startsWith(
            "t=1700000000,v1=6da9374c4a6e278f335188b43653b4c4e1381f85d8cbd9fb59fa2d3cfeb1c267,v1=");
  }

  @Test
  void anotherTimestampOrBodyGivesAnotherSignature() {
    String signed = WebhookSignature.header(1_700_000_000L, BODY, List.of(SECRET));
    String later = WebhookSignature.header(1_700_000_001L, BODY, List.of(SECRET));
    String changed =
        WebhookSignature.header(
            1_700_000_000L, "{\"a\":2}".getBytes(StandardCharsets.UTF_8), List.of(SECRET));
    assertThat(later.substring(later.indexOf("v1=")))
        .isNotEqualTo(signed.substring(signed.indexOf("v1=")));
    assertThat(changed).isNotEqualTo(signed);
  }
}
