package io.txgw.consumer.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.txgw.common.address.Keccak;
import io.txgw.common.json.Json;
import io.txgw.consumer.rpc.Rpc;
import io.txgw.consumer.rpc.RpcException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * An Ethereum node and its chain, in memory and deterministic: accounts with balances and nonces, a
 * pool, blocks mined when the simulation says (or at once, like anvil's automine), receipts, and
 * the ways real nodes differ: how they word a refusal, whether they answer a known transaction with
 * its hash, whether they offer a development method to drop a pooled transaction. Faults are drawn
 * from the run's random source: a call refused before it reaches the node, throttled, timed out
 * before or after the node acted, or the calling process killed before or after the node acted.
 *
 * <p>"Signing" packs the transaction's fields into the raw bytes; the txid is their Keccak hash,
 * exactly as the sender computes it.
 */
final class SimEthNode implements Rpc {
  /** Addresses that hold code: a native transfer to them is refused unless a client allows it. */
  private final java.util.Set<String> contracts = new java.util.HashSet<>();

  /** Makes {@code address} a contract. */
  void deployContractAt(String address) {
    contracts.add(address.toLowerCase(java.util.Locale.ROOT));
  }

  boolean isContract(String address) {
    return contracts.contains(address.toLowerCase(java.util.Locale.ROOT));
  }

  /** How a real node words things and what it offers. */
  enum Dialect {
    GETH(
        "already known",
        "nonce too low",
        "replacement transaction underpriced",
        "insufficient funds for gas * price + value",
        false,
        false),
    BESU(
        "Known transaction",
        "Nonce too low",
        "Replacement transaction underpriced",
        "Upfront cost exceeds account balance",
        false,
        false),
    NETHERMIND(
        "AlreadyKnown", "OldNonce", "ReplacementNotAllowed", "InsufficientFunds", false, false),
    ERIGON(
        "already known",
        "nonce too low",
        "could not replace existing tx",
        "insufficient funds for gas * price + value: balance 0",
        false,
        false),
    ANVIL(
        "transaction already imported",
        "nonce too low",
        "replacement transaction underpriced",
        "Insufficient funds for gas * price + value",
        false,
        true),
    /** Answers a transaction it already holds with its hash, like ganache. */
    GANACHE(
        "the tx doesn't have the correct nonce",
        "the tx doesn't have the correct nonce",
        "transaction can't be replaced, mining has already started",
        "sender doesn't have enough funds to send tx",
        true,
        false);

    final String known;
    final String nonceLow;
    final String underpriced;
    final String funds;
    final boolean knownAnswersHash;
    final boolean canDrop;

    Dialect(
        String known,
        String nonceLow,
        String underpriced,
        String funds,
        boolean knownAnswersHash,
        boolean canDrop) {
      this.known = known;
      this.nonceLow = nonceLow;
      this.underpriced = underpriced;
      this.funds = funds;
      this.knownAnswersHash = knownAnswersHash;
      this.canDrop = canDrop;
    }
  }

  /**
   * The probability of each fault on one call while faults are on. {@code lagging}: a read is
   * answered by a node in rotation that is up to {@link #MAX_LAG} behind the best one.
   */
  record Faults(
      double refused,
      double throttled,
      double lostRequest,
      double lostAnswer,
      double crashBefore,
      double crashAfter,
      double lagging) {
    static final Faults NONE = new Faults(0, 0, 0, 0, 0, 0, 0);

    /** Without lagging reads. */
    Faults(
        double refused,
        double throttled,
        double lostRequest,
        double lostAnswer,
        double crashBefore,
        double crashAfter) {
      this(refused, throttled, lostRequest, lostAnswer, crashBefore, crashAfter, 0);
    }
  }

  /** How far behind a node may be and stay in rotation: the pool's health check drops it. */
  static final java.time.Duration MAX_LAG = java.time.Duration.ofSeconds(20);

  /** A transaction as the node decodes it from its raw bytes. */
  record Tx(
      String txid,
      String raw,
      String from,
      String to,
      BigInteger value,
      long nonce,
      BigInteger gasPrice) {
    BigInteger cost() {
      return value.add(gasPrice.multiply(BigInteger.valueOf(GAS)));
    }
  }

  /** A transfer the chain made. */
  record Transfer(String txid, String from, String to, BigInteger value, long block) {}

  static final long GAS = 21_000;
  private static final HexFormat HEX = HexFormat.of();

  private final Random random;
  private final Dialect dialect;
  private final boolean automine;
  private final Consumer<String> trace;
  private Faults faults = Faults.NONE;

  private final Map<String, BigInteger> balances = new HashMap<>();
  private final Map<String, Long> nonces = new HashMap<>();
  private final Map<String, Tx> pool = new LinkedHashMap<>();
  private final Map<String, Transfer> receipts = new HashMap<>();
  private final List<Transfer> transfers = new ArrayList<>();
  private long block;
  private int foreign;
  private final java.util.function.Supplier<java.time.Instant> now;

  /** When each block was mined, by number; block 0 is the start. */
  private final List<java.time.Instant> blockTimes = new ArrayList<>();

  /** The block a lagging node answers from on this call; the head when it does not lag. */
  private long view;

  SimEthNode(Random random, Dialect dialect, boolean automine, Consumer<String> trace) {
    this(random, dialect, automine, trace, () -> java.time.Instant.EPOCH);
  }

  /**
   * @param now the simulation's clock, which lagging answers are measured against
   */
  SimEthNode(
      Random random,
      Dialect dialect,
      boolean automine,
      Consumer<String> trace,
      java.util.function.Supplier<java.time.Instant> now) {
    this.now = now;
    blockTimes.add(java.time.Instant.MIN);
    this.random = random;
    this.dialect = dialect;
    this.automine = automine;
    this.trace = trace;
  }

  void faults(Faults faults) {
    this.faults = faults;
  }

  void fund(String account, BigInteger wei) {
    balances.put(key(account), wei);
  }

  BigInteger balance(String account) {
    return balances.getOrDefault(key(account), BigInteger.ZERO);
  }

  /** Every transfer the chain made, in block order. */
  List<Transfer> transfers() {
    return List.copyOf(transfers);
  }

  int poolSize() {
    return pool.size();
  }

  @Override
  public String name() {
    return "sim-" + dialect.name().toLowerCase(java.util.Locale.ROOT);
  }

  @Override
  public JsonNode rest(String httpMethod, String path, JsonNode body) throws RpcException {
    throw new RpcException(RpcException.Kind.NODE_ERROR, -32601, 404, "no REST API", null);
  }

  @Override
  public JsonNode call(String method, ArrayNode params) throws RpcException {
    double draw = random.nextDouble();
    double at = faults.refused();
    if (draw < at) {
      throw new RpcException(RpcException.Kind.CONNECT_FAILED, null, 0, "connection refused", null);
    }
    if (draw < (at += faults.throttled())) {
      throw new RpcException(RpcException.Kind.RATE_LIMITED, -32005, 429, "rate limited", null);
    }
    if (draw < (at += faults.lostRequest())) {
      throw new RpcException(RpcException.Kind.TIMEOUT, null, 0, "timeout before the node", null);
    }
    if (draw < (at += faults.crashBefore())) {
      throw new SimCrash("before " + method);
    }
    view = block;
    if (random.nextDouble() < faults.lagging()) {
      java.time.Instant seen =
          now.get()
              .minus(java.time.Duration.ofMillis(1 + random.nextInt((int) MAX_LAG.toMillis())));
      while (view > 0 && blockTimes.get((int) view).isAfter(seen)) {
        view--;
      }
    }
    JsonNode result = act(method, params);
    if (draw < (at += faults.lostAnswer())) {
      trace.accept("eth: answer to " + method + " lost");
      throw new RpcException(RpcException.Kind.TIMEOUT, null, 0, "answer lost", null);
    }
    if (draw < at + faults.crashAfter()) {
      throw new SimCrash("after " + method);
    }
    return result;
  }

  private JsonNode act(String method, ArrayNode params) throws RpcException {
    return switch (method) {
      case "eth_gasPrice" -> text(hex(BigInteger.ONE));
      case "eth_signTransaction" -> text(sign(params.get(0)));
      case "eth_sendRawTransaction" -> text(send(params.get(0).asText()));
      case "eth_getTransactionReceipt" -> receipt(params.get(0).asText());
      case "eth_getTransactionCount" ->
          text(
              hex(
                  BigInteger.valueOf(
                      "pending".equals(params.get(1).asText())
                          ? pendingCount(params.get(0).asText())
                          : nonceAt(params.get(0).asText(), view))));
      case "eth_getBalance" -> text(hex(balance(params.get(0).asText())));
      case "eth_getCode" ->
          text(
              contracts.contains(params.get(0).asText().toLowerCase(java.util.Locale.ROOT))
                  ? "0x6080604052"
                  : "0x");
      case "eth_getTransactionByHash" -> byHash(params.get(0).asText());
      case "anvil_dropTransaction" -> {
        if (!dialect.canDrop) {
          throw error(-32601, "the method anvil_dropTransaction does not exist");
        }
        Tx dropped = pool.remove(params.get(0).asText());
        trace.accept("eth: dropped " + (dropped == null ? "nothing" : short_(dropped.txid())));
        yield Json.mapper().nullNode();
      }
      default -> throw error(-32601, "the method " + method + " does not exist");
    };
  }

  private String sign(JsonNode tx) {
    String fields =
        String.join(
            "|",
            key(tx.path("from").asText()),
            key(tx.path("to").asText()),
            quantity(tx.path("value")).toString(),
            quantity(tx.path("nonce")).toString(),
            quantity(tx.path("gasPrice")).toString());
    return "0x" + HEX.formatHex(fields.getBytes(StandardCharsets.UTF_8));
  }

  private static Tx decode(String raw) {
    byte[] bytes = HEX.parseHex(raw.substring(2));
    String[] f = new String(bytes, StandardCharsets.UTF_8).split("\\|");
    String txid = "0x" + HEX.formatHex(Keccak.hash256(bytes));
    return new Tx(
        txid, raw, f[0], f[1], new BigInteger(f[2]), Long.parseLong(f[3]), new BigInteger(f[4]));
  }

  private String send(String raw) throws RpcException {
    Tx tx = decode(raw);
    if (receipts.containsKey(tx.txid())) {
      throw error(-32000, dialect.nonceLow);
    }
    if (pool.containsKey(tx.txid())) {
      if (dialect.knownAnswersHash) {
        return tx.txid();
      }
      throw error(-32000, dialect.known);
    }
    if (tx.nonce() < nonce(tx.from())) {
      throw error(-32000, dialect.nonceLow);
    }
    for (Tx other : pool.values()) {
      if (other.from().equals(tx.from()) && other.nonce() == tx.nonce()) {
        throw error(-32000, dialect.underpriced);
      }
    }
    if (balance(tx.from()).compareTo(tx.cost()) < 0) {
      throw error(-32000, dialect.funds);
    }
    pool.put(tx.txid(), tx);
    trace.accept("eth: pooled " + short_(tx.txid()) + " nonce " + tx.nonce());
    if (automine) {
      mine(Integer.MAX_VALUE);
    }
    return tx.txid();
  }

  /** Mines one block of at most {@code max} executable pool transactions. */
  void mine(int max) {
    block++;
    blockTimes.add(now.get());
    int mined = 0;
    boolean progress = true;
    while (progress && mined < max) {
      progress = false;
      for (Tx tx : List.copyOf(pool.values())) {
        if (mined >= max) {
          break;
        }
        if (tx.nonce() != nonce(tx.from())) {
          continue;
        }
        pool.remove(tx.txid());
        if (balance(tx.from()).compareTo(tx.cost()) < 0) {
          // A pool drops what its sender can no longer pay for.
          trace.accept("eth: evicted unpayable " + short_(tx.txid()));
          continue;
        }
        apply(tx);
        mined++;
        progress = true;
      }
    }
    // Transactions whose nonce the chain has used can never be mined.
    pool.values().removeIf(tx -> tx.nonce() < nonce(tx.from()));
  }

  private void apply(Tx tx) {
    balances.put(tx.from(), balance(tx.from()).subtract(tx.cost()));
    balances.put(tx.to(), balance(tx.to()).add(tx.value()));
    nonces.put(tx.from(), nonce(tx.from()) + 1);
    Transfer t = new Transfer(tx.txid(), tx.from(), tx.to(), tx.value(), block);
    receipts.put(tx.txid(), t);
    transfers.add(t);
    trace.accept("eth: mined " + short_(tx.txid()) + " nonce " + tx.nonce() + " block " + block);
  }

  /** The pool forgets one transaction, as a full or restarted node's pool does. */
  void evictOne() {
    if (pool.isEmpty()) {
      return;
    }
    List<String> ids = new ArrayList<>(pool.keySet());
    String id = ids.get(random.nextInt(ids.size()));
    pool.remove(id);
    trace.accept("eth: evicted " + short_(id));
  }

  /**
   * Someone else spends from the account at its next nonce and it is mined at once: a transaction
   * of ours waiting on that nonce can never be mined.
   */
  void foreignSpend(String account) {
    String from = key(account);
    BigInteger gasPrice = BigInteger.ONE;
    Tx tx =
        new Tx(
            "0xforeign" + (++foreign),
            "",
            from,
            "0xf0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0",
            BigInteger.ONE,
            nonce(from),
            gasPrice);
    if (balance(from).compareTo(tx.cost()) < 0) {
      return;
    }
    block++;
    blockTimes.add(now.get());
    apply(tx);
    pool.values().removeIf(t -> t.nonce() < nonce(t.from()));
  }

  private JsonNode receipt(String txid) {
    Transfer t = receipts.get(txid);
    if (t == null || t.block() > view) {
      return Json.mapper().nullNode();
    }
    ObjectNode r = Json.mapper().createObjectNode();
    r.put("transactionHash", txid);
    r.put("status", "0x1");
    r.put("blockNumber", hex(BigInteger.valueOf(t.block())));
    return r;
  }

  private JsonNode byHash(String txid) {
    Transfer t = receipts.get(txid);
    if (t != null && t.block() > view) {
      t = null;
    }
    Tx pooled = pool.get(txid);
    if (t == null && pooled == null) {
      return Json.mapper().nullNode();
    }
    ObjectNode r = Json.mapper().createObjectNode();
    r.put("hash", txid);
    if (t != null) {
      r.put("blockNumber", hex(BigInteger.valueOf(t.block())));
    } else {
      r.putNull("blockNumber");
    }
    return r;
  }

  private long nonce(String account) {
    return nonces.getOrDefault(key(account), 0L);
  }

  /** The account's nonce as of block {@code at}: its transactions mined up to it. */
  private long nonceAt(String account, long at) {
    if (at >= block) {
      return nonce(account);
    }
    String from = key(account);
    return transfers.stream().filter(t -> t.from().equals(from) && t.block() <= at).count();
  }

  private long pendingCount(String account) {
    long n = nonce(account);
    boolean found = true;
    while (found) {
      found = false;
      for (Tx tx : pool.values()) {
        if (tx.from().equals(key(account)) && tx.nonce() == n) {
          n++;
          found = true;
        }
      }
    }
    return n;
  }

  private RpcException error(int code, String message) {
    return new RpcException(RpcException.Kind.NODE_ERROR, code, 200, message, null);
  }

  private static String key(String account) {
    return account.toLowerCase(java.util.Locale.ROOT);
  }

  private static BigInteger quantity(JsonNode node) {
    return new BigInteger(node.asText().substring(2), 16);
  }

  private static String hex(BigInteger value) {
    return "0x" + value.toString(16);
  }

  private static JsonNode text(String value) {
    return Json.mapper().getNodeFactory().textNode(value);
  }

  static String short_(String txid) {
    return txid.length() > 12 ? txid.substring(0, 12) : txid;
  }
}
