package io.txgw.common.address;

import io.txgw.common.model.Address;
import io.txgw.common.model.Chain;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Validates addresses for one configured Bitcoin network and Ethereum, checksums included, and
 * turns them into their canonical form.
 */
public final class AddressCodec {
  private static final Decoded NOT_ETHEREUM =
      new Decoded(null, "not an Ethereum address (0x followed by 40 hex digits)");
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
    // A hand-written scan, not a regex: this runs for every payout of every batch.
    if (text.length() != 42 || text.charAt(0) != '0' || text.charAt(1) != 'x') {
      return NOT_ETHEREUM;
    }
    byte[] lower = new byte[40];
    boolean upperSeen = false;
    boolean lowerSeen = false;
    for (int i = 0; i < 40; i++) {
      char c = text.charAt(i + 2);
      if (c >= '0' && c <= '9') {
        lower[i] = (byte) c;
      } else if (c >= 'a' && c <= 'f') {
        lower[i] = (byte) c;
        lowerSeen = true;
      } else if (c >= 'A' && c <= 'F') {
        lower[i] = (byte) (c + ('a' - 'A'));
        upperSeen = true;
      } else {
        return NOT_ETHEREUM;
      }
    }
    String canonical = checksummed(lower);
    // EIP-55: mixed case carries a checksum that must match; single-case text carries none.
    if (upperSeen && lowerSeen && !canonical.equals(text)) {
      return new Decoded(null, "EIP-55 checksum mismatch (check the letter case)");
    }
    return new Decoded(new Address(canonical), null);
  }

  /** EIP-55 form of a lower-case hex address without 0x, given as ASCII bytes. */
  static String checksummed(byte[] lowerHex) {
    byte[] hash = Keccak.hash256(lowerHex);
    byte[] out = new byte[lowerHex.length + 2];
    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < lowerHex.length; i++) {
      byte c = lowerHex[i];
      int nibble = (hash[i / 2] >> (i % 2 == 0 ? 4 : 0)) & 0xf;
      out[i + 2] = c >= 'a' && nibble >= 8 ? (byte) (c - ('a' - 'A')) : c;
    }
    return new String(out, StandardCharsets.US_ASCII);
  }

  /** The Ethereum address of a 20-byte account id. */
  public static Address ethereum(byte[] twentyBytes) {
    return new Address(checksummed(HEX.formatHex(twentyBytes).getBytes(StandardCharsets.US_ASCII)));
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
