package io.txgw.consumer.nodes;

import io.txgw.common.config.Secret;
import io.txgw.coordinator.nodes.NodeEndpointRules;
import io.txgw.coordinator.nodes.NodeSpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Resolves a node's credentials reference from the registry ({@code env:NAME} or {@code
 * file:/path}) in this process's own environment: the registry never holds a secret. {@code
 * env:NAME} also accepts {@code NAME_FILE}, as every secret setting does.
 *
 * <p>Whoever writes a registry entry chooses where its secret is sent, so a registered node may
 * only name what the operator set aside for nodes ({@link NodeEndpointRules}): variables with the
 * node prefix, and files that, symlinks resolved, lie in the credentials directory. Anything else
 * is refused before a byte is read, and so is a node URL in plain http off loopback.
 */
public final class Credentials implements Function<String, Secret> {
  private final Map<String, String> env;
  private final NodeEndpointRules rules;
  private final boolean ownNodes;

  /** With the rules from the same environment (see {@link NodeEndpointRules#SETTINGS}). */
  public Credentials(Map<String, String> env) {
    this(env, NodeEndpointRules.fromEnv(env));
  }

  public Credentials(Map<String, String> env, NodeEndpointRules rules) {
    this(Map.copyOf(env), rules, false);
  }

  private Credentials(Map<String, String> env, NodeEndpointRules rules, boolean ownNodes) {
    this.env = env;
    this.rules = rules;
    this.ownNodes = ownNodes;
  }

  /**
   * For the nodes this consumer's own environment names ({@code TXGW_ETH_RPC_URL}...): their
   * references name its own password settings, which a registered node may not. URL rules hold.
   */
  public Credentials forEnvironmentNodes() {
    return new Credentials(env, rules, true);
  }

  /**
   * The secret to call {@code spec} with (null when it has none), once its URLs and reference pass
   * the rules.
   *
   * @throws UnusableNodeException naming the broken rule; nothing has been read then
   */
  public Secret forNode(NodeSpec spec) {
    List<String> problems = rules.urlProblems(spec);
    if (!problems.isEmpty()) {
      throw new UnusableNodeException(String.join("; ", problems));
    }
    return apply(spec.credentials());
  }

  /**
   * @throws UnusableNodeException when the reference is refused or names nothing readable
   */
  @Override
  public Secret apply(String reference) {
    if (reference == null) {
      return null;
    }
    if (!ownNodes) {
      List<String> problems = rules.credentialsProblems(reference);
      if (!problems.isEmpty()) {
        throw new UnusableNodeException(String.join("; ", problems));
      }
    }
    if (reference.startsWith("env:")) {
      return fromEnv(reference.substring(4));
    }
    if (reference.startsWith("file:")) {
      return fromFile(reference.substring(5));
    }
    throw new UnusableNodeException("credentials must be env:NAME or file:/path");
  }

  private Secret fromEnv(String name) {
    String value = env.get(name);
    if (value != null && !value.isEmpty()) {
      return new Secret(value);
    }
    String file = env.get(name + "_FILE");
    if (file != null && !file.isEmpty()) {
      // The operator's own setting names this file: it is not limited to the directory.
      return read(Path.of(file), "credentials env:" + name + " (" + name + "_FILE)");
    }
    throw new UnusableNodeException(
        "credentials env:" + name + ": neither " + name + " nor " + name + "_FILE is set");
  }

  private Secret fromFile(String text) {
    String what = "credentials file:" + text;
    if (ownNodes) {
      return read(Path.of(text), what);
    }
    if (rules.credentialsDir() == null) {
      throw new UnusableNodeException(
          what
              + " refused: file references are off ("
              + NodeEndpointRules.CREDENTIALS_DIR.name()
              + " is unset)");
    }
    List<String> problems = new ArrayList<>();
    Path path = rules.filePath(text, problems);
    if (path == null) {
      throw new UnusableNodeException(String.join("; ", problems));
    }
    Path real;
    Path dir;
    try {
      dir = rules.credentialsDir().toRealPath();
      real = path.toRealPath();
    } catch (IOException e) {
      throw new UnusableNodeException(
          what + ": cannot be resolved (" + e.getClass().getSimpleName() + ")");
    }
    // A symlink in the directory may point anywhere: only where it leads counts.
    if (!real.startsWith(dir) || !Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
      throw new UnusableNodeException(
          what + " refused: it leads outside " + rules.credentialsDir() + " or to no plain file");
    }
    return read(real, what);
  }

  private static Secret read(Path path, String what) {
    try (InputStream in = Files.newInputStream(path, LinkOption.NOFOLLOW_LINKS)) {
      return new Secret(new String(in.readAllBytes(), StandardCharsets.UTF_8).strip());
    } catch (IOException e) {
      throw new UnusableNodeException(
          what + ": cannot read it (" + e.getClass().getSimpleName() + ")");
    }
  }
}
