package io.txgw.gateway.events;

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

  /** Longest cursor text taken: what {@link #MAX_PARTITIONS} partitions' offsets can need. */
  static final int MAX_CHARS = 120_000;

  public EventCursor {
    next = Map.copyOf(next);
  }

  public static final EventCursor START = new EventCursor(Map.of());

  public long next(int partition) {
    return next.getOrDefault(partition, 0L);
  }

  /**
   * Version 1: a byte 1, then each partition's next offset from partition 0 up, as unsigned
   * variable-length integers (7 bits a byte, low first). A thousand partitions take a few
   * kilobytes.
   */
  public String encode() {
    int partitions = next.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.write(1);
    for (int p = 0; p < partitions; p++) {
      long v = next(p);
      while ((v & ~0x7FL) != 0) {
        out.write((int) ((v & 0x7F) | 0x80));
        v >>>= 7;
      }
      out.write((int) v);
    }
    return Base64.getUrlEncoder().withoutPadding().encodeToString(out.toByteArray());
  }

  /** The cursor a client sent, or why it is not one. */
  public static Parsed parse(String text) {
    if (text == null || text.isEmpty()) {
      return new Parsed(START, null);
    }
    if (text.length() > MAX_CHARS) {
      return Parsed.bad("is longer than " + MAX_CHARS + " characters");
    }
    byte[] bytes;
    try {
      bytes = Base64.getUrlDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      return Parsed.bad("is not a cursor this gateway gave");
    }
    if (bytes.length == 0 || bytes[0] != 1) {
      return Parsed.bad("is not a cursor this gateway gave");
    }
    Map<Integer, Long> next = new TreeMap<>();
    int i = 1;
    while (i < bytes.length) {
      long v = 0;
      int shift = 0;
      while (true) {
        if (i >= bytes.length || shift > 56) {
          return Parsed.bad("is not a cursor this gateway gave");
        }
        int b = bytes[i++] & 0xFF;
        v |= (long) (b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
          break;
        }
        shift += 7;
      }
      if (next.size() >= MAX_PARTITIONS) {
        return Parsed.bad("names more than " + MAX_PARTITIONS + " partitions");
      }
      next.put(next.size(), v);
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
