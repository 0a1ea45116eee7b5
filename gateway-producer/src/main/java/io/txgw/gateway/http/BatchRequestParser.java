package io.txgw.gateway.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.PayoutLine;
import io.txgw.common.validation.Violation;
import io.txgw.common.validation.ViolationList;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns a request body (JSON or CSV) into a {@link BatchSubmission} of raw text. Values of the
 * wrong JSON type are reported as violations, not coerced: an amount sent as a JSON number has
 * already been through a float in many clients, and is refused.
 */
public final class BatchRequestParser {
  /** The submission and the type problems found while reading it. */
  public record Parsed(BatchSubmission submission, ViolationList typeViolations) {}

  /** How deep a request body may nest: a batch needs 3 levels, a payout's values none more. */
  static final int MAX_NESTING = 8;

  /**
   * Request bodies are read strictly: a repeated key would leave it to the parser which value
   * counts (the validator could see one amount and a later reader another), and a batch is never
   * nested deeper than an array of objects in an object, so deeper nesting is refused before it
   * costs anything.
   */
  private static ObjectReader strict(int maxPayouts) {
    return new ObjectMapper(
            JsonFactory.builder()
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .streamReadConstraints(
                    StreamReadConstraints.builder()
                        .maxNestingDepth(MAX_NESTING)
                        // A payout is about 10 tokens; a body of many more is no batch this
                        // gateway takes, and is refused before it is built in memory.
                        .maxTokenCount(TOKENS_PER_PAYOUT * (long) maxPayouts + 1_000)
                        .build())
                .build())
        .reader()
        // {"batchId":...}{...}: one batch and something else, never read as the first alone.
        .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  }

  /**
   * Tokens allowed per payout of the largest batch: its four fields take 10; unknown fields are
   * refused, and are read only to be named.
   */
  static final int TOKENS_PER_PAYOUT = 40;

  private static final java.util.Map<Integer, ObjectReader> READERS =
      new java.util.concurrent.ConcurrentHashMap<>();

  private BatchRequestParser() {}

  /** Reads a body for a gateway that takes batches of at most 10,000 payouts. */
  public static Parsed json(byte[] body) {
    return json(body, 10_000);
  }

  /** Reads a body for a gateway that takes batches of at most {@code maxPayouts} payouts. */
  public static Parsed json(byte[] body, int maxPayouts) {
    JsonNode root;
    try {
      root = READERS.computeIfAbsent(maxPayouts, BatchRequestParser::strict).readTree(body);
    } catch (StreamConstraintsException e) {
      throw new MalformedRequestException(
          "body exceeds a read limit (nesting deeper than "
              + MAX_NESTING
              + " levels, more values than a batch of "
              + maxPayouts
              + " payouts holds, or a name or number far longer than any batch has)");
    } catch (JsonProcessingException e) {
      String where =
          e.getLocation() == null
              ? ""
              : " (line "
                  + e.getLocation().getLineNr()
                  + ", column "
                  + e.getLocation().getColumnNr()
                  + ")";
      String why = e.getOriginalMessage();
      // The parser's own words name a repeated key; other messages stay out of the answer.
      String repeated = why != null && why.startsWith("Duplicate field") ? ": " + why : "";
      throw new MalformedRequestException("body is not valid JSON" + where + repeated);
    } catch (IOException e) {
      throw new MalformedRequestException("body is not valid JSON");
    }
    if (root == null || !root.isObject()) {
      throw new MalformedRequestException("body must be a JSON object");
    }
    ViolationList violations = new ViolationList();
    unknownFields(root, BATCH_FIELDS, null, null, violations);
    String batchId = text(root, "batchId", null, null, violations);
    String chain = text(root, "chain", null, null, violations);
    String source = text(root, "source", null, null, violations);
    String asset = text(root, "asset", null, null, violations);
    JsonNode items = root.get("payouts");
    List<PayoutLine> lines = new ArrayList<>();
    if (items != null && !items.isNull() && !items.isArray()) {
      violations.add(Violation.ofBatch("payouts", "must be an array"));
    } else if (items != null) {
      for (int i = 0; i < items.size(); i++) {
        JsonNode item = items.get(i);
        if (!item.isObject()) {
          violations.add(new Violation(i, null, "payout", "must be an object"));
          lines.add(null);
          continue;
        }
        String id = text(item, "id", i, null, violations);
        unknownFields(item, PAYOUT_FIELDS, i, id, violations);
        lines.add(
            new PayoutLine(
                id,
                text(item, "to", i, id, violations),
                text(item, "amount", i, id, violations),
                text(item, "memo", i, id, violations)));
      }
    }
    return new Parsed(new BatchSubmission(batchId, chain, source, lines, asset), violations);
  }

  private static final java.util.Set<String> BATCH_FIELDS =
      java.util.Set.of("batchId", "chain", "source", "asset", "payouts");
  private static final java.util.Set<String> PAYOUT_FIELDS =
      java.util.Set.of("id", "to", "amount", "memo");

