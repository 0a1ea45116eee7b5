package io.txgw.deploy.infra;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** PEM text of DER bytes, for the certificates and keys the local brokers and gateways take. */
public final class Pem {
  private Pem() {}

  /** {@code type} is the PEM label: {@code CERTIFICATE}, {@code PRIVATE KEY}. */
  public static String of(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }
}
