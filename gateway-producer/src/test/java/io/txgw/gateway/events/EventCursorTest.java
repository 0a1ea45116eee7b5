package io.txgw.gateway.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EventCursorTest {
  private static String encoded(int... bytes) {
    byte[] b = new byte[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      b[i] = (byte) bytes[i];
    }
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  @Test
  void aCursorReadsBackAsTheOffsetsItWasMadeOf() {
    EventCursor cursor = new EventCursor(Map.of(0, 12L, 3, 0L, 11, 9_000_000_000L));
    EventCursor back = EventCursor.parse(cursor.encode()).cursor();
    for (int p = 0; p < 20; p++) {
      assertThat(back.next(p)).as("partition %d", p).isEqualTo(cursor.next(p));
    }
    assertThat(cursor.encode()).matches("[A-Za-z0-9_-]+");
  }

  @Test
  void noCursorStartsAtTheBeginning() {
    assertThat(EventCursor.parse(null).cursor()).isEqualTo(EventCursor.START);
    assertThat(EventCursor.parse("").cursor()).isEqualTo(EventCursor.START);
  }

  @Test
  void textThatIsNoCursorIsRefusedWithAReason() {
    for (String bad :
        new String[] {
          "not base64!",
          encoded(0),
          encoded(2, 0),
          encoded(1, 0x80),
          encoded(1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)
        }) {
      EventCursor.Parsed parsed = EventCursor.parse(bad);
      assertThat(parsed.cursor()).as(bad).isNull();
      assertThat(parsed.problemText()).as(bad).isPresent();
    }
  }

  @Test
  void aCursorOfTooManyPartitionsOrCharactersIsRefused() {
    int[] many = new int[EventCursor.MAX_PARTITIONS + 2];
    many[0] = 1;
    assertThat(EventCursor.parse(encoded(many)).problemText())
        .hasValueSatisfying(p -> assertThat(p).contains("partitions"));
    assertThat(EventCursor.parse("A".repeat(EventCursor.MAX_CHARS + 1)).problemText())
        .hasValueSatisfying(p -> assertThat(p).contains("longer"));
  }

  @Test
  void aThousandPartitionsFitInTheRequestLine() {
    Map<Integer, Long> big = new java.util.HashMap<>();
    for (int p = 0; p < 1_000; p++) {
      big.put(p, 5_000_000_000L + p);
    }
    String text = new EventCursor(big).encode();
    assertThat(text.length()).isLessThan(8 * 1024);
    assertThat(EventCursor.parse(text).cursor()).isEqualTo(new EventCursor(big));
  }
}