  /**
   * A field the API does not know is refused, each one named: read as absent, {@code "asset"} on an
   * older gateway would have paid the native coin, and a misspelt {@code "memo"} would vanish.
   */
  private static void unknownFields(
      JsonNode node, java.util.Set<String> known, Integer index, String id, List<Violation> out) {
    node.fieldNames()
        .forEachRemaining(
            f -> {
              if (!known.contains(f)) {
                out.add(
                    new Violation(
                        index,
                        id,
                        f,
                        "is not a field of a "
                            + (index == null ? "batch" : "payout")
                            + "; known: "
                            + String.join(", ", new java.util.TreeSet<>(known))));
              }
            });
  }

  private static String text(
      JsonNode node, String field, Integer index, String id, List<Violation> violations) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isTextual()) {
      String reason =
          value.isNumber() && field.equals("amount")
              ? "must be a decimal string such as \"0.015\", not a JSON number"
              : "must be a string";
      violations.add(new Violation(index, id, field, reason));
      return null;
    }
    return value.textValue();
  }

  /**
   * Reads {@code id,to,amount[,memo]} lines; a first line naming those columns is a header. Fields
   * may be quoted with double quotes, with {@code ""} for a quote inside.
   */
  public static Parsed csv(byte[] body, String batchId, String chain, String source) {
    return csv(body, batchId, chain, source, null, 10_000);
  }

  /**
   * Reads a CSV body for a gateway that takes batches of at most {@code maxPayouts} payouts. Rows
   * past that are not read: the batch is refused for its size, whatever else is in it.
   */
  public static Parsed csv(
      byte[] body, String batchId, String chain, String source, String asset, int maxPayouts) {
    String text = utf8(body);
    List<PayoutLine> lines = new ArrayList<>();
    ViolationList violations = new ViolationList();
    boolean first = true;
    int row = 0;
    for (int start = 0; start <= text.length(); ) {
      int end = text.indexOf('\n', start);
      if (end < 0) {
        end = text.length();
      }
      String line = text.substring(start, end);
      start = end + 1;
      row++;
      if (line.endsWith("\r")) {
        line = line.substring(0, line.length() - 1);
      }
      if (line.isBlank()) {
        continue;
      }
      List<String> fields = splitCsv(line, row);
      if (first && fields.get(0).trim().toLowerCase(Locale.ROOT).equals("id")) {
        first = false;
        continue;
      }
      first = false;
      int index = lines.size();
      if (index >= maxPayouts) {
        violations.add(
            Violation.ofBatch(
                "payouts",
                "batch has more than " + maxPayouts + " payouts; the limit is " + maxPayouts));
        return new Parsed(
            new BatchSubmission(batchId, chain, source, List.of(), asset), violations);
      }
      if (fields.size() < 3 || fields.size() > 4) {
        violations.add(new Violation(index, null, "line " + row, "expected id,to,amount[,memo]"));
        lines.add(null);
        continue;
      }
      lines.add(
          new PayoutLine(
              fields.get(0).trim(),
              fields.get(1).trim(),
              fields.get(2).trim(),
              fields.size() == 4 ? fields.get(3) : null));
    }
    return new Parsed(new BatchSubmission(batchId, chain, source, lines, asset), violations);
  }

  /**
   * Reads a CSV body whose batch fields come in the query: each known one at most once, and no
   * other (a misspelt {@code ?assets=USDC} would otherwise pay the native coin).
   */
  public static Parsed csv(byte[] body, java.util.Map<String, List<String>> query, int maxPayouts) {
    ViolationList problems = new ViolationList();
    java.util.Set<String> known = java.util.Set.of("batchId", "chain", "source", "asset");
    query.forEach(
        (name, values) -> {
          if (!known.contains(name)) {
            problems.add(
                Violation.ofBatch(
                    name,
                    "is not a query parameter of a CSV batch; known: asset, batchId, chain,"
                        + " source"));
          } else if (values.size() > 1) {
            problems.add(Violation.ofBatch(name, "given more than once"));
          }
        });
    Parsed parsed =
        csv(
            body,
            first(query, "batchId"),
            first(query, "chain"),
            first(query, "source"),
            first(query, "asset"),
            maxPayouts);
    problems.forEach(parsed.typeViolations()::add);
    return parsed;
  }

  private static String first(java.util.Map<String, List<String>> query, String name) {
    List<String> values = query.get(name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  private static List<String> splitCsv(String line, int lineNumber) {
    List<String> fields = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
          field.append('"');
          i++;
        } else if (c == '"') {
          quoted = false;
        } else {
          field.append(c);
        }
      } else if (c == '"' && field.isEmpty()) {
        quoted = true;
      } else if (c == ',') {
        fields.add(field.toString());
        field.setLength(0);
      } else {
        field.append(c);
      }
    }
    if (quoted) {
      throw new MalformedRequestException("CSV line " + lineNumber + " has an unclosed quote");
    }
    fields.add(field.toString());
    return fields;
  }

  private static String utf8(byte[] body) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(body))
          .toString();
    } catch (CharacterCodingException e) {
      throw new MalformedRequestException("CSV body is not UTF-8 text");
    }
  }
}
