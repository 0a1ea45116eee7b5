package io.txgw.common.address;

import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/** Base58Check as Bitcoin uses it: payload plus the first 4 bytes of a double SHA-256. */
final class Base58 {
  private static final String ALPHABET =
      "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  private static final BigInteger BASE = BigInteger.valueOf(58);

  private Base58() {}

  /** Decodes and verifies the checksum; returns the payload, or null if either fails. */
  static byte[] decodeChecked(String text) {
    byte[] raw = decode(text);
    if (raw == null || raw.length < 5) {
      return null;
    }
    byte[] payload = Arrays.copyOfRange(raw, 0, raw.length - 4);
    byte[] checksum = Arrays.copyOfRange(raw, raw.length - 4, raw.length);
    byte[] expected = Arrays.copyOf(doubleSha256(payload), 4);
    return MessageDigest.isEqual(checksum, expected) ? payload : null;
  }

  static String encodeChecked(byte[] payload) {
    byte[] raw = Arrays.copyOf(payload, payload.length + 4);
    System.arraycopy(doubleSha256(payload), 0, raw, payload.length, 4);
    return encode(raw);
  }

  static String encode(byte[] bytes) {
    StringBuilder out = new StringBuilder();
    BigInteger n = new BigInteger(1, bytes);
    while (n.signum() > 0) {
      BigInteger[] qr = n.divideAndRemainder(BASE);
      out.append(ALPHABET.charAt(qr[1].intValue()));
      n = qr[0];
    }
    for (int i = 0; i < bytes.length && bytes[i] == 0; i++) {
      out.append('1');
    }
    return out.reverse().toString();
  }

  private static byte[] decode(String text) {
    if (text.isEmpty() || text.length() > 128) {
      return null;
    }
    BigInteger n = BigInteger.ZERO;
    for (int i = 0; i < text.length(); i++) {
      int digit = ALPHABET.indexOf(text.charAt(i));
      if (digit < 0) {
        return null;
      }
      n = n.multiply(BASE).add(BigInteger.valueOf(digit));
    }
    int leadingZeros = 0;
    while (leadingZeros < text.length() && text.charAt(leadingZeros) == '1') {
      leadingZeros++;
    }
    byte[] body = n.toByteArray();
    // BigInteger adds a sign byte when the top bit is set; it is not part of the data.
    int skip = body.length > 1 && body[0] == 0 ? 1 : 0;
    if (n.signum() == 0) {
      skip = body.length;
    }
    byte[] out = new byte[leadingZeros + body.length - skip];
    System.arraycopy(body, skip, out, leadingZeros, body.length - skip);
    return out;
  }

  static byte[] doubleSha256(byte[] data) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      return sha.digest(sha.digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java runtime", e);
    }
  }
}
