package io.txgw.common.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads settings from an environment map and gathers every problem, so that a misconfigured process
 * reports all of them at once instead of one per restart.
 */
public final class ConfigReader {
  private final Map<String, String> env;
  private final List<String> problems = new ArrayList<>();

  public ConfigReader(Map<String, String> env) {
    this.env = env;
  }

  /** The parsed value, or null after recording a problem. */
  public <T> T get(Setting<T> setting) {
    String text = env.get(setting.name());
    if (text == null && setting.secret()) {
      text = readSecretFile(setting);
    }
    if (text == null) {
      text = setting.defaultValue();
    }
    if (text == null) {
      problems.add(setting.name() + " is required: " + setting.doc());
      return null;
    }
    try {
      return setting.parser().apply(text);
    } catch (IllegalArgumentException e) {
      // A secret's text must not reach the message; the reason alone names the problem.
      String shown = setting.secret() ? "" : " '" + text + "'";
      problems.add(setting.name() + shown + ": " + e.getMessage());
      return null;
    }
  }

  /** Records a cross-setting problem found by the caller. */
  public void problem(String message) {
    problems.add(message);
  }

  /**
   * @throws ConfigException listing every problem found so far
   */
  public void throwIfProblems() {
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
  }

  private String readSecretFile(Setting<?> setting) {
    String fileVar = setting.name() + "_FILE";
    String path = env.get(fileVar);
    if (path == null) {
      return null;
    }
    try {
      return Files.readString(Path.of(path), StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      problems.add(fileVar + ": cannot read " + path + " (" + e.getClass().getSimpleName() + ")");
      return null;
    }
  }
}
