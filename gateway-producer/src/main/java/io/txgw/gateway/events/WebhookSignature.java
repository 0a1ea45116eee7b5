package io.txgw.gateway.events;

import io.txgw.common.config.Secret;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The {@value #HEADER} header of a delivery: {@code t=<unix seconds>,v1=<hex>}, where the hex is
 * HMAC-SHA256, keyed by the client's secret, of the timestamp, a dot and the body's bytes. One
 * {@code v1} per secret in force. The timestamp lets a receiver refuse an old delivery replayed.
 */
public final class WebhookSignature {
  public static final String HEADER = "Txgw-Signature";

  private WebhookSignature() {}

  public static String header(long unixSeconds, byte[] body, List<Secret> secrets) {
    StringBuilder out = new StringBuilder("t=").append(unixSeconds);
    for (Secret secret : secrets) {
      out.append(",v1=").append(HexFormat.of().formatHex(hmac(secret, unixSeconds, body)));
    }
    return out.toString();
  }

  static byte[] hmac(Secret secret, long unixSeconds, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.reveal().getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      mac.update((unixSeconds + ".").getBytes(StandardCharsets.US_ASCII));
      return mac.doFinal(body);
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      // Every Java runtime has HmacSHA256, and any non-empty key is valid for it.
      throw new IllegalStateException(e);
    }
  }
}
