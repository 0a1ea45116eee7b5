package io.txgw.common.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The token assets a deployment pays, per chain, beside each chain's native coin: symbol, contract,
 * decimals and the largest single payout. Gateways and consumers read the same list ({@code
 * TXGW_ASSETS}); a batch naming an asset not in it is refused, and a consumer pays a token payout
 * only if its own list has the asset with the same contract and decimals.
 *
 * <p>Bounded: at most {@link #MAX_ASSETS} entries.
 */
public final class AssetRegistry {
  public static final int MAX_ASSETS = 256;

  /** A configured token and the largest single payout of it. */
  public record Token(Asset asset, Amount maxPerPayout) {}

  private static final Pattern SYMBOL = Pattern.compile("[A-Z0-9]{1,11}");
  private static final Pattern ETH_ADDRESS = Pattern.compile("0x[0-9a-fA-F]{40}");

  private final Map<Chain, Map<String, Token>> tokens;

  private AssetRegistry(Map<Chain, Map<String, Token>> tokens) {
    this.tokens = tokens;
  }

  public static final AssetRegistry NONE = new AssetRegistry(new EnumMap<>(Chain.class));

  /**
   * Reads {@code CHAIN:SYMBOL=contract:decimals:maxPerPayout} entries, comma- or line-separated,
   * e.g. {@code ETH:USDC=0xA0b8...eB48:6:1000000}. Only Ethereum has tokens.
   *
   * @throws IllegalArgumentException naming every bad entry
   */
  public static AssetRegistry parse(String text) {
    Map<Chain, Map<String, Token>> out = new EnumMap<>(Chain.class);
    if (text == null || text.isBlank()) {
      return new AssetRegistry(out);
    }
    List<String> problems = new ArrayList<>();
    int count = 0;
    for (String raw : text.split("[,\\n]")) {
      String entry = raw.trim();
      if (entry.isEmpty()) {
        continue;
      }
      if (++count > MAX_ASSETS) {
        problems.add("more than " + MAX_ASSETS + " assets");
        break;
      }
      String[] keyValue = entry.split("=", 2);
      String[] key = keyValue[0].split(":", 2);
      String[] value = keyValue.length == 2 ? keyValue[1].split(":", -1) : new String[0];
      if (key.length != 2 || value.length != 3) {
        problems.add(entry + ": expected CHAIN:SYMBOL=contract:decimals:maxPerPayout");
        continue;
      }
      Chain chain = Chain.parse(key[0].trim());
      String symbol = key[1].trim().toUpperCase(Locale.ROOT);
      if (chain != Chain.ETH) {
        problems.add(entry + ": only ETH has token assets");
        continue;
      }
      if (!SYMBOL.matcher(symbol).matches()) {
        problems.add(entry + ": a symbol is 1-11 of A-Z 0-9");
        continue;
      }
      if (isNativeSymbol(symbol)) {
        problems.add(entry + ": " + symbol + " is a native coin's symbol");
        continue;
      }
      String contract = value[0].trim();
      if (!ETH_ADDRESS.matcher(contract).matches()) {
        problems.add(entry + ": the contract must be a 0x address of 40 hex digits");
        continue;
      }
      int decimals;
      Amount max;
      try {
        decimals = Integer.parseInt(value[1].trim());
        max = Amount.parse(value[2].trim());
      } catch (IllegalArgumentException e) {
        problems.add(entry + ": decimals and maximum must be numbers");
        continue;
      }
      if (decimals < 0 || decimals > 36 || !max.isPositive() || max.scale() > decimals) {
        problems.add(entry + ": decimals 0-36, a positive maximum within them");
        continue;
      }
      Map<String, Token> ofChain = out.computeIfAbsent(chain, c -> new TreeMap<>());
      Token token = new Token(new Asset(symbol, decimals, contract.toLowerCase(Locale.ROOT)), max);
      boolean sameContract =
          ofChain.values().stream()
              .anyMatch(t -> t.asset().contract().equals(token.asset().contract()));
      if (ofChain.put(symbol, token) != null) {
        problems.add(entry + ": " + symbol + " is listed twice");
      } else if (sameContract) {
        // Two symbols for one contract would split its limits in two.
        problems.add(entry + ": its contract is listed under another symbol");
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(String.join("; ", problems));
    }
    return new AssetRegistry(out);
  }

  private static boolean isNativeSymbol(String symbol) {
    for (Chain c : Chain.values()) {
      if (c.nativeAsset().symbol().equals(symbol)) {
        return true;
      }
    }
    return false;
  }

  /** The token {@code symbol} on {@code chain}, or null when none is configured. */
  public Token find(Chain chain, String symbol) {
    if (symbol == null) {
      return null;
    }
    return tokens.getOrDefault(chain, Map.of()).get(symbol.toUpperCase(Locale.ROOT));
  }

  /** The tokens configured for {@code chain}. */
  public java.util.Collection<Token> tokens(Chain chain) {
    return Collections.unmodifiableCollection(tokens.getOrDefault(chain, Map.of()).values());
  }

  /** The symbols a chain's batches may name: its native coin's and its tokens'. */
  public Set<String> symbols(Chain chain) {
    Set<String> out = new TreeSet<>();
    out.add(chain.nativeAsset().symbol());
    out.addAll(tokens.getOrDefault(chain, Map.of()).keySet());
    return Collections.unmodifiableSet(out);
  }

  /** Every symbol a limit may be set for: native coins' and tokens'. */
  public Set<String> allSymbols() {
    Set<String> out = new TreeSet<>();
    for (Chain c : Chain.values()) {
      out.addAll(symbols(c));
    }
    return Collections.unmodifiableSet(out);
  }

  @Override
  public String toString() {
    return "AssetRegistry" + tokens;
  }
}
