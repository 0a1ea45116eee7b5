package io.txgw.coordinator.nodes;

import io.txgw.common.config.ConfigReader;
import io.txgw.common.config.Setting;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a registered node may ask of a consumer: which environment variables and files its
 * credentials reference may name, and whether its URLs may be plain http. A registry entry decides
 * where a consumer sends a secret, so both are limited to what the consumer's operator set aside
 * for nodes. The command line checks the same rules before writing an entry; the consumer checks
 * them again, resolving symlinks, before it reads anything.
 *
 * @param envPrefix an {@code env:NAME} reference must name a variable starting with it
 * @param credentialsDir {@code file:PATH} references must lie under it; null refuses them all
 * @param allowPlainHttp true lets a node off loopback be called over http
 */
public record NodeEndpointRules(String envPrefix, Path credentialsDir, boolean allowPlainHttp) {

  public static final Setting<String> ENV_PREFIX =
      new Setting<>(
          "TXGW_CREDENTIALS_ENV_PREFIX",
          "a node's env:NAME credentials may only name variables starting with this",
          "TXGW_NODE_",
          s -> {
            if (!s.matches("[A-Za-z_][A-Za-z0-9_]{2,}")) {
              throw new IllegalArgumentException(
                  "must be at least 3 letters, digits or '_': an empty prefix opens every"
                      + " variable");
            }
            return s;
          },
          false);

  public static final Setting<Path> CREDENTIALS_DIR =
      new Setting<>(
          "TXGW_CREDENTIALS_DIR",
          "a node's file:PATH credentials must lie under this directory (symlinks resolved);"
              + " empty refuses file references",
          "",
          s -> {
            if (s.isEmpty()) {
              return null;
            }
            try {
              Path dir = Path.of(s);
              if (!dir.isAbsolute() || dir.getNameCount() == 0) {
                throw new IllegalArgumentException("must be an absolute directory other than /");
              }
              return dir.normalize();
            } catch (InvalidPathException e) {
              throw new IllegalArgumentException("not a path");
            }
          },
          false);

  public static final Setting<Boolean> ALLOW_PLAIN_HTTP =
      Setting.bool(
          "TXGW_NODE_ALLOW_PLAIN_HTTP",
          false,
          "true lets registered nodes off loopback be called over http (their credentials cross"
              + " the network in clear)");

  public static final List<Setting<?>> SETTINGS =
      List.of(ENV_PREFIX, CREDENTIALS_DIR, ALLOW_PLAIN_HTTP);

  /** The defaults: {@code TXGW_NODE_} variables, no credential files, https off loopback. */
  public static NodeEndpointRules defaults() {
    return new NodeEndpointRules("TXGW_NODE_", null, false);
  }

  public static NodeEndpointRules read(ConfigReader reader) {
    String prefix = reader.get(ENV_PREFIX);
    Path dir = reader.get(CREDENTIALS_DIR);
    Boolean plain = reader.get(ALLOW_PLAIN_HTTP);
    return new NodeEndpointRules(
        prefix == null ? "TXGW_NODE_" : prefix, dir, Boolean.TRUE.equals(plain));
  }

  /**
   * @throws io.txgw.common.config.ConfigException listing every problem
   */
  public static NodeEndpointRules fromEnv(Map<String, String> env) {
    ConfigReader reader = new ConfigReader(env);
    NodeEndpointRules rules = read(reader);
    reader.throwIfProblems();
    return rules;
  }

  /**
   * Every rule {@code spec} breaks, as text without its URL paths or any secret; empty when it may
   * be used. File references are checked by their text only: the file itself is the consumer's to
   * resolve.
   */
  public List<String> problems(NodeSpec spec) {
    List<String> problems = urlProblems(spec);
    problems.addAll(credentialsProblems(spec.credentials()));
    return problems;
  }

  /** The rules {@code spec}'s URLs break: plain http off loopback unless allowed. */
  public List<String> urlProblems(NodeSpec spec) {
    List<String> problems = new ArrayList<>();
    urlProblem("url", spec.url(), problems);
    urlProblem("walletUrl", spec.walletUrl(), problems);
    return problems;
  }

  /** The rules a credentials reference breaks, by its text; empty for none (null). */
  public List<String> credentialsProblems(String credentials) {
    List<String> problems = new ArrayList<>();
    if (credentials == null) {
      return problems;
    }
    if (credentials.startsWith("env:")) {
      if (!credentials.substring(4).startsWith(envPrefix)) {
        problems.add(
            "credentials "
                + credentials
                + " names a variable outside "
                + envPrefix
                + "* (set aside for node credentials by "
                + ENV_PREFIX.name()
                + ")");
      }
    } else if (credentials.startsWith("file:")) {
      if (credentialsDir == null) {
        problems.add(
            "credentials "
                + credentials
                + " refused: file references are off ("
                + CREDENTIALS_DIR.name()
                + " is unset)");
      } else {
        filePath(credentials.substring(5), problems);
      }
    }
    return problems;
  }

  /**
   * The normalised absolute path of a {@code file:} reference's text, or null after adding why it
   * is refused: relative, with {@code .} or {@code ..} segments, or outside the credentials
   * directory when one is set.
   */
  public Path filePath(String text, List<String> problems) {
    Path path;
    try {
      path = Path.of(text);
    } catch (InvalidPathException e) {
      problems.add("credentials file:" + text + " is not a path");
      return null;
    }
    if (!path.isAbsolute() || !path.normalize().equals(path)) {
      problems.add(
          "credentials file:" + text + " must be an absolute path without '.' or '..' segments");
      return null;
    }
    if (credentialsDir != null && !path.startsWith(credentialsDir)) {
      problems.add(
          "credentials file:"
              + text
              + " lies outside "
              + credentialsDir
              + " ("
              + CREDENTIALS_DIR.name()
              + ")");
      return null;
    }
    return path;
  }

  private void urlProblem(String field, String url, List<String> problems) {
    if (url == null || allowPlainHttp) {
      return;
    }
    try {
      URI uri = new URI(url);
      if ("http".equalsIgnoreCase(uri.getScheme()) && !NodeUrls.isLoopback(uri.getHost())) {
        problems.add(
            field
                + " "
                + NodeUrls.shown(url)
                + " must be https off loopback (or set "
                + ALLOW_PLAIN_HTTP.name()
                + "=true)");
      }
    } catch (URISyntaxException e) {
      problems.add(field + " is not a URL");
    }
  }
}
