package io.txgw.common.address;

/**
 * Address prefixes of the Bitcoin networks the gateway accepts payouts for. An address is checked
 * against exactly one configured network: a mainnet address posted to a regtest gateway is an
 * error, not a payout.
 */
public enum BitcoinNetwork {
  MAIN(0x00, 0x05, "bc"),
  TESTNET(0x6f, 0xc4, "tb"),
  /** Bitcoin Core's regtest. */
  REGTEST(0x6f, 0xc4, "bcrt"),
  /** bcoin's regtest, which uses prefixes of its own ({@code R...}, {@code rb1...}). */
  BCOIN_REGTEST(0x3c, 0x26, "rb");

  private final int pubKeyHashVersion;
  private final int scriptHashVersion;
  private final String bech32Hrp;

  BitcoinNetwork(int pubKeyHashVersion, int scriptHashVersion, String bech32Hrp) {
    this.pubKeyHashVersion = pubKeyHashVersion;
    this.scriptHashVersion = scriptHashVersion;
    this.bech32Hrp = bech32Hrp;
  }

  public int pubKeyHashVersion() {
    return pubKeyHashVersion;
  }

  public int scriptHashVersion() {
    return scriptHashVersion;
  }

  public String bech32Hrp() {
    return bech32Hrp;
  }
}
