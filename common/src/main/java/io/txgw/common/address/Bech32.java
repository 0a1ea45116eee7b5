package io.txgw.common.address;

import java.io.ByteArrayOutputStream;
import java.util.Locale;

/** Bech32 (BIP-173) and Bech32m (BIP-350) segwit addresses. */
final class Bech32 {
  private static final String CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
  private static final int BECH32_CONST = 1;
  private static final int BECH32M_CONST = 0x2bc830a3;

  private Bech32() {}

  /** A decoded segwit address: witness version and program. */
  record SegwitAddress(int version, byte[] program) {}

  /**
   * Decodes a segwit address for the given human-readable part.
   *
   * @return the address, or null with {@code reason[0]} set to why not
   */
  static SegwitAddress decodeSegwit(String hrp, String address, String[] reason) {
    if (address.length() > 90) {
      reason[0] = "bech32 address longer than 90 characters";
      return null;
    }
    if (!address.equals(address.toLowerCase(Locale.ROOT))
        && !address.equals(address.toUpperCase(Locale.ROOT))) {
      reason[0] = "bech32 address mixes upper and lower case";
      return null;
    }
    String text = address.toLowerCase(Locale.ROOT);
    int sep = text.lastIndexOf('1');
    if (sep < 1 || sep + 7 > text.length()) {
      reason[0] = "not a bech32 address";
      return null;
    }
    if (!text.substring(0, sep).equals(hrp)) {
      reason[0] =
          "bech32 prefix '" + text.substring(0, sep) + "' is not this network's '" + hrp + "'";
      return null;
    }
    int[] data = new int[text.length() - sep - 1];
    for (int i = 0; i < data.length; i++) {
      int v = CHARSET.indexOf(text.charAt(sep + 1 + i));
      if (v < 0) {
        reason[0] = "invalid bech32 character '" + text.charAt(sep + 1 + i) + "'";
        return null;
      }
      data[i] = v;
    }
    int check = polymod(hrp, data);
    if (check != BECH32_CONST && check != BECH32M_CONST) {
      reason[0] = "bech32 checksum mismatch";
      return null;
    }
    int version = data[0];
    byte[] program = convertBits(data, 1, data.length - 6);
    if (version > 16 || program == null || program.length < 2 || program.length > 40) {
      reason[0] = "invalid witness program";
      return null;
    }
    if (version == 0 && program.length != 20 && program.length != 32) {
      reason[0] = "witness v0 program must be 20 or 32 bytes";
      return null;
    }
    // BIP-350: version 0 uses bech32, every later version bech32m.
    if ((version == 0) != (check == BECH32_CONST)) {
      reason[0] = "wrong checksum variant for witness version " + version;
      return null;
    }
    return new SegwitAddress(version, program);
  }

  static String encodeSegwit(String hrp, int version, byte[] program) {
    int[] five = toFiveBit(program);
    int[] data = new int[five.length + 1];
    data[0] = version;
    System.arraycopy(five, 0, data, 1, five.length);
    int[] withChecksum = new int[data.length + 6];
    System.arraycopy(data, 0, withChecksum, 0, data.length);
    int mod = polymod(hrp, withChecksum) ^ (version == 0 ? BECH32_CONST : BECH32M_CONST);
    StringBuilder out = new StringBuilder(hrp).append('1');
    for (int i = 0; i < data.length; i++) {
      out.append(CHARSET.charAt(data[i]));
    }
    for (int i = 0; i < 6; i++) {
      out.append(CHARSET.charAt((mod >>> (5 * (5 - i))) & 31));
    }
    return out.toString();
  }

  private static int polymod(String hrp, int[] data) {
    int[] gen = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
    int chk = 1;
    int[] expanded = new int[hrp.length() * 2 + 1 + data.length];
    for (int i = 0; i < hrp.length(); i++) {
      expanded[i] = hrp.charAt(i) >> 5;
      expanded[i + hrp.length() + 1] = hrp.charAt(i) & 31;
    }
    System.arraycopy(data, 0, expanded, hrp.length() * 2 + 1, data.length);
    for (int v : expanded) {
      int top = chk >>> 25;
      chk = ((chk & 0x1ffffff) << 5) ^ v;
      for (int i = 0; i < 5; i++) {
        if (((top >>> i) & 1) == 1) {
          chk ^= gen[i];
        }
      }
    }
    return chk;
  }

  private static byte[] convertBits(int[] data, int from, int to) {
    int acc = 0;
    int bits = 0;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = from; i < to; i++) {
      acc = (acc << 5) | data[i];
      bits += 5;
      while (bits >= 8) {
        bits -= 8;
        out.write((acc >>> bits) & 0xff);
      }
    }
    // Leftover bits are padding: fewer than 5 and all zero, or the encoding is invalid.
    if (bits >= 5 || ((acc << (8 - bits)) & 0xff) != 0) {
      return null;
    }
    return out.toByteArray();
  }

  private static int[] toFiveBit(byte[] bytes) {
    int[] out = new int[(bytes.length * 8 + 4) / 5];
    int acc = 0;
    int bits = 0;
    int n = 0;
    for (byte b : bytes) {
      acc = (acc << 8) | (b & 0xff);
      bits += 8;
      while (bits >= 5) {
        bits -= 5;
        out[n++] = (acc >>> bits) & 31;
      }
    }
    if (bits > 0) {
      out[n++] = (acc << (5 - bits)) & 31;
    }
    return out;
  }
}
