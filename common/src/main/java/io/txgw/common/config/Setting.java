package io.txgw.common.config;

import java.util.Objects;
import java.util.function.Function;

/**
 * One configuration entry, declared once: environment name, doc, default, parser. A secret setting
 * may also be given as {@code NAME_FILE}, the path of a file holding it.
 *
 * @param defaultValue the text used when the variable is unset; null means required
 * @param parser turns text into a value or throws IllegalArgumentException with the reason
 */
public record Setting<T>(
    String name, String doc, String defaultValue, Function<String, T> parser, boolean secret) {
  public Setting {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(doc, "doc");
    Objects.requireNonNull(parser, "parser");
  }

  public static Setting<String> string(String name, String defaultValue, String doc) {
    return new Setting<>(name, doc, defaultValue, s -> s, false);
  }

  public static Setting<Integer> integer(
      String name, int defaultValue, int min, int max, String doc) {
    return new Setting<>(
        name,
        doc,
        Integer.toString(defaultValue),
        s -> {
          int v;
          try {
            v = Integer.parseInt(s.trim());
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a whole number");
          }
          if (v < min || v > max) {
            throw new IllegalArgumentException("must be between " + min + " and " + max);
          }
          return v;
        },
        false);
  }

  /** One of an enum's constants, named in any letter case. */
  public static <E extends Enum<E>> Setting<E> choice(
      String name, Class<E> type, E defaultValue, String doc) {
    return new Setting<>(
        name,
        doc,
        defaultValue.name(),
        s -> {
          try {
            return Enum.valueOf(type, s.trim().toUpperCase(java.util.Locale.ROOT));
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                "must be one of " + java.util.Arrays.toString(type.getEnumConstants()));
          }
        },
        false);
  }

  public static Setting<Boolean> bool(String name, boolean defaultValue, String doc) {
    return new Setting<>(
        name,
        doc,
        Boolean.toString(defaultValue),
        s -> {
          if (!s.equals("true") && !s.equals("false")) {
            throw new IllegalArgumentException("must be true or false");
          }
          return Boolean.parseBoolean(s);
        },
        false);
  }

  public static Setting<Secret> secret(String name, String defaultValue, String doc) {
    return new Setting<>(name, doc, defaultValue, Secret::new, true);
  }
}
