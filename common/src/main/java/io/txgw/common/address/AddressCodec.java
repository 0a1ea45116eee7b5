package io.txgw.common.address;

import io.txgw.common.model.Address;
import io.txgw.common.model.Chain;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Validates addresses for one configured Bitcoin network and Ethereum, checksums included, and
 * turns them into their canonical form.
 */
public final class AddressCodec {
  private static final Pattern ETH_HEX = Pattern.compile("0x[0-9a-fA-F]{40}");
  private static final HexFormat HEX = HexFormat.of();

  private final BitcoinNetwork bitcoinNetwork;

  public AddressCodec(BitcoinNetwork bitcoinNetwork) {
    this.bitcoinNetwork = bitcoinNetwork;
  }

  public BitcoinNetwork bitcoinNetwork() {
    return bitcoinNetwork;
  }

  /** The outcome of a check: a canonical address, or the reason the text is not one. */
  public record Decoded(Address address, String reason) {
    public boolean valid() {
      return address != null;
    }
  }

  public Decoded decode(Chain chain, String text) {
    if (text == null || text.isBlank()) {
      return new Decoded(null, "address is required");
    }
    return switch (chain) {
      case BTC -> decodeBitcoin(text);
      case ETH -> decodeEthereum(text);
    };
  }

  private Decoded decodeBitcoin(String text) {
    String hrpPrefix = bitcoinNetwork.bech32Hrp() + "1";
    if (text.toLowerCase(Locale.ROOT).startsWith(hrpPrefix)) {
      String[] reason = new String[1];
      Bech32.SegwitAddress segwit = Bech32.decodeSegwit(bitcoinNetwork.bech32Hrp(), text, reason);
      return segwit == null
          ? new Decoded(null, reason[0])
          : new Decoded(new Address(text.toLowerCase(Locale.ROOT)), null);
    }
    byte[] payload = Base58.decodeChecked(text);
    if (payload == null) {
      return new Decoded(
          null, "not a valid " + bitcoinNetwork.name() + " address (base58check or bech32)");
    }
    int version = payload[0] & 0xff;
    if (payload.length != 21
        || (version != bitcoinNetwork.pubKeyHashVersion()
            && version != bitcoinNetwork.scriptHashVersion())) {
      return new Decoded(null, "address is not for the " + bitcoinNetwork.name() + " network");
    }
    return new Decoded(new Address(text), null);
  }

  private static Decoded decodeEthereum(String text) {
    if (!ETH_HEX.matcher(text).matches()) {
      return new Decoded(null, "not an Ethereum address (0x followed by 40 hex digits)");
    }
    String hex = text.substring(2);
    String canonical = checksummed(hex.toLowerCase(Locale.ROOT));
    boolean uniformCase =
        hex.equals(hex.toLowerCase(Locale.ROOT)) || hex.equals(hex.toUpperCase(Locale.ROOT));
    // EIP-55: mixed case carries a checksum that must match; single-case text carries none.
    if (!uniformCase && !canonical.equals(text)) {
      return new Decoded(null, "EIP-55 checksum mismatch (check the letter case)");
    }
    return new Decoded(new Address(canonical), null);
  }

  /** EIP-55 form of a lower-case hex address without 0x. */
  static String checksummed(String lowerHex) {
    byte[] hash = Keccak.hash256(lowerHex.getBytes(StandardCharsets.US_ASCII));
    StringBuilder out = new StringBuilder("0x");
    for (int i = 0; i < lowerHex.length(); i++) {
      char c = lowerHex.charAt(i);
      int nibble = (hash[i / 2] >> (i % 2 == 0 ? 4 : 0)) & 0xf;
      out.append(nibble >= 8 ? Character.toUpperCase(c) : c);
    }
    return out.toString();
  }

  /** The Ethereum address of a 20-byte account id. */
  public static Address ethereum(byte[] twentyBytes) {
    return new Address(checksummed(HEX.formatHex(twentyBytes)));
  }

  /** A pay-to-witness-pubkey-hash address on this codec's network. */
  public Address bitcoinP2wpkh(byte[] twentyBytes) {
    return new Address(Bech32.encodeSegwit(bitcoinNetwork.bech32Hrp(), 0, twentyBytes));
  }

  /** A pay-to-pubkey-hash (base58check) address on this codec's network. */
  public Address bitcoinP2pkh(byte[] twentyBytes) {
    byte[] payload = new byte[21];
    payload[0] = (byte) bitcoinNetwork.pubKeyHashVersion();
    System.arraycopy(twentyBytes, 0, payload, 1, 20);
    return new Address(Base58.encodeChecked(payload));
  }
}
