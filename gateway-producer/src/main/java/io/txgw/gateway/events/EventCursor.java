package io.txgw.gateway.events;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Where a client's reading of the event log stands: for each partition of the results topic, the
 * offset of the next record to read. Written as an opaque URL-safe string; a partition it does not
 * name is read from its first record still kept.
 */
public record EventCursor(Map<Integer, Long> next) {
  /** A cursor names each of at most this many partitions (the topic's are far fewer). */
  static final int MAX_PARTITIONS = 10_000;

  /** Longest cursor text taken: a client cannot make the gateway decode megabytes. */
  static final int MAX_CHARS = 200_000;

  public EventCursor {
    next = Map.copyOf(next);
  }

  public static final EventCursor START = new EventCursor(Map.of());

  public long next(int partition) {
    return next.getOrDefault(partition, 0L);
  }

  public String encode() {
    StringBuilder text = new StringBuilder();
    new TreeMap<>(next)
        .forEach(
            (p, o) -> {
              if (text.length() > 0) {
                text.append(',');
              }
              text.append(p).append(':').append(o);
            });
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(text.toString().getBytes(StandardCharsets.US_ASCII));
  }

  /** The cursor a client sent, or why it is not one. */
  public static Parsed parse(String text) {
    if (text == null || text.isEmpty()) {
      return new Parsed(START, null);
    }
    if (text.length() > MAX_CHARS) {
      return Parsed.bad("is longer than " + MAX_CHARS + " characters");
    }
    String plain;
    try {
      plain = new String(Base64.getUrlDecoder().decode(text), StandardCharsets.US_ASCII);
    } catch (IllegalArgumentException e) {
      return Parsed.bad("is not a cursor this gateway gave");
    }
    Map<Integer, Long> next = new TreeMap<>();
    if (!plain.isEmpty()) {
      for (String item : plain.split(",", -1)) {
        int colon = item.indexOf(':');
        try {
          int partition = Integer.parseInt(item.substring(0, Math.max(colon, 0)));
          long offset = Long.parseLong(item.substring(colon + 1));
          if (colon <= 0 || partition < 0 || offset < 0 || next.put(partition, offset) != null) {
            return Parsed.bad("is not a cursor this gateway gave");
          }
        } catch (NumberFormatException e) {
          return Parsed.bad("is not a cursor this gateway gave");
        }
        if (next.size() > MAX_PARTITIONS) {
          return Parsed.bad("names more than " + MAX_PARTITIONS + " partitions");
        }
      }
    }
    return new Parsed(new EventCursor(next), null);
  }

  /**
   * @param problem why the text is not a cursor; null when it is
   */
  public record Parsed(EventCursor cursor, String problem) {
    static Parsed bad(String problem) {
      return new Parsed(null, problem);
    }

    public Optional<String> problemText() {
      return Optional.ofNullable(problem);
    }
  }
}
