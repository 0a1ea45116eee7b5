package io.txgw.coordinator.nodes;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * What may be shown of a node URL, and whether it stays on this machine. A URL's path, query and
 * user info can hold a key (Infura-style {@code https://host/v3/KEY}), so logs, metrics, the
 * dashboard and the command line show {@code scheme://host:port} only.
 */
public final class NodeUrls {
  private NodeUrls() {}

  /** {@code scheme://host:port} of {@code url}, or a placeholder when it cannot be parsed. */
  public static String shown(String url) {
    if (url == null) {
      return null;
    }
    try {
      URI uri = new URI(url);
      if (uri.getScheme() == null || uri.getHost() == null) {
        return "<unparsable url>";
      }
      int port = uri.getPort();
      if (port < 0) {
        port = "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
      }
      String host = uri.getHost();
      return uri.getScheme().toLowerCase(Locale.ROOT) + "://" + host + ":" + port;
    } catch (URISyntaxException e) {
      return "<unparsable url>";
    }
  }

  /** The same node with its URLs as {@link #shown(String)}, for listings. */
  public static NodeSpec shown(NodeSpec spec) {
    return new NodeSpec(
        spec.chain(),
        spec.name(),
        shown(spec.url()),
        shown(spec.walletUrl()),
        spec.user(),
        spec.credentials(),
        spec.maxRequestsPerSecond(),
        spec.maxInFlight(),
        spec.weight(),
        spec.drained());
  }

  /**
   * True for {@code localhost}, 127.0.0.0/8 and ::1, written as such: a name is not resolved, so a
   * DNS answer cannot make a remote host look local.
   */
  public static boolean isLoopback(String host) {
    if (host == null) {
      return false;
    }
    String h = host.toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    if (h.equals("localhost")) {
      return true;
    }
    if (h.matches("\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}")) {
      // Short forms (127.1) are read differently by different stacks: only a full quad counts.
      for (String octet : h.split("\\.")) {
        if (Integer.parseInt(octet) > 255) {
          return false;
        }
      }
      return h.startsWith("127.");
    }
    if (!h.contains(":") || !h.matches("[0-9a-f:.]+")) {
      return false;
    }
    try {
      // An IPv6 literal, checked above: getByName parses it without a lookup.
      return InetAddress.getByName(h).isLoopbackAddress();
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }
}
