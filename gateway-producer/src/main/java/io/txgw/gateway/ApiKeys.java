package io.txgw.gateway;

import io.txgw.common.config.Secret;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Maps API keys to the client they belong to and what they may do. Only SHA-256 digests of the keys
 * are kept, so that a heap dump or a log of this object reveals no key, and lookups compare digests
 * rather than the keys themselves.
 *
 * <p>Entries are {@code client[/person][:scope+scope]=key}, separated by commas or lines. Scopes:
 * {@code read} (a batch's status, its events, the dashboard), {@code pay} (post batches), {@code
 * approve} (approve or reject another person's batch). A key without scopes reads and pays: a
 * separate key to approve is a deliberate act.
 *
 * <p>{@code person} names the one human (or system) who holds the key. A batch that needs approval
 * is approved only by a key of another person of the same client, so a key that may approve must
 * name its person, and so must the key that posts such a batch; one person's keys all name the same
 * person. An unnamed key is nobody's for approvals.
 */
public final class ApiKeys {
  /** What a key may do. */
  public enum Scope {
    READ,
    PAY,
    APPROVE
  }

  /**
   * Who is calling.
   *
   * @param keyId the first 12 hex digits of the key's digest: names the key in logs and the audit
   *     trail without revealing it
   */
  public record Caller(String client, String person, Set<Scope> scopes, String keyId) {
    public Caller {
      scopes = Set.copyOf(scopes);
    }

    /** A key that names no person. */
    public Caller(String client, Set<Scope> scopes, String keyId) {
      this(client, null, scopes, keyId);
    }

    public Optional<String> personName() {
      return Optional.ofNullable(person);
    }

    public boolean may(Scope scope) {
      return scopes.contains(scope);
    }
  }

  private final Map<String, Caller> callerByKeyDigest;

  private ApiKeys(Map<String, Caller> callerByKeyDigest) {
    this.callerByKeyDigest = Map.copyOf(callerByKeyDigest);
  }

  /**
   * Parses the entries.
   *
   * @throws IllegalArgumentException naming the bad entry by position, never by its key
   */
  public static ApiKeys parse(Secret text) {
    Map<String, Caller> byDigest = new HashMap<>();
    String[] entries = text.reveal().split("[,\\n]");
    int position = 0;
    for (String raw : entries) {
      String entry = raw.trim();
      if (entry.isEmpty() || entry.startsWith("#")) {
        continue;
      }
      position++;
      int eq = entry.indexOf('=');
      if (eq <= 0 || eq == entry.length() - 1) {
        throw new IllegalArgumentException("entry " + position + " is not client=key");
      }
      String name = entry.substring(0, eq).trim();
      String key = entry.substring(eq + 1).trim();
      int colon = name.indexOf(':');
      String holder = colon < 0 ? name : name.substring(0, colon).trim();
      int slash = holder.indexOf('/');
      String client = slash < 0 ? holder : holder.substring(0, slash).trim();
      // One person whatever the letter case their name is written in.
      String person =
          slash < 0 ? null : holder.substring(slash + 1).trim().toLowerCase(Locale.ROOT);
      if (person != null && !PERSON.matcher(person).matches()) {
        throw new IllegalArgumentException(
            "entry " + position + ": a person is 1 to 64 letters, digits, '.', '_', '-' or '@'");
      }
      Set<Scope> scopes =
          colon < 0
              ? EnumSet.of(Scope.READ, Scope.PAY)
              : scopes(name.substring(colon + 1), position);
      if (client.isEmpty()) {
        throw new IllegalArgumentException("entry " + position + " names no client");
      }
      if (person == null && scopes.contains(Scope.APPROVE)) {
        // Approving another person's batch means nothing when nobody knows whose key this is.
        throw new IllegalArgumentException(
            "entry " + position + ": a key that may approve must name its person (client/person)");
      }
      if (key.length() < 16) {
        throw new IllegalArgumentException(
            "the key of client " + client + " is shorter than 16 characters");
      }
      String digest = digest(key);
      if (byDigest.put(digest, new Caller(client, person, scopes, digest.substring(0, 12)))
          != null) {
        throw new IllegalArgumentException("two entries share one key");
      }
    }
    if (byDigest.isEmpty()) {
      throw new IllegalArgumentException("no key given");
    }
    return new ApiKeys(byDigest);
  }

  private static final java.util.regex.Pattern PERSON =
      java.util.regex.Pattern.compile("[A-Za-z0-9._@-]{1,64}");

  private static Set<Scope> scopes(String text, int position) {
    Set<Scope> scopes = EnumSet.noneOf(Scope.class);
    for (String s : text.split("\\+")) {
      try {
        scopes.add(Scope.valueOf(s.trim().toUpperCase(Locale.ROOT)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "entry " + position + ": scope '" + s.trim() + "' is not read, pay or approve");
      }
    }
    return scopes;
  }

  /** The caller a key belongs to, if any. */
  public Optional<Caller> callerFor(String key) {
    if (key == null || key.isEmpty()) {
      return Optional.empty();
    }
    return Optional.ofNullable(callerByKeyDigest.get(digest(key)));
  }

  /** The client a key belongs to, if any. */
  public Optional<String> clientFor(String key) {
    return callerFor(key).map(Caller::client);
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
    return "ApiKeys[" + callerByKeyDigest.size() + " keys]";
  }
}
