package io.txgw.common.security;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.address.AddressCodec;
import io.txgw.common.json.Json;
import io.txgw.common.model.Address;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Every client's {@link ClientPolicy}, read from one JSON file that gateways and consumers share:
 *
 * <pre>{@code
 * {"clients": {
 *   "acme": {
 *     "spend": ["ETH:0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "BTC:primary"],
 *     "maxBatchTotal": {"ETH": "500", "BTC": "10"},
 *     "maxDailyTotal": {"ETH": "2000"},
 *     "approveAbove": {"ETH": "100"},
 *     "deny": ["0x0000000000000000000000000000000000000bad"],
 *     "allow": null,
 *     "contractRecipients": false
 *   }}}
 * }</pre>
 *
 * A client that is not named may spend from nothing. Addresses are checked and kept in canonical
 * form, so that a deny list entry in another letter case still matches.
 */
public final class ClientPolicies {
  /** The most entries one list of one client may hold: the file is read into memory. */
  public static final int MAX_LIST_ENTRIES = 100_000;

  private final Map<String, ClientPolicy> byClient;

  private static final Set<String> KNOWN_ASSETS =
      java.util.Arrays.stream(Chain.values())
          .map(c -> c.nativeAsset().symbol())
          .collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new));

  public ClientPolicies(Map<String, ClientPolicy> byClient) {
    this.byClient = Map.copyOf(byClient);
  }

  /** The client's policy; one that is not named has no rights at all. */
  public ClientPolicy of(String client) {
    ClientPolicy p = byClient.get(client);
    return p != null
        ? p
        : new ClientPolicy(client, Set.of(), Map.of(), Map.of(), Set.of(), null, false);
  }

  public int size() {
    return byClient.size();
  }

  /**
   * Reads the policy file.
   *
   * @throws IllegalArgumentException listing each problem of the file
   */
  public static ClientPolicies load(Path file, AddressCodec addresses) {
    return load(file, addresses, KNOWN_ASSETS);
  }

  /** Reads the policy file, whose limits may name {@code known} assets. */
  public static ClientPolicies load(Path file, AddressCodec addresses, Set<String> known) {
    try {
      return parse(Files.readAllBytes(file), addresses, known);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage());
    }
  }

  public static ClientPolicies parse(byte[] json, AddressCodec addresses) {
    return parse(json, addresses, KNOWN_ASSETS);
  }

  public static ClientPolicies parse(byte[] json, AddressCodec addresses, Set<String> known) {
    JsonNode root;
    try (JsonParser parser = Json.mapper().getFactory().createParser(json)) {
      parser.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
      root = Json.mapper().readTree(parser);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "not valid JSON: "
              + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j
                  ? j.getOriginalMessage()
                  : e.getMessage()));
    }
    List<String> problems = new ArrayList<>();
    JsonNode clients = root == null ? null : root.get("clients");
    if (clients == null || !clients.isObject()) {
      throw new IllegalArgumentException("expected an object {\"clients\": {...}}");
    }
    Map<String, ClientPolicy> byClient = new HashMap<>();
    for (Map.Entry<String, JsonNode> e : clients.properties()) {
      ClientPolicy p = client(e.getKey(), e.getValue(), addresses, known, problems);
      if (p != null) {
        byClient.put(e.getKey(), p);
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(String.join("; ", problems));
    }
    return new ClientPolicies(byClient);
  }

  private static ClientPolicy client(
      String client,
      JsonNode node,
      AddressCodec addresses,
      Set<String> assets,
      List<String> problems) {
    if (!node.isObject()) {
      problems.add(client + ": expected an object");
      return null;
    }
    if (client.isEmpty() || client.contains("/") || client.contains(":")) {
      // An API key names its client and person as client/person:scopes.
      problems.add(client + ": a client's name has no '/' or ':'");
    }
    Set<String> known =
        Set.of(
            "spend",
            "maxBatchTotal",
            "maxDailyTotal",
            "approveAbove",
            "deny",
            "allow",
            "contractRecipients");
    node.fieldNames()
        .forEachRemaining(
            f -> {
              if (!known.contains(f)) {
                problems.add(client + ": unknown field " + f);
              }
            });
    Set<String> spend = new HashSet<>();
    for (String right : strings(client, "spend", node.get("spend"), problems)) {
      Optional<String> canonical = canonicalRight(right, addresses, assets);
      if (canonical.isEmpty()) {
        problems.add(
            client
                + ": spend entry "
                + right
                + " is not CHAIN:source (an ETH address or wallet) or ETH:address:TOKEN (a token of"
                + " TXGW_ASSETS)");
      } else {
        spend.add(canonical.get());
      }
    }
    Map<String, Amount> caps =
        caps(client, "maxBatchTotal", node.get("maxBatchTotal"), assets, problems);
    Map<String, Amount> daily =
        caps(client, "maxDailyTotal", node.get("maxDailyTotal"), assets, problems);
    Map<String, Amount> approveAbove =
        caps(client, "approveAbove", node.get("approveAbove"), assets, problems);
    Set<String> deny = recipients(client, "deny", node.get("deny"), addresses, problems);
    JsonNode allowNode = node.get("allow");
    Set<String> allow =
        allowNode == null || allowNode.isNull()
            ? null
            : recipients(client, "allow", allowNode, addresses, problems);
    JsonNode contracts = node.get("contractRecipients");
    if (contracts != null && !contracts.isNull() && !contracts.isBoolean()) {
      problems.add(client + ": contractRecipients must be true or false");
    }
    boolean payContracts = contracts != null && contracts.asBoolean(false);
    return new ClientPolicy(client, spend, caps, daily, deny, allow, payContracts, approveAbove);
  }

  private static Map<String, Amount> caps(
      String client, String field, JsonNode max, Set<String> known, List<String> problems) {
    Map<String, Amount> caps = new HashMap<>();
    if (max == null || max.isNull()) {
      return caps;
    }
    if (!max.isObject()) {
      problems.add(client + ": " + field + " must map an asset to an amount");
      return caps;
    }
    max.properties()
        .forEach(
            cap -> {
              String asset = cap.getKey().toUpperCase(Locale.ROOT);
              if (!known.contains(asset)) {
                // A misspelt asset would make its limit apply to nothing, silently.
                problems.add(
                    client + ": " + field + " " + cap.getKey() + ": not an asset (" + known + ")");
                return;
              }
              try {
                Amount amount = Amount.parse(cap.getValue().asText());
                if (!amount.isPositive()) {
                  throw new IllegalArgumentException("must be greater than zero");
                }
                caps.put(asset, amount);
              } catch (IllegalArgumentException bad) {
                problems.add(client + ": " + field + " " + asset + ": " + bad.getMessage());
              }
            });
    return caps;
  }

  private static Optional<String> canonicalRight(
      String right, AddressCodec addresses, Set<String> assets) {
    int colon = right.indexOf(':');
    Chain chain = colon <= 0 ? null : Chain.parse(right.substring(0, colon));
    if (chain == null) {
      return Optional.empty();
    }
    String source = right.substring(colon + 1);
    if (chain == Chain.ETH) {
      String token = null;
      int second = source.indexOf(':');
      if (second >= 0) {
        // ETH:address:TOKEN: the right to pay one listed token from the address.
        token = source.substring(second + 1).toUpperCase(Locale.ROOT);
        source = source.substring(0, second);
        String symbol = token;
        boolean coin =
            java.util.Arrays.stream(Chain.values())
                .anyMatch(c -> c.nativeAsset().symbol().equals(symbol));
        if (!assets.contains(token) || coin) {
          return Optional.empty();
        }
      }
      AddressCodec.Decoded d = addresses.decode(chain, source);
      String canonical = d.valid() ? ClientPolicy.right(chain, d.address().value()) : null;
      return canonical == null
          ? Optional.empty()
          : Optional.of(token == null ? canonical : canonical + ":" + token);
    }
    return source.matches("[A-Za-z0-9._-]{1,64}") && !source.equals(".") && !source.equals("..")
        ? Optional.of(ClientPolicy.right(chain, source))
        : Optional.empty();
  }

  private static Set<String> recipients(
      String client, String field, JsonNode node, AddressCodec addresses, List<String> problems) {
    Set<String> out = new HashSet<>();
    for (String text : strings(client, field, node, problems)) {
      // A recipient list names addresses of either chain: whichever decodes is the canonical one.
      Address address = canonicalAddress(text, addresses);
      if (address == null) {
        problems.add(client + ": " + field + " entry " + text + " is not a valid address");
      } else {
        out.add(address.value());
      }
    }
    return out;
  }

  /** The canonical form of an address of either chain, or null. */
  public static Address canonicalAddress(String text, AddressCodec addresses) {
    for (Chain chain : Chain.values()) {
      AddressCodec.Decoded d = addresses.decode(chain, text);
      if (d.valid()) {
        return d.address();
      }
    }
    return null;
  }

  private static List<String> strings(
      String client, String field, JsonNode node, List<String> problems) {
    List<String> out = new ArrayList<>();
    if (node == null || node.isNull()) {
      return out;
    }
    if (!node.isArray()) {
      problems.add(client + ": " + field + " must be a list of strings");
      return out;
    }
    if (node.size() > MAX_LIST_ENTRIES) {
      problems.add(client + ": " + field + " has more than " + MAX_LIST_ENTRIES + " entries");
      return out;
    }
    for (JsonNode n : node) {
      if (!n.isTextual()) {
        problems.add(client + ": " + field + " must be a list of strings");
        return out;
      }
      out.add(n.asText());
    }
    return out;
  }

  @Override
  public String toString() {
    return "ClientPolicies[" + byClient.size() + " clients]";
  }
}
