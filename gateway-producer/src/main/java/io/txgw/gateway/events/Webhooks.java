package io.txgw.gateway.events;

import io.txgw.common.config.Secret;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The webhooks the gateway calls: one URL per client, each with one or two secrets (two while a
 * secret is being rotated: every delivery is then signed with both).
 *
 * @param timeout one attempt's whole time: connect, send, answer
 * @param maxBackoff the longest wait between two attempts of one delivery
 */
public record Webhooks(Map<String, Target> targets, Duration timeout, Duration maxBackoff) {
  /** Shorter secrets are refused: an HMAC key should hold at least 256 bits of chance. */
  public static final int MIN_SECRET_CHARS = 32;

  /** Secrets one client may have at once. */
  public static final int MAX_SECRETS = 2;

  private static final Set<String> LOOPBACK = Set.of("127.0.0.1", "localhost", "[::1]", "::1");

  public Webhooks {
    targets = Map.copyOf(targets);
  }

  /** One client's webhook. */
  public record Target(String client, URI url, List<Secret> secrets) {
    public Target {
      secrets = List.copyOf(secrets);
    }

    /** The URL without its path or query, which may hold a token: what logs and records show. */
    public String origin() {
      return url.getScheme()
          + "://"
          + url.getHost()
          + (url.getPort() < 0 ? "" : ":" + url.getPort());
    }
  }

  public static Webhooks none() {
    return new Webhooks(Map.of(), Duration.ofSeconds(10), Duration.ofMinutes(5));
  }

  public boolean isEmpty() {
    return targets.isEmpty();
  }

  /**
   * Reads {@code client=url} pairs and {@code client=secret} pairs, both separated by commas or
   * line breaks.
   *
   * @param problems where each problem found is added, naming the client; none of them names a
   *     secret
   */
  public static Webhooks parse(
      String urls, Secret secrets, Duration timeout, Duration maxBackoff, List<String> problems) {
    Map<String, URI> byClient = new LinkedHashMap<>();
    for (String[] pair : pairs(urls == null ? "" : urls, "TXGW_WEBHOOKS", problems)) {
      String client = pair[0];
      if (byClient.containsKey(client)) {
        problems.add("TXGW_WEBHOOKS: client " + client + " has more than one URL");
        continue;
      }
      URI url = url(client, pair[1], problems);
      if (url != null) {
        byClient.put(client, url);
      }
    }
    Map<String, List<Secret>> keys = new LinkedHashMap<>();
    String secretText = secrets == null ? "" : secrets.reveal();
    for (String[] pair : pairs(secretText, "TXGW_WEBHOOK_SECRETS", problems)) {
      String client = pair[0];
      if (pair[1].length() < MIN_SECRET_CHARS) {
        problems.add(
            "TXGW_WEBHOOK_SECRETS: the secret of client "
                + client
                + " is shorter than "
                + MIN_SECRET_CHARS
                + " characters");
        continue;
      }
      keys.computeIfAbsent(client, c -> new ArrayList<>()).add(new Secret(pair[1]));
    }
    Map<String, Target> targets = new LinkedHashMap<>();
    byClient.forEach(
        (client, url) -> {
          List<Secret> mine = keys.getOrDefault(client, List.of());
          if (mine.isEmpty()) {
            problems.add("TXGW_WEBHOOK_SECRETS: client " + client + " has a webhook but no secret");
          } else if (mine.size() > MAX_SECRETS) {
            problems.add(
                "TXGW_WEBHOOK_SECRETS: client "
                    + client
                    + " has more than "
                    + MAX_SECRETS
                    + " secrets");
          } else {
            targets.put(client, new Target(client, url, mine));
          }
        });
    for (String client : keys.keySet()) {
      if (!byClient.containsKey(client)) {
        problems.add("TXGW_WEBHOOK_SECRETS: client " + client + " has a secret but no webhook");
      }
    }
    return new Webhooks(targets, timeout, maxBackoff);
  }

  private static List<String[]> pairs(String text, String setting, List<String> problems) {
    List<String[]> out = new ArrayList<>();
    for (String part : text.split("[,\\n]")) {
      String item = part.strip();
      if (item.isEmpty() || item.startsWith("#")) {
        continue;
      }
      int eq = item.indexOf('=');
      if (eq <= 0 || eq == item.length() - 1) {
        // The item may be a secret: it is not repeated.
        problems.add(setting + ": an item is not client=value");
        continue;
      }
      String client = item.substring(0, eq).strip();
      if (!client.matches("[A-Za-z0-9._-]{1,64}")) {
        problems.add(setting + ": a client name is not 1-64 letters, digits, '.', '_' or '-'");
        continue;
      }
      out.add(new String[] {client, item.substring(eq + 1).strip()});
    }
    return out;
  }

  private static URI url(String client, String text, List<String> problems) {
    URI url;
    try {
      url = new URI(text);
    } catch (URISyntaxException e) {
      problems.add("TXGW_WEBHOOKS: the URL of client " + client + " is not a URL");
      return null;
    }
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("https") && !scheme.equals("http") || url.getHost() == null) {
      problems.add("TXGW_WEBHOOKS: the URL of client " + client + " is not an http(s) URL");
      return null;
    }
    if (okhttp3.HttpUrl.parse(text) == null || url.getPort() == 0 || url.getPort() > 65535) {
      problems.add("TXGW_WEBHOOKS: the URL of client " + client + " is not one HTTP can call");
      return null;
    }
    if (url.getUserInfo() != null) {
      problems.add("TXGW_WEBHOOKS: the URL of client " + client + " holds a user name");
      return null;
    }
    if (scheme.equals("http") && !LOOPBACK.contains(url.getHost().toLowerCase(Locale.ROOT))) {
      // The body tells a client who was paid what; outside this machine it travels over TLS.
      problems.add(
          "TXGW_WEBHOOKS: the URL of client " + client + " is plain http to another machine");
      return null;
    }
    return url;
  }
}
