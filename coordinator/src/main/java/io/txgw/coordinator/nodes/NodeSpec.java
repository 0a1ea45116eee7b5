package io.txgw.coordinator.nodes;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.txgw.common.model.Chain;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * One node endpoint in the registry: where it is, how much it can bear, and how to find its
 * credentials. The secret itself never enters ZooKeeper; {@code credentials} names where each
 * consumer reads it: {@code env:NAME} or {@code file:/path}.
 *
 * @param walletUrl the node's wallet port, for Bitcoin nodes that sign (bcoin); null otherwise
 * @param maxRequestsPerSecond what the node can bear from all consumers together
 * @param maxInFlight the most calls the node may be working on at once, from all consumers
 * @param weight preference among healthy nodes of the chain; higher is used first
 * @param drained true to take the node out of rotation without forgetting it
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record NodeSpec(
    Chain chain,
    String name,
    String url,
    String walletUrl,
    String user,
    String credentials,
    double maxRequestsPerSecond,
    int maxInFlight,
    int weight,
    boolean drained) {

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  private static final Pattern CREDENTIALS =
      Pattern.compile("(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)");

  public NodeSpec {
    List<String> problems =
        problems(
            chain, name, url, walletUrl, credentials, maxRequestsPerSecond, maxInFlight, weight);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(String.join("; ", problems));
    }
  }

  public NodeSpec withDrained(boolean drained) {
    return new NodeSpec(
        chain,
        name,
        url,
        walletUrl,
        user,
        credentials,
        maxRequestsPerSecond,
        maxInFlight,
        weight,
        drained);
  }

  /** Its URLs as scheme://host:port only: a path can hold a key. */
  @Override
  public String toString() {
    return "NodeSpec["
        + chain
        + "/"
        + name
        + " "
        + NodeUrls.shown(url)
        + (walletUrl == null ? "" : " wallet " + NodeUrls.shown(walletUrl))
        + (credentials == null ? "" : " credentials " + credentials)
        + (drained ? " drained" : "")
        + "]";
  }

  private static List<String> problems(
      Chain chain,
      String name,
      String url,
      String walletUrl,
      String credentials,
      double rps,
      int inFlight,
      int weight) {
    List<String> problems = new ArrayList<>();
    if (chain == null) {
      problems.add("chain is required (BTC or ETH)");
    }
    if (name == null || !NAME.matcher(name).matches()) {
      problems.add("name must be 1-64 letters, digits, '.', '_' or '-'");
    }
    checkUrl("url", url, true, problems);
    checkUrl("walletUrl", walletUrl, false, problems);
    if (credentials != null && !CREDENTIALS.matcher(credentials).matches()) {
      problems.add("credentials must be env:VARIABLE or file:/path (never the secret itself)");
    }
    if (!(rps > 0) || Double.isInfinite(rps)) {
      problems.add("maxRequestsPerSecond must be a positive number");
    }
    if (inFlight < 1) {
      problems.add("maxInFlight must be at least 1");
    }
    if (weight < 1 || weight > 1_000) {
      problems.add("weight must be between 1 and 1000");
    }
    return problems;
  }

  private static void checkUrl(String field, String url, boolean required, List<String> problems) {
    if (url == null || url.isEmpty()) {
      if (required) {
        problems.add(field + " is required");
      }
      return;
    }
    try {
      URI uri = new URI(url);
      if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())
          || uri.getHost() == null) {
        problems.add(field + " must be an http(s) URL with a host");
      } else if (uri.getUserInfo() != null) {
        problems.add(field + " must not carry credentials; use credentials=env:... or file:...");
      }
    } catch (URISyntaxException e) {
      // The exception's message quotes the URL, and its path can hold a key.
      problems.add(field + " is not a URL: " + e.getReason() + " at index " + e.getIndex());
    }
  }
}
