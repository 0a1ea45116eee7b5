package io.txgw.common.security;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.config.ConfigReader;
import io.txgw.common.config.ReloadingFile;
import io.txgw.common.config.Secret;
import io.txgw.common.config.Setting;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * The settings gateways and consumers share to agree on what may be paid: the clients' policy file
 * and the keys that seal {@code sendto} records. Both are required: a gateway that seals nothing
 * writes records no consumer pays, and a consumer without the policy would pay whatever is sealed.
 */
public final class TrustSettings {
  /** How often a changed policy file is noticed, at most. */
  public static final Duration RELOAD_EVERY = Duration.ofSeconds(2);

  public static final Setting<String> CLIENTS_FILE =
      Setting.string(
          "TXGW_CLIENTS_FILE",
          null,
          "JSON file of each client's spending rights, per-batch maxima and recipient lists;"
              + " gateways and consumers read the same file, again within 2 s of a change");
  public static final Setting<Secret> RECORD_KEYS =
      Setting.secret(
          "TXGW_RECORD_KEYS",
          null,
          "id=base64 keys (32+ bytes) sealing sendto records, the first seals; gateways and"
              + " consumers hold the same (or TXGW_RECORD_KEYS_FILE)");

  private TrustSettings() {}

  /**
   * The token assets batches may name ({@code TXGW_ASSETS}); gateways and consumers hold the same
   * list.
   */
  public static final Setting<io.txgw.common.model.AssetRegistry> ASSETS =
      new Setting<>(
          "TXGW_ASSETS",
          "token assets paid beside native coins: CHAIN:SYMBOL=contract:decimals:maxPerPayout,"
              + " comma-separated (ETH:USDC=0xA0b8...:6:1000000); gateways and consumers hold the"
              + " same list",
          "",
          io.txgw.common.model.AssetRegistry::parse,
          false);

  /** The clients' policies, read again when their file changes; null after a recorded problem. */
  public static Supplier<ClientPolicies> policies(ConfigReader reader, AddressCodec addresses) {
    return policies(reader, addresses, io.txgw.common.model.AssetRegistry.NONE);
  }

  /** The same, whose limits may name the native coins and {@code assets}' tokens. */
  public static Supplier<ClientPolicies> policies(
      ConfigReader reader, AddressCodec addresses, io.txgw.common.model.AssetRegistry assets) {
    String file = reader.get(CLIENTS_FILE);
    if (file == null || addresses == null) {
      return null;
    }
    try {
      return new ReloadingFile<>(
              Path.of(file),
              path -> ClientPolicies.load(path, addresses, assets.allSymbols()),
              RELOAD_EVERY,
              Clock.systemUTC())
          ::get;
    } catch (IllegalArgumentException e) {
      reader.problem(CLIENTS_FILE.name() + ": " + e.getMessage());
      return null;
    }
  }

  /** The record seal; null after a recorded problem. */
  public static RecordSeal seal(ConfigReader reader) {
    Secret keys = reader.get(RECORD_KEYS);
    if (keys == null) {
      return null;
    }
    try {
      return RecordSeal.parse(keys);
    } catch (IllegalArgumentException e) {
      reader.problem(RECORD_KEYS.name() + ": " + e.getMessage());
      return null;
    }
  }
}
