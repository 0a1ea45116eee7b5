package io.txgw.gateway;

import io.txgw.common.config.Secret;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

/**
 * Maps API keys to client ids. Only SHA-256 digests of the keys are kept, so that a heap dump or a
 * log of this object reveals no key, and lookups compare digests rather than the keys themselves.
 */
public final class ApiKeys {
  private final Map<String, String> clientByKeyDigest;

  private ApiKeys(Map<String, String> clientByKeyDigest) {
    this.clientByKeyDigest = Map.copyOf(clientByKeyDigest);
  }

  /**
   * Parses {@code client=key,client2=key2}.
   *
   * @throws IllegalArgumentException naming the bad entry by position, never by its key
   */
  public static ApiKeys parse(Secret text) {
    Map<String, String> byDigest = new HashMap<>();
    String[] entries = text.reveal().split(",");
    for (int i = 0; i < entries.length; i++) {
      String entry = entries[i].trim();
      int eq = entry.indexOf('=');
      if (eq <= 0 || eq == entry.length() - 1) {
        throw new IllegalArgumentException("entry " + (i + 1) + " is not client=key");
      }
      String client = entry.substring(0, eq).trim();
      String key = entry.substring(eq + 1).trim();
      if (key.length() < 16) {
        throw new IllegalArgumentException(
            "the key of client " + client + " is shorter than 16 characters");
      }
      if (byDigest.put(digest(key), client) != null) {
        throw new IllegalArgumentException("two clients share one key");
      }
    }
    return new ApiKeys(byDigest);
  }

  /** The client a key belongs to, if any. */
  public Optional<String> clientFor(String key) {
    if (key == null || key.isEmpty()) {
      return Optional.empty();
    }
    return Optional.ofNullable(clientByKeyDigest.get(digest(key)));
  }

  private static String digest(String key) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java runtime", e);
    }
  }

  @Override
  public String toString() {
    return "ApiKeys[" + clientByKeyDigest.size() + " clients]";
  }
}
