package io.txgw.deploy.infra;

import io.txgw.common.json.Json;
import io.txgw.common.security.RecordSeal;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a local stack's gateways and consumers agree on to pay: a fresh record-sealing key, and a
 * clients file naming the sources each client may spend from. Both live in the stack's work
 * directory, readable by the owner only.
 */
public final class TrustFiles {
  private final String recordKeys;
  private final Path clientsFile;

  private TrustFiles(String recordKeys, Path clientsFile) {
    this.recordKeys = recordKeys;
    this.clientsFile = clientsFile;
  }

  /**
   * @param rights per client, the {@code CHAIN:source} entries it may spend from
   */
  public static TrustFiles create(Path dir, Map<String, List<String>> rights) {
    Map<String, Map<String, Object>> clients = new LinkedHashMap<>();
    rights.forEach((client, spend) -> clients.put(client, Map.of("spend", spend)));
    return createPolicies(dir, clients);
  }

  /**
   * @param clients per client, its entry of the clients file as {@code ClientPolicies} reads it
   */
  public static TrustFiles createPolicies(Path dir, Map<String, Map<String, Object>> clients) {
    Path file = dir.resolve("clients.json");
    try {
      Files.createDirectories(dir);
      Files.write(file, Json.mapper().writeValueAsBytes(Map.of("clients", clients)));
      ownerOnly(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
    return new TrustFiles(RecordSeal.generate("local"), file);
  }

  private static void ownerOnly(Path file) throws IOException {
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException e) {
      // Not a POSIX file system: the directory's own permissions are all there is.
    }
  }

  /** The settings both gateways and consumers take. */
  public Map<String, String> env() {
    return Map.of("TXGW_RECORD_KEYS", recordKeys, "TXGW_CLIENTS_FILE", clientsFile.toString());
  }

  public Path clientsFile() {
    return clientsFile;
  }
}
