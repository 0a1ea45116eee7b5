package io.txgw.loadgen;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Inline SVG line charts for the HTML reports: no scripts, no assets, nothing fetched. */
public final class Charts {
  private static final String[] COLOURS = {
    "#1f77b4", "#2ca02c", "#ff7f0e", "#d62728", "#9467bd", "#8c564b"
  };

  private Charts() {}

  /**
   * One line per series, x = index (seconds), y = value; an optional dashed limit line.
   *
   * @param limit a horizontal line to draw (a budget), or NaN for none
   */
  public static String lines(
      String title, String yLabel, Map<String, List<? extends Number>> series, double limit) {
    int w = 720;
    int h = 300;
    int pad = 44;
    int maxX = series.values().stream().mapToInt(List::size).max().orElse(1);
    double maxY =
        series.values().stream()
            .flatMap(List::stream)
            .mapToDouble(Number::doubleValue)
            .max()
            .orElse(1);
    if (!Double.isNaN(limit)) {
      maxY = Math.max(maxY, limit * 1.15);
    }
    maxY = Math.max(maxY, 1);
    StringBuilder svg = new StringBuilder();
    svg.append(String.format(Locale.ROOT, "<h2>%s</h2>", escape(title)));
    svg.append(
        String.format(
            Locale.ROOT, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d'>", w, h));
    svg.append(
        String.format(
            Locale.ROOT,
            "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#888'/>",
            pad,
            h - pad,
            w - pad,
            h - pad));
    svg.append(
        String.format(
            Locale.ROOT,
            "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#888'/>",
            pad,
            pad,
            pad,
            h - pad));
    svg.append(
        String.format(
            Locale.ROOT,
            "<text x='4' y='%d' font-size='11'>%.0f</text><text x='4' y='%d' font-size='11'>0</text>",
            pad + 4,
            maxY,
            h - pad));
    svg.append(
        String.format(
            Locale.ROOT,
            "<text x='%d' y='%d' font-size='11'>seconds (0-%d)</text>",
            w / 2 - 30,
            h - 10,
            maxX));
    svg.append(
        String.format(
            Locale.ROOT,
            "<text x='%d' y='%d' font-size='11'>%s</text>",
            pad + 4,
            pad - 8,
            escape(yLabel)));
    if (!Double.isNaN(limit)) {
      double y = h - pad - limit / maxY * (h - 2 * pad);
      svg.append(
          String.format(
              Locale.ROOT,
              "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#000' stroke-dasharray='6 4'/>"
                  + "<text x='%d' y='%.1f' font-size='11'>limit %.0f</text>",
              pad,
              y,
              w - pad,
              y,
              w - pad - 70,
              y - 4,
              limit));
    }
    int i = 0;
    for (Map.Entry<String, List<? extends Number>> e : series.entrySet()) {
      String colour = COLOURS[i % COLOURS.length];
      StringBuilder points = new StringBuilder();
      List<? extends Number> values = e.getValue();
      for (int x = 0; x < values.size(); x++) {
        double px = pad + (x + 0.5) * (w - 2 * pad) / maxX;
        double py = h - pad - values.get(x).doubleValue() / maxY * (h - 2 * pad);
        points.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
      }
      svg.append(
          String.format(
              Locale.ROOT,
              "<polyline fill='none' stroke='%s' stroke-width='2' points='%s'/>",
              colour,
              points));
      svg.append(
          String.format(
              Locale.ROOT,
              "<text x='%d' y='%d' font-size='11' fill='%s'>%s</text>",
              w - pad - 160,
              pad + 14 * (i + 1),
              colour,
              escape(e.getKey())));
      i++;
    }
    return svg.append("</svg>").toString();
  }

  /** A two-column HTML table. */
  public static String table(String title, Map<String, ?> rows) {
    StringBuilder t = new StringBuilder("<h2>" + escape(title) + "</h2><table>");
    rows.forEach(
        (k, v) ->
            t.append("<tr><th align='left'>")
                .append(escape(k))
                .append("</th><td>")
                .append(escape(String.valueOf(v)))
                .append("</td></tr>"));
    return t.append("</table>").toString();
  }

  public static String page(String title, String body) {
    return "<!doctype html><meta charset='utf-8'><title>"
        + escape(title)
        + "</title><body style='font-family:sans-serif'><h1>"
        + escape(title)
        + "</h1>"
        + body
        + "</body>";
  }

  static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;");
  }
}
