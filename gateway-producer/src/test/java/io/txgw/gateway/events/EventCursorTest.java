package io.txgw.gateway.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EventCursorTest {
  private static String encoded(String plain) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(plain.getBytes(StandardCharsets.US_ASCII));
  }

  @Test
  void aCursorReadsBackAsTheOffsetsItWasMadeOf() {
    EventCursor cursor = new EventCursor(Map.of(0, 12L, 3, 0L, 11, 9_000_000_000L));
    EventCursor back = EventCursor.parse(cursor.encode()).cursor();
    assertThat(back).isEqualTo(cursor);
    assertThat(back.next(5)).isZero();
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
          encoded("0:1,0:2"),
          encoded("0:-1"),
          encoded("-1:0"),
          encoded("x:1"),
          encoded(":1"),
          encoded("0:"),
          encoded("0:1,,1:2"),
          encoded("0:99999999999999999999")
        }) {
      EventCursor.Parsed parsed = EventCursor.parse(bad);
      assertThat(parsed.cursor()).as(bad).isNull();
      assertThat(parsed.problemText()).as(bad).isPresent();
    }
  }

  @Test
  void aCursorOfTooManyPartitionsOrCharactersIsRefused() {
    StringBuilder many = new StringBuilder();
    for (int p = 0; p <= EventCursor.MAX_PARTITIONS; p++) {
      many.append(p == 0 ? "" : ",").append(p).append(":0");
    }
    assertThat(EventCursor.parse(encoded(many.toString())).problemText())
        .hasValueSatisfying(p -> assertThat(p).contains("partitions"));
    assertThat(EventCursor.parse("A".repeat(EventCursor.MAX_CHARS + 1)).problemText())
        .hasValueSatisfying(p -> assertThat(p).contains("longer"));
  }
}
