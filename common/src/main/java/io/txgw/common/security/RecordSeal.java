package io.txgw.common.security;

import io.txgw.common.config.Secret;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The gateway's seal on a {@code sendto} record: an HMAC-SHA256 over the record's key and value by
 * a key that only gateways and consumers hold. A consumer pays only sealed records, so that whoever
 * can produce to the topic without that key (a mis-set ACL, a leaked Kafka credential) cannot
 * bypass the API's keys, rights and limits.
 *
 * <p>Several keys may be configured, each with an id: the first seals, all verify, so that keys are
 * rotated by adding the new one behind the old everywhere, then moving it to the front on the
 * gateways, then dropping the old one once no record sealed by it is unread.
 *
 * <p>A seal does not stop a copy of a sealed record from being produced again: consumers recognise
 * a payout id they already hold within their journal's window, and the Kafka ACLs that let only the
 * gateway's principal write {@code sendto} stop the copy before it is written.
 */
public final class RecordSeal {
  /** The record header that carries the seal. */
  public static final String HEADER = "txgw-seal";

  private static final String ALGORITHM = "HmacSHA256";
  private static final String VERSION = "v1";
  private static final int MIN_KEY_BYTES = 32;
  private static final Pattern KEY_ID = Pattern.compile("[A-Za-z0-9._-]{1,32}");
  private static final byte[] CONTEXT = "txgw sendto record v1".getBytes(StandardCharsets.UTF_8);

  /** What a verification found. */
  public enum Verdict {
    VALID,
    /** The record has no seal at all. */
    MISSING,
    /**
     * The seal names a key this process was told is coming ({@code id=} with no key) and does not
     * hold yet: a gateway is ahead in a key rotation.
     */
    EXPECTED_KEY,
    /** The seal names a key this process neither holds nor expects. */
    UNKNOWN_KEY,
    /** The seal is not the one the named key gives this record: forged or altered. */
    MISMATCH,
    /** The header is not a seal. */
    MALFORMED
  }

  private final String sealingKeyId;
  private final Map<String, Mac> macs;
  private final java.util.Set<String> expected;

  private RecordSeal(String sealingKeyId, Map<String, Mac> macs, java.util.Set<String> expected) {
    this.sealingKeyId = sealingKeyId;
    this.macs = macs;
    this.expected = expected;
  }

  /**
   * Parses {@code id=base64key[,id2=base64key2...]}; the first key seals. An entry {@code id=}
   * without a key announces a key a gateway may seal with before this process holds it: records
   * sealed by it wait instead of being moved aside.
   *
   * @throws IllegalArgumentException naming the bad entry by position, never by its key
   */
  public static RecordSeal parse(Secret text) {
    Map<String, Mac> macs = new LinkedHashMap<>();
    java.util.Set<String> expected = new java.util.HashSet<>();
    String first = null;
    String[] entries = text.reveal().split("[,\\n]");
    for (int i = 0; i < entries.length; i++) {
      String entry = entries[i].trim();
      if (entry.isEmpty()) {
        continue;
      }
      int eq = entry.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("entry " + (i + 1) + " is not id=base64key");
      }
      String id = entry.substring(0, eq).trim();
      if (!KEY_ID.matcher(id).matches()) {
        throw new IllegalArgumentException(
            "entry " + (i + 1) + ": a key id is 1-32 of A-Z a-z 0-9 . _ -");
      }
      if (entry.substring(eq + 1).isBlank()) {
        expected.add(id);
        continue;
      }
      byte[] key;
      try {
        key = Base64.getDecoder().decode(entry.substring(eq + 1).trim());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("key " + id + " is not base64");
      }
      if (key.length < MIN_KEY_BYTES) {
        throw new IllegalArgumentException(
            "key " + id + " has " + key.length + " bytes; at least " + MIN_KEY_BYTES + " needed");
      }
      if (macs.put(id, mac(key)) != null) {
        throw new IllegalArgumentException("key id " + id + " appears twice");
      }
      if (first == null) {
        first = id;
      }
    }
    if (first == null) {
      throw new IllegalArgumentException("no key given");
    }
    expected.removeAll(macs.keySet());
    return new RecordSeal(first, Map.copyOf(macs), java.util.Set.copyOf(expected));
  }

  /** A fresh random key in the form {@link #parse} takes, for a local stack and tests. */
  public static String generate(String id) {
    byte[] key = new byte[MIN_KEY_BYTES];
    new java.security.SecureRandom().nextBytes(key);
    return id + "=" + Base64.getEncoder().encodeToString(key);
  }

  /** The header value sealing this record. */
  public byte[] seal(String key, byte[] value) {
    String mac =
        Base64.getUrlEncoder().withoutPadding().encodeToString(mac(sealingKeyId, key, value));
    return (VERSION + ":" + sealingKeyId + ":" + mac).getBytes(StandardCharsets.UTF_8);
  }

  /** Whether {@code header} is this record's seal by a key this process holds. */
  public Verdict verify(String key, byte[] value, byte[] header) {
    if (header == null) {
      return Verdict.MISSING;
    }
    String[] parts = new String(header, StandardCharsets.UTF_8).split(":", -1);
    if (parts.length != 3 || !parts[0].equals(VERSION)) {
      return Verdict.MALFORMED;
    }
    if (!macs.containsKey(parts[1])) {
      return expected.contains(parts[1]) ? Verdict.EXPECTED_KEY : Verdict.UNKNOWN_KEY;
    }
    byte[] given;
    try {
      given = Base64.getUrlDecoder().decode(parts[2]);
    } catch (IllegalArgumentException e) {
      return Verdict.MALFORMED;
    }
    // Compared in constant time: the answer must not tell a forger how many bytes were right.
    return MessageDigest.isEqual(given, mac(parts[1], key, value))
        ? Verdict.VALID
        : Verdict.MISMATCH;
  }

  private byte[] mac(String keyId, String key, byte[] value) {
    Mac mac;
    try {
      // A Mac is not thread-safe; a clone of the initialised one costs less than a new init.
      mac = (Mac) macs.get(keyId).clone();
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException("the JDK's HmacSHA256 is cloneable", e);
    }
    byte[] keyBytes = key == null ? new byte[0] : key.getBytes(StandardCharsets.UTF_8);
    byte[] valueBytes = value == null ? new byte[0] : value;
    mac.update(CONTEXT);
    // Each part length-prefixed, so that no two (key, value) pairs share the bytes that are signed.
    mac.update(ByteBuffer.allocate(4).putInt(keyBytes.length).array());
    mac.update(keyBytes);
    mac.update(ByteBuffer.allocate(4).putInt(value == null ? -1 : valueBytes.length).array());
    mac.update(valueBytes);
    return mac.doFinal();
  }

  private static Mac mac(byte[] key) {
    try {
      Mac mac = Mac.getInstance(ALGORITHM);
      mac.init(new SecretKeySpec(key, ALGORITHM));
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is required by every Java runtime", e);
    }
  }

  @Override
  public String toString() {
    return "RecordSeal[sealing key " + sealingKeyId + ", " + macs.size() + " key(s)]";
  }
}
