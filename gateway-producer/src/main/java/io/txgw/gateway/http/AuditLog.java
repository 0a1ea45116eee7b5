package io.txgw.gateway.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.txgw.common.json.Json;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One JSON line per batch accepted or refused: who (client, key id, address), what (batch id, a
 * digest of its content, payouts and totals per asset) and the answer. Kept apart from the
 * process's log, which rotates with the operator's logging, and never holding a key, an address
 * list or a body. The file rolls to {@code .1} past {@link #MAX_BYTES}: at most twice that on disk.
 */
public final class AuditLog implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(AuditLog.class);
  static final long MAX_BYTES = 64L * 1024 * 1024;

  private final Path file;
  private final long maxBytes;
  private OutputStream out;
  private long size;

  public AuditLog(Path file) {
    this(file, MAX_BYTES);
  }

  AuditLog(Path file, long maxBytes) {
    this.file = file;
    this.maxBytes = maxBytes;
  }

  /** What an entry says of a batch held for approval: its content, and who posted and decided. */
  public static Map<String, Object> held(io.txgw.gateway.approval.ApprovalState s) {
    Map<String, Object> entry = new LinkedHashMap<>();
    entry.put("batchId", s.batchId());
    entry.put("contentSha256", s.fingerprint());
    entry.put("chain", s.chain());
    entry.put("source", s.source());
    entry.put("payouts", s.payouts());
    entry.put("totals", s.totals());
    entry.put("postedBy", s.postedBy());
    entry.put("postedWithKey", s.postedKey());
    entry.put("state", s.status());
    if (s.decidedBy() != null) {
      entry.put("decidedBy", s.decidedBy());
      entry.put("decidedWithKey", s.decidedKey());
    }
    if (s.reason() != null) {
      entry.put("decisionReason", s.reason());
    }
    return entry;
  }

  /** Appends one entry; a failure to write is logged, not thrown: the answer is already decided. */
  public synchronized void write(Map<String, Object> fields) {
    Map<String, Object> entry = new LinkedHashMap<>();
    entry.put("at", Instant.now().toString());
    entry.putAll(fields);
    try {
      byte[] line =
          (Json.mapper().writeValueAsString(entry) + "\n").getBytes(StandardCharsets.UTF_8);
      if (out == null || size + line.length > maxBytes) {
        roll();
      }
      out.write(line);
      out.flush();
      size += line.length;
    } catch (JsonProcessingException e) {
      log.error("audit entry not written: {}", e.getOriginalMessage());
    } catch (IOException e) {
      log.error("audit entry not written to {}: {}", file, e.toString());
      closeQuietly();
    }
  }

  private void roll() throws IOException {
    if (out != null) {
      closeQuietly();
    }
    if (file.getParent() != null) {
      Files.createDirectories(file.getParent());
    }
    if (Files.exists(file) && Files.size(file) >= maxBytes) {
      Files.move(
          file,
          file.resolveSibling(file.getFileName() + ".1"),
          StandardCopyOption.REPLACE_EXISTING);
    }
    out =
        Files.newOutputStream(
            file, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
    size = Files.size(file);
  }

  private void closeQuietly() {
    try {
      if (out != null) {
        out.close();
      }
    } catch (IOException e) {
      log.debug("audit log close: {}", e.toString());
    }
    out = null;
  }

  @Override
  public synchronized void close() {
    closeQuietly();
  }
}
