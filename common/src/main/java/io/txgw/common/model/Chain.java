package io.txgw.common.model;

/** A chain family the gateway pays on, with its native coin. */
public enum Chain {
  BTC(new Asset("BTC", 8, null)),
  ETH(new Asset("ETH", 18, null));

  private final Asset nativeAsset;

  Chain(Asset nativeAsset) {
    this.nativeAsset = nativeAsset;
  }

  /** The chain's own coin; token assets (ERC-20) carry a contract address instead. */
  public Asset nativeAsset() {
    return nativeAsset;
  }

  /** Parses a chain name case-insensitively, or returns null for an unknown one. */
  public static Chain parse(String name) {
    if (name == null) {
      return null;
    }
    for (Chain chain : values()) {
      if (chain.name().equalsIgnoreCase(name.trim())) {
        return chain;
      }
    }
    return null;
  }
}
