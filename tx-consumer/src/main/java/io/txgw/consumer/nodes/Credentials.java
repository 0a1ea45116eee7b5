package io.txgw.consumer.nodes;

import io.txgw.common.config.Secret;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;

/**
 * Resolves a node's credentials reference from the registry ({@code env:NAME} or {@code
 * file:/path}) in this process's own environment: the registry never holds a secret. {@code
 * env:NAME} also accepts {@code NAME_FILE}, as every secret setting does.
 */
public final class Credentials implements Function<String, Secret> {
  private final Map<String, String> env;

  public Credentials(Map<String, String> env) {
    this.env = Map.copyOf(env);
  }

  @Override
  public Secret apply(String reference) {
    if (reference == null) {
      return null;
    }
    if (reference.startsWith("env:")) {
      String name = reference.substring(4);
      String value = env.get(name);
      if (value != null && !value.isEmpty()) {
        return new Secret(value);
      }
      String file = env.get(name + "_FILE");
      if (file != null && !file.isEmpty()) {
        return read(Path.of(file));
      }
      throw new IllegalStateException(
          "credentials " + reference + ": neither " + name + " nor " + name + "_FILE is set");
    }
    if (reference.startsWith("file:")) {
      return read(Path.of(reference.substring(5)));
    }
    throw new IllegalArgumentException("credentials must be env:NAME or file:/path");
  }

  private static Secret read(Path path) {
    try {
      return new Secret(Files.readString(path, StandardCharsets.UTF_8).strip());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read credentials file " + path, e);
    }
  }
}
