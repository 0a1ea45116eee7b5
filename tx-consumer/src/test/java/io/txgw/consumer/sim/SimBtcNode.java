package io.txgw.consumer.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.txgw.common.json.Json;
import io.txgw.consumer.rpc.Rpc;
import io.txgw.consumer.rpc.RpcException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Bitcoin node with its wallet, in memory and deterministic: a chain of blocks over a UTXO set, a
 * mempool, and one wallet ("primary") with a few confirmed coins, locked coins and change. It
 * answers exactly what {@code BcoinSender} and {@code BitcoinCoreSender} ask, in the shapes and
 * error codes of the dialect it plays, including what makes those nodes hard to trust: bcoin
 * answers {@code sendrawtransaction} with the txid whatever its mempool decides, and may show a
 * transaction it has just taken only a few look-ups later. Faults are drawn from the run's random
 * source exactly as in {@link SimEthNode}, lagging reads included: a read may be answered as of an
 * older block, by a node in rotation up to {@link SimEthNode#MAX_LAG} behind.
 *
 * <p>Raw bytes are the hex of a canonical text of the inputs and outputs (and whether the wallet
 * signed); the txid is their double SHA-256, so the same bytes always carry the same txid.
 *
 * <p>Blocks are linked by their previous block's hash and read as the dialect shapes them ({@code
 * getbestblockhash}, {@code getblockcount}, {@code getblockhash}, {@code getblock}); {@link #reorg}
 * takes blocks off the tip. Block 0 is an empty genesis and block 1 holds the wallet's funding (its
 * only transaction without inputs); neither is ever taken off. A lagging node knows a shorter
 * prefix of the current chain: it never answers from a chain a reorganisation has left.
 */
final class SimBtcNode implements Rpc {
  /** Which node plays: bcoin (a wallet REST API, a node that lies) or Bitcoin Core. */
  enum Dialect {
    BCOIN,
    CORE
  }

  /** A transaction output by its place. */
  record Outpoint(String txid, int index) {
    @Override
    public String toString() {
      return SimEthNode.short_(txid) + ":" + index;
    }
  }

  record Output(String address, long sats) {}

  /** A transaction as the node decodes it from its raw bytes. */
  record Tx(String txid, String hex, boolean signed, List<Outpoint> inputs, List<Output> outputs) {
    long paid() {
      return outputs.stream().mapToLong(Output::sats).sum();
    }
  }

  /** An unspent output; {@code block} 0 while its transaction is unconfirmed. */
  record Coin(String address, long sats, long block) {}

  /** An output the chain paid to an address outside the wallet. */
  record Transfer(String txid, String address, long sats, long block) {}

  /**
   * A block: on the chain at {@code height}, or taken off it by a reorganisation and still known by
   * its hash, as both nodes keep a side-chain block.
   */
  record Block(long height, String hash, String previous, List<Tx> txs, Instant time) {}

  private static final String ZERO_HASH = "0".repeat(64);

  private record Refusal(int code, String message) {}

  private record Funding(List<Outpoint> inputs, List<Output> outputs, int changePosition) {}

  static final long FEE_SATS = 500;

  /** bcoin's and Core's dust threshold for a P2WPKH output at the default relay fee. */
  static final long DUST_SATS = 294;

  /** Core's and bcoin's default limit on unconfirmed ancestors, the transaction included. */
  static final int MAX_ANCESTORS = 25;

  private static final int FUNDING_COINS = 4;
  private static final String WALLET = "primary";
  private static final String RECEIVE_ADDRESS = "rb1qsimwalletreceive0";
  private static final Set<String> CORE_WALLET_METHODS =
      Set.of(
          "fundrawtransaction",
          "signrawtransactionwithwallet",
          "gettransaction",
          "listlockunspent",
          "lockunspent",
          "getrawchangeaddress");
  private static final Pattern CREATE = Pattern.compile("/wallet/([^/]+)/create");
  private static final Pattern LOCK = Pattern.compile("/wallet/([^/]+)/locked/([0-9a-f]+)/(\\d+)");
  private static final Pattern LOCKED = Pattern.compile("/wallet/([^/]+)/locked");
  private static final Pattern COIN = Pattern.compile("/wallet/([^/]+)/coin/([0-9a-f]+)/(\\d+)");
  private static final Pattern SIGN = Pattern.compile("/wallet/([^/]+)/sign");
  private static final Pattern CHANGE = Pattern.compile("/wallet/([^/]+)/change");
  private static final java.util.HexFormat HEX = java.util.HexFormat.of();

  private final Random random;
  private final Dialect dialect;
  private final Consumer<String> trace;
  private SimEthNode.Faults faults = SimEthNode.Faults.NONE;
  private double lateMempool;

  private final Map<String, Tx> chainTxs = new HashMap<>();
  private final Map<String, Long> heights = new HashMap<>();
  private final Map<Outpoint, Coin> utxo = new LinkedHashMap<>();
  private final Map<Outpoint, String> chainSpender = new HashMap<>();
  private final Map<String, Tx> mempool = new LinkedHashMap<>();
  private final Map<Outpoint, String> mempoolSpender = new HashMap<>();

  /** Look-ups left before bcoin shows a transaction its mempool has just taken. */
  private final Map<String, Integer> hidden = new HashMap<>();

  /** The wallet's unmined transactions it has seen: pending (even if evicted) or conflicted. */
  private final Map<String, Tx> walletTxs = new LinkedHashMap<>();

  /** Signed by the wallet and never seen by the node: the wallet does not know them. */
  private final Map<String, Tx> unsent = new LinkedHashMap<>();

  private final Set<Outpoint> locked = new LinkedHashSet<>();
  private final Set<String> walletAddresses = new HashSet<>();
  private final List<Transfer> transfers = new ArrayList<>();
  private final Supplier<Instant> now;

  /** The chain by height: genesis, the funding block, then what was mined. */
  private final List<Block> chain = new ArrayList<>();

  /** Every block ever sealed, those a reorganisation took off the chain included. */
  private final Map<String, Block> blocksByHash = new LinkedHashMap<>();

  /** What the block being mined confirms, in order. */
  private final List<Tx> building = new ArrayList<>();

  /** Sealed blocks so far: salts each block's hash, so that a block mined again differs. */
  private long sealed;

  /** Mined at once, never in any mempool: a node behind their block has not heard of them. */
  private final Set<String> foreignTxids = new HashSet<>();

  private long tip;

  /** The block this call's reads are answered as of: the tip unless the answering node lags. */
  private long view;

  private int changeAddresses;

  /** Every transaction the mempool ever took, to check what they spent in common. */
  private final Set<Tx> everPooled = new LinkedHashSet<>();

  private int foreignSpends;

  /**
   * @param walletSats what the wallet holds at start, in a few confirmed coins
   * @param trace where the node tells what it did, for a failing run's story
   */
  SimBtcNode(Random random, Dialect dialect, long walletSats, Consumer<String> trace) {
    this(random, dialect, walletSats, trace, () -> Instant.EPOCH);
  }

  /**
   * @param now the simulation's clock, which lagging reads are measured against
   */
  SimBtcNode(
      Random random,
      Dialect dialect,
      long walletSats,
      Consumer<String> trace,
      Supplier<Instant> now) {
    this(random, dialect, walletSats, FUNDING_COINS, trace, now);
  }

  /**
   * @param fundingCoins how many confirmed coins the wallet's funds come in: with many, its
   *     transactions seldom spend each other's change
   */
  SimBtcNode(
      Random random,
      Dialect dialect,
      long walletSats,
      int fundingCoins,
      Consumer<String> trace,
      Supplier<Instant> now) {
    this.now = now;
    this.random = random;
    this.dialect = dialect;
    this.trace = trace;
    walletAddresses.add(RECEIVE_ADDRESS);
    List<Output> coins = new ArrayList<>();
    long each = walletSats / fundingCoins;
    for (int i = 0; i < fundingCoins && walletSats > 0; i++) {
      long sats = i == 0 ? walletSats - each * (fundingCoins - 1) : each;
      if (sats > 0) {
        coins.add(new Output(RECEIVE_ADDRESS, sats));
      }
    }
    tip = 0;
    seal(Instant.MIN);
    tip = 1;
    view = tip;
    confirm(tx(true, List.of(), coins));
    seal(Instant.MIN);
  }

  void faults(SimEthNode.Faults faults) {
    this.faults = faults;
  }

  /** How often bcoin's mempool shows a transaction it has just taken only 1 to 3 look-ups later. */
  void lateMempool(double probability) {
    this.lateMempool = probability;
  }

  String walletName() {
    return WALLET;
  }

  Dialect dialect() {
    return dialect;
  }

  /** Every output the chain paid outside the wallet, in block order. */
  List<Transfer> transfers() {
    return List.copyOf(transfers);
  }

  int mempoolSize() {
    return mempool.size();
  }

  long height() {
    return tip;
  }

  @Override
  public String name() {
    return "sim-" + dialect.name().toLowerCase(Locale.ROOT);
  }

  @Override
  public JsonNode call(String method, ArrayNode params) throws RpcException {
    return faulted(method, () -> act(method, params));
  }

  @Override
  public JsonNode rest(String httpMethod, String path, JsonNode body) throws RpcException {
    return faulted(httpMethod + " " + path, () -> restAct(httpMethod, path, body));
  }

  private interface Action {
    JsonNode run() throws RpcException;
  }

  private JsonNode faulted(String what, Action action) throws RpcException {
    double draw = random.nextDouble();
    double at = faults.refused();
    if (draw < at) {
      throw new RpcException(RpcException.Kind.CONNECT_FAILED, null, 0, "connection refused", null);
    }
    if (draw < (at += faults.throttled())) {
      throw new RpcException(RpcException.Kind.RATE_LIMITED, null, 429, "rate limited", null);
    }
    if (draw < (at += faults.lostRequest())) {
      throw new RpcException(RpcException.Kind.TIMEOUT, null, 0, "timeout before the node", null);
    }
    if (draw < (at += faults.crashBefore())) {
      throw new SimCrash("before " + what);
    }
    view = tip;
    if (random.nextDouble() < faults.lagging()) {
      Instant seen = now.get().minusMillis(1 + random.nextInt((int) SimEthNode.MAX_LAG.toMillis()));
      while (view > 1 && chain.get((int) view).time().isAfter(seen)) {
        view--;
      }
    }
    JsonNode result = action.run();
    if (draw < (at += faults.lostAnswer())) {
      trace.accept("btc: answer to " + what + " lost");
      throw new RpcException(RpcException.Kind.TIMEOUT, null, 0, "answer lost", null);
    }
    if (draw < at + faults.crashAfter()) {
      throw new SimCrash("after " + what);
    }
    return result;
  }

  private JsonNode act(String method, ArrayNode params) throws RpcException {
    if (CORE_WALLET_METHODS.contains(method) && dialect != Dialect.CORE) {
      // bcoin signs through its REST API; a Core sender wired to it must fail loudly.
      throw error(-32601, "Method not found.");
    }
    return switch (method) {
      case "sendrawtransaction" -> send(decode(params.path(0).asText()));
      case "getrawtransaction" -> lookUp(params.path(0).asText(), params.path(1).asBoolean(false));
      case "decoderawtransaction" -> json(decode(params.path(0).asText()));
      case "gettxout" ->
          txOut(
              new Outpoint(params.path(0).asText(), params.path(1).asInt()),
              params.path(2).asBoolean(true));
      case "createrawtransaction" -> createRaw(params.path(0), params.path(1));
      case "estimatesmartfee" -> noEstimate();
      case "listlockunspent" -> lockedCoins("txid", "vout");
      case "lockunspent" -> lockUnspent(params.path(0).asBoolean(), params.path(1));
      case "getrawchangeaddress" -> text(newChangeAddress());
      case "fundrawtransaction" -> fundRaw(decode(params.path(0).asText()), params.path(1));
      case "signrawtransactionwithwallet" -> signWithWallet(decode(params.path(0).asText()));
      case "gettransaction" -> walletTx(params.path(0).asText());
      case "getmempoolentry" -> mempoolEntry(params.path(0).asText());
      case "getbestblockhash" -> text(chain.get((int) view).hash());
      case "getblockcount" -> Json.mapper().getNodeFactory().numberNode(view);
      case "getblockhash" -> blockHash(params.path(0));
      case "getblock" -> block(params);
      default -> throw error(-32601, "Method not found.");
    };
  }

  private JsonNode restAct(String httpMethod, String path, JsonNode body) throws RpcException {
    if (dialect != Dialect.BCOIN) {
      throw new RpcException(RpcException.Kind.NODE_ERROR, -32601, 404, "no REST API", null);
    }
    Matcher create = CREATE.matcher(path);
    if (httpMethod.equals("POST") && create.matches()) {
      requireWallet(create.group(1));
      return create(body == null ? Json.mapper().missingNode() : body);
    }
    Matcher lock = LOCK.matcher(path);
    if (httpMethod.equals("PUT") && lock.matches()) {
      requireWallet(lock.group(1));
      locked.add(new Outpoint(lock.group(2), Integer.parseInt(lock.group(3))));
      return Json.mapper().createObjectNode().put("success", true);
    }
    if (httpMethod.equals("DELETE") && lock.matches()) {
      requireWallet(lock.group(1));
      locked.remove(new Outpoint(lock.group(2), Integer.parseInt(lock.group(3))));
      return Json.mapper().createObjectNode().put("success", true);
    }
    Matcher coin = COIN.matcher(path);
    if (httpMethod.equals("GET") && coin.matches()) {
      requireWallet(coin.group(1));
      Outpoint at = new Outpoint(coin.group(2), Integer.parseInt(coin.group(3)));
      Coin c = walletCoins().get(at);
      if (c == null) {
        throw restError(404, "Coin not found.");
      }
      return Json.mapper()
          .createObjectNode()
          .put("hash", at.txid())
          .put("index", at.index())
          .put("value", c.sats())
          .put("address", c.address());
    }
    Matcher lockedList = LOCKED.matcher(path);
    if (httpMethod.equals("GET") && lockedList.matches()) {
      requireWallet(lockedList.group(1));
      return lockedCoins("hash", "index");
    }
    Matcher sign = SIGN.matcher(path);
    if (httpMethod.equals("POST") && sign.matches()) {
      requireWallet(sign.group(1));
      JsonNode answer = signWithWallet(decode(body == null ? "" : body.path("tx").asText()));
      // bcoin signs what it can and answers with the transaction, whole or not.
      Tx signed = decode(answer.path("hex").asText());
      return Json.mapper().createObjectNode().put("hash", signed.txid()).put("hex", signed.hex());
    }
    Matcher change = CHANGE.matcher(path);
    if (httpMethod.equals("POST") && change.matches()) {
      requireWallet(change.group(1));
      return Json.mapper().createObjectNode().put("address", newChangeAddress());
    }
    throw restError(404, "Not found.");
  }

  private void requireWallet(String id) throws RpcException {
    if (!id.equals(WALLET)) {
      throw restError(404, "Wallet not found.");
    }
  }

  // bcoin: POST /wallet/:id/create funds, sorts (BIP69) and signs, but neither locks nor sends.
  private JsonNode create(JsonNode body) throws RpcException {
    JsonNode requested = body.path("outputs");
    if (!requested.isArray() || requested.isEmpty()) {
      throw restError(400, "No outputs available.");
    }
    List<Output> outputs = new ArrayList<>();
    for (JsonNode o : requested) {
      String address = o.path("address").asText("");
      if (!o.path("value").isIntegralNumber() || address.isEmpty()) {
        throw restError(400, "Cannot send to unknown address.");
      }
      if (o.path("value").asLong() < DUST_SATS) {
        throw restError(400, "Output is dust.");
      }
      outputs.add(new Output(address, o.path("value").asLong()));
    }
    Funding funding = fund(outputs, false, body.path("depth").asInt(0) > 0);
    List<Outpoint> inputs = new ArrayList<>(funding.inputs());
    inputs.sort(Comparator.comparing(Outpoint::txid).thenComparingInt(Outpoint::index));
    List<Output> sorted = new ArrayList<>(funding.outputs());
    sorted.sort(Comparator.comparingLong(Output::sats).thenComparing(Output::address));
    Tx tx = tx(body.path("sign").asBoolean(true), inputs, sorted);
    if (tx.signed()) {
      unsent.put(tx.txid(), tx);
    }
    trace.accept("btc: wallet created " + SimEthNode.short_(tx.txid()) + " from " + inputs);
    ObjectNode json = Json.mapper().createObjectNode();
    json.put("hash", tx.txid()).put("hex", tx.hex()).put("fee", FEE_SATS);
    ArrayNode ins = json.putArray("inputs");
    for (Outpoint in : inputs) {
      ins.addObject().putObject("prevout").put("hash", in.txid()).put("index", in.index());
    }
    ArrayNode outs = json.putArray("outputs");
    for (Output out : sorted) {
      outs.addObject().put("value", out.sats()).put("address", out.address());
    }
    return json;
  }

  /** Neither bcoin nor Core can estimate a fee from a chain without fee history. */
  private JsonNode noEstimate() {
    ObjectNode json = Json.mapper().createObjectNode();
    if (dialect == Dialect.BCOIN) {
      return json.put("fee", -1).put("blocks", 2);
    }
    json.putArray("errors").add("Insufficient data or no feerate found");
    return json.put("blocks", 2);
  }

  private JsonNode lockedCoins(String txidField, String indexField) {
    ArrayNode coins = Json.mapper().createArrayNode();
    locked.forEach(at -> coins.addObject().put(txidField, at.txid()).put(indexField, at.index()));
    return coins;
  }

  // Core: locking checks the wallet holds the output unspent; unlocking takes any.
  private JsonNode lockUnspent(boolean unlock, JsonNode outputs) throws RpcException {
    List<Outpoint> ats = new ArrayList<>();
    for (JsonNode o : outputs) {
      ats.add(new Outpoint(o.path("txid").asText(), o.path("vout").asInt()));
    }
    if (unlock) {
      ats.forEach(locked::remove);
      return Json.mapper().getNodeFactory().booleanNode(true);
    }
    Map<Outpoint, Coin> coins = walletCoins();
    for (Outpoint at : ats) {
      if (!coins.containsKey(at)) {
        throw error(-8, "Invalid parameter, expected unspent output");
      }
      if (locked.contains(at)) {
        throw error(-8, "Invalid parameter, output already locked");
      }
    }
    locked.addAll(ats);
    return Json.mapper().getNodeFactory().booleanNode(true);
  }

  private String newChangeAddress() {
    String change = "rb1qsimwalletchange" + (++changeAddresses);
    walletAddresses.add(change);
    return change;
  }

  private JsonNode createRaw(JsonNode requestedInputs, JsonNode requested) throws RpcException {
    List<Outpoint> inputs = new ArrayList<>();
    for (JsonNode in : requestedInputs) {
      if (in.path("txid").asText().length() != 64 || !in.path("vout").isInt()) {
        throw error(-8, "Invalid parameter, missing txid or vout key");
      }
      inputs.add(new Outpoint(in.path("txid").asText(), in.path("vout").asInt()));
    }
    List<Output> outputs = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : iterable(requested)) {
      if (e.getKey().isBlank()) {
        throw error(-5, "Invalid Bitcoin address: " + e.getKey());
      }
      outputs.add(new Output(e.getKey(), satsOf(e.getValue())));
    }
    return text(tx(false, inputs, outputs).hex());
  }

  private JsonNode fundRaw(Tx draft, JsonNode options) throws RpcException {
    if (!draft.inputs().isEmpty()) {
      throw new UnsupportedOperationException("the simulated wallet funds only input-less drafts");
    }
    for (Output out : draft.outputs()) {
      if (out.sats() < DUST_SATS) {
        throw error(-4, "Transaction amount too small");
      }
    }
    Funding funding =
        fund(
            draft.outputs(),
            options.path("lockUnspents").asBoolean(false),
            options.path("minconf").asInt(0) > 0);
    Tx funded = tx(false, funding.inputs(), funding.outputs());
    ObjectNode json = Json.mapper().createObjectNode();
    json.put("hex", funded.hex()).put("fee", btc(FEE_SATS));
    json.put("changepos", funding.changePosition());
    return json;
  }

  private JsonNode signWithWallet(Tx tx) {
    ObjectNode json = Json.mapper().createObjectNode();
    ArrayNode errors = Json.mapper().createArrayNode();
    for (Outpoint in : tx.inputs()) {
      Output prev = walletOutput(in);
      if (prev == null || chainSpender.containsKey(in)) {
        errors
            .addObject()
            .put("txid", in.txid())
            .put("vout", in.index())
            .put("error", "Input not found or already spent");
      }
    }
    if (!errors.isEmpty()) {
      return json.put("hex", tx.hex()).put("complete", false).set("errors", errors);
    }
    Tx signed = tx(true, tx.inputs(), tx.outputs());
    if (!heights.containsKey(signed.txid()) && !walletTxs.containsKey(signed.txid())) {
      unsent.put(signed.txid(), signed);
    }
    trace.accept("btc: wallet signed " + SimEthNode.short_(signed.txid()) + " " + tx.inputs());
    return json.put("hex", signed.hex()).put("complete", true);
  }

  /**
   * Picks coins for {@code outputs} plus the fee and adds change. bcoin takes confirmed coins
   * first, largest first; Core's selection is random here, and so is where it puts the change.
   */
  private Funding fund(List<Output> outputs, boolean lock, boolean confirmedOnly)
      throws RpcException {
    long need = FEE_SATS + outputs.stream().mapToLong(Output::sats).sum();
    List<Map.Entry<Outpoint, Coin>> coins = new ArrayList<>(spendable().entrySet());
    if (confirmedOnly) {
      coins.removeIf(e -> e.getValue().block() == 0);
    }
    if (dialect == Dialect.BCOIN) {
      coins.sort(
          Comparator.<Map.Entry<Outpoint, Coin>>comparingInt(e -> e.getValue().block() > 0 ? 0 : 1)
              .thenComparingLong(e -> -e.getValue().sats())
              .thenComparing(e -> e.getKey().txid())
              .thenComparingInt(e -> e.getKey().index()));
    } else {
      List<Map.Entry<Outpoint, Coin>> unconfirmed = new ArrayList<>();
      coins.removeIf(e -> e.getValue().block() == 0 && unconfirmed.add(e));
      Collections.shuffle(coins, random);
      Collections.shuffle(unconfirmed, random);
      coins.addAll(unconfirmed);
    }
    List<Outpoint> picked = new ArrayList<>();
    long have = 0;
    for (Map.Entry<Outpoint, Coin> coin : coins) {
      if (have >= need) {
        break;
      }
      picked.add(coin.getKey());
      have += coin.getValue().sats();
    }
    if (have < need) {
      throw dialect == Dialect.BCOIN
          ? restError(
              400, "Not enough funds. (available=" + btc(have) + ", required=" + btc(need) + ")")
          : error(-4, "Insufficient funds");
    }
    List<Output> withChange = new ArrayList<>(outputs);
    int changePosition = -1;
    if (have - need >= DUST_SATS) {
      // Change below dust goes to the miner, as both wallets do.
      changePosition = dialect == Dialect.CORE ? random.nextInt(outputs.size() + 1) : 0;
      withChange.add(changePosition, new Output(newChangeAddress(), have - need));
    }
    if (lock) {
      locked.addAll(picked);
    }
    return new Funding(picked, withChange, changePosition);
  }

  /**
   * The wallet's coins it may spend now: confirmed ones, and outputs of its own pending
   * transactions (bcoin spends any of them; Core only those in its mempool, which it trusts), less
   * what a pending transaction of its own spends and what is locked.
   */
  private Map<Outpoint, Coin> spendable() {
    Map<Outpoint, Coin> coins = walletCoins();
    coins.keySet().removeAll(locked);
    return coins;
  }

  /** The wallet's unspent coins in its own view, locked ones included. */
  private Map<Outpoint, Coin> walletCoins() {
    List<Tx> pending = new ArrayList<>();
    Set<Outpoint> spent = new HashSet<>();
    for (Tx tx : walletTxs.values()) {
      if (conflictDepth(tx) == 0) {
        pending.add(tx);
        spent.addAll(tx.inputs());
      }
    }
    Map<Outpoint, Coin> coins = new LinkedHashMap<>();
    utxo.forEach(
        (at, coin) -> {
          if (walletAddresses.contains(coin.address()) && !spent.contains(at)) {
            coins.put(at, coin);
          }
        });
    for (Tx tx : pending) {
      if (dialect == Dialect.CORE && !mempool.containsKey(tx.txid())) {
        continue;
      }
      for (int i = 0; i < tx.outputs().size(); i++) {
        Output out = tx.outputs().get(i);
        Outpoint at = new Outpoint(tx.txid(), i);
        if (walletAddresses.contains(out.address()) && !spent.contains(at)) {
          coins.put(at, new Coin(out.address(), out.sats(), 0));
        }
      }
    }
    return coins;
  }

  /**
   * How many blocks deep the chain holds a transaction spending one of {@code tx}'s inputs (or an
   * unmined ancestor's); 0 when none does.
   */
  private long conflictDepth(Tx tx) {
    return conflictDepth(tx, tip);
  }

  /** The same as of block {@code height}. */
  private long conflictDepth(Tx tx, long height) {
    long depth = 0;
    for (Outpoint in : tx.inputs()) {
      String spender = chainSpender.get(in);
      if (spender != null && heights.get(spender) > height) {
        spender = null;
      }
      if (spender != null && !spender.equals(tx.txid())) {
        depth = Math.max(depth, height - heights.get(spender) + 1);
      } else if (spender == null && walletTxs.containsKey(in.txid())) {
        depth = Math.max(depth, conflictDepth(walletTxs.get(in.txid()), height));
      }
    }
    return depth;
  }

  private Output walletOutput(Outpoint at) {
    Tx parent =
        chainTxs.containsKey(at.txid()) ? chainTxs.get(at.txid()) : walletTxs.get(at.txid());
    if (parent == null || at.index() >= parent.outputs().size()) {
      return null;
    }
    Output out = parent.outputs().get(at.index());
    return walletAddresses.contains(out.address()) ? out : null;
  }

  private JsonNode send(Tx tx) throws RpcException {
    Refusal refusal = admit(tx, true);
    if (refusal == null) {
      return text(tx.txid());
    }
    trace.accept("btc: " + SimEthNode.short_(tx.txid()) + " not taken: " + refusal.message());
    if (dialect == Dialect.BCOIN) {
      // bcoin relays without waiting for its mempool's verdict and answers with the txid.
      return text(tx.txid());
    }
    throw error(refusal.code(), refusal.message());
  }

  /**
   * Takes {@code tx} into the mempool, or says why not, in Core's words; null when it holds it.
   *
   * @param fresh false when a reorganisation puts it back: it is not news, to bcoin or the trace
   */
  private Refusal admit(Tx tx, boolean fresh) {
    if (heights.containsKey(tx.txid())) {
      return new Refusal(-27, "Transaction already in block chain");
    }
    if (mempool.containsKey(tx.txid())) {
      return null;
    }
    if (!tx.signed() || tx.inputs().isEmpty()) {
      return new Refusal(-26, "mandatory-script-verify-flag-failed (Signature must be non-empty)");
    }
    long in = 0;
    for (Outpoint at : tx.inputs()) {
      if (mempoolSpender.containsKey(at)) {
        return new Refusal(-26, "txn-mempool-conflict");
      }
      Coin coin = utxo.get(at);
      Tx parent = mempool.get(at.txid());
      if (coin != null) {
        in += coin.sats();
      } else if (parent != null && at.index() < parent.outputs().size()) {
        in += parent.outputs().get(at.index()).sats();
      } else {
        return new Refusal(-25, "bad-txns-inputs-missingorspent");
      }
    }
    if (in < tx.paid()) {
      return new Refusal(-26, "bad-txns-in-belowout");
    }
    if (tx.outputs().stream().anyMatch(o -> o.sats() < DUST_SATS)) {
      return new Refusal(-26, "dust");
    }
    if (ancestors(tx, new HashSet<>()) + 1 > MAX_ANCESTORS) {
      return new Refusal(-26, "too-long-mempool-chain, too many unconfirmed ancestors [limit: 25]");
    }
    mempool.put(tx.txid(), tx);
    tx.inputs().forEach(at -> mempoolSpender.put(at, tx.txid()));
    everPooled.add(tx);
    // The wallet sees every transaction spending its coins; Core's unlocks the coins it spends.
    walletTxs.put(tx.txid(), tx);
    if (dialect == Dialect.CORE) {
      tx.inputs().forEach(locked::remove);
    }
    unsent.remove(tx.txid());
    if (!fresh) {
      return null;
    }
    if (dialect == Dialect.BCOIN && lateMempool > 0 && random.nextDouble() < lateMempool) {
      hidden.put(tx.txid(), 1 + random.nextInt(3));
    }
    trace.accept("btc: mempool took " + SimEthNode.short_(tx.txid()));
    return null;
  }

  /**
   * The highest fee rate a payout transaction in the chain paid together with the children lifting
   * it (each a transaction of one input and one output, both the wallet's, spending the payout
   * transaction's change or the child before), as {fee in satoshis, size in vbytes}: what a unit
   * cost against its ceiling, whichever blocks its transactions came in.
   */
  long[] highestChain() {
    long[] worst = {0, 1};
    for (Tx tx : chainTxs.values()) {
      if (tx.inputs().isEmpty()
          || foreignTxids.contains(tx.txid())
          || tx.outputs().stream().allMatch(o -> walletAddresses.contains(o.address()))) {
        continue;
      }
      long fee = fee(tx);
      long size = vsize(tx);
      Tx at = tx;
      for (Tx child = childOf(at); child != null; child = childOf(at)) {
        fee += fee(child);
        size += vsize(child);
        at = child;
      }
      if (fee * worst[1] > worst[0] * size) {
        worst = new long[] {fee, size};
      }
    }
    return worst;
  }

  /**
   * Outputs that a payout transaction (one paying outside the wallet) and a child (one input, one
   * output back to the wallet) the mempool took at some time both spend: such a child could take a
   * payout's input, or the other way round.
   */
  List<Outpoint> spentByChildAndPayout() {
    Set<Outpoint> byChildren = new HashSet<>();
    Set<Outpoint> byPayouts = new HashSet<>();
    for (Tx tx : everPooled) {
      if (tx.outputs().stream().anyMatch(o -> !walletAddresses.contains(o.address()))) {
        byPayouts.addAll(tx.inputs());
      } else if (tx.inputs().size() == 1 && tx.outputs().size() == 1) {
        byChildren.addAll(tx.inputs());
      }
    }
    byChildren.retainAll(byPayouts);
    return List.copyOf(byChildren);
  }

  /** The chain's transaction lifting {@code parent} by spending its change, or null. */
  private Tx childOf(Tx parent) {
    for (int i = 0; i < parent.outputs().size(); i++) {
      if (!walletAddresses.contains(parent.outputs().get(i).address())) {
        continue;
      }
      Tx spender = chainTxs.get(chainSpender.get(new Outpoint(parent.txid(), i)));
      if (spender != null
          && spender.inputs().size() == 1
          && spender.outputs().size() == 1
          && walletAddresses.contains(spender.outputs().get(0).address())) {
        return spender;
      }
    }
    return null;
  }

  private long fee(Tx tx) {
    long in = 0;
    for (Outpoint at : tx.inputs()) {
      in += chainTxs.get(at.txid()).outputs().get(at.index()).sats();
    }
    return in - tx.paid();
  }

  private int ancestors(Tx tx, Set<String> seen) {
    for (Outpoint at : tx.inputs()) {
      Tx parent = mempool.get(at.txid());
      if (parent != null && seen.add(parent.txid())) {
        ancestors(parent, seen);
      }
    }
    return seen.size();
  }

  private JsonNode lookUp(String txid, boolean verbose) throws RpcException {
    Tx tx = chainTxs.get(txid);
    if (tx != null && heights.get(txid) > view && foreignTxids.contains(txid)) {
      tx = null;
    }
    if (tx == null && mempool.containsKey(txid) && !stillHidden(txid)) {
      tx = mempool.get(txid);
    }
    if (tx == null) {
      throw dialect == Dialect.BCOIN
          ? error(-1, "Transaction not found.")
          : error(
              -5,
              "No such mempool or blockchain transaction. Use gettransaction for wallet"
                  + " transactions.");
    }
    if (!verbose) {
      return text(tx.hex());
    }
    ObjectNode json = json(tx);
    json.put("hex", tx.hex());
    Long height = heights.get(txid);
    if (height != null && height <= view) {
      Block b = chain.get(height.intValue());
      json.put("blockhash", b.hash());
      json.put("confirmations", view - height + 1);
      json.put("time", seconds(b.time())).put("blocktime", seconds(b.time()));
    } else if (dialect == Dialect.BCOIN) {
      // Not mined, or mined in a block a lagging node has not seen: it holds it in its mempool.
      json.putNull("blockhash");
      json.put("confirmations", 0);
      json.put("time", 0).put("blocktime", 0);
    }
    return json;
  }

  private boolean stillHidden(String txid) {
    Integer left = hidden.get(txid);
    if (left == null) {
      return false;
    }
    if (left <= 1) {
      hidden.remove(txid);
    } else {
      hidden.put(txid, left - 1);
    }
    return true;
  }

  private JsonNode txOut(Outpoint at, boolean includeMempool) {
    Coin coin = coinAsOf(at, view);
    if (includeMempool) {
      Tx parent = mempool.get(at.txid());
      if (mempoolSpender.containsKey(at)) {
        coin = null;
      } else if (parent != null && at.index() < parent.outputs().size()) {
        Output out = parent.outputs().get(at.index());
        coin = new Coin(out.address(), out.sats(), 0);
      }
    }
    if (coin == null) {
      return Json.mapper().nullNode();
    }
    ObjectNode json = Json.mapper().createObjectNode();
    json.put("confirmations", coin.block() == 0 ? 0 : view - coin.block() + 1);
    json.put("value", btc(coin.sats()));
    json.set("scriptPubKey", script(coin.address()));
    return json;
  }

  /** The chain's unspent output at {@code at} as of block {@code height}, or null. */
  private Coin coinAsOf(Outpoint at, long height) {
    if (height >= tip) {
      return utxo.get(at);
    }
    Tx tx = chainTxs.get(at.txid());
    String spender = chainSpender.get(at);
    if (tx == null
        || heights.get(at.txid()) > height
        || at.index() >= tx.outputs().size()
        || (spender != null && heights.get(spender) <= height)) {
      return null;
    }
    Output out = tx.outputs().get(at.index());
    return new Coin(out.address(), out.sats(), heights.get(at.txid()));
  }

  // Core's wallet: what it has seen of a transaction, negative when the chain holds a conflict.
  /** The mempool's entry for a transaction, or the node's refusal when it holds none. */
  private JsonNode mempoolEntry(String txid) throws RpcException {
    if (!mempool.containsKey(txid)) {
      throw dialect == Dialect.CORE
          ? error(-5, "Transaction not in mempool")
          : error(-1, "Transaction not in mempool.");
    }
    return Json.mapper().createObjectNode().put("txid", txid);
  }

  private JsonNode walletTx(String txid) throws RpcException {
    ObjectNode json = Json.mapper().createObjectNode().put("txid", txid);
    Long height = heights.get(txid);
    if (height != null && height <= view) {
      Block b = chain.get(height.intValue());
      return json.put("confirmations", view - height + 1)
          .put("blockhash", b.hash())
          .put("blockheight", height)
          .put("blocktime", seconds(b.time()));
    }
    Tx tx =
        height != null && !foreignTxids.contains(txid) ? chainTxs.get(txid) : walletTxs.get(txid);
    if (tx == null) {
      throw error(-5, "Invalid or non-wallet transaction id");
    }
    return json.put("confirmations", -conflictDepth(tx, view))
        .put("trusted", mempool.containsKey(txid));
  }

  /** Mines one block of at most {@code max} mempool transactions, parents before children. */
  void mine(int max) {
    tip++;
    Instant time = now.get();
    List<String> mined = new ArrayList<>();
    for (Tx tx : List.copyOf(mempool.values())) {
      if (mined.size() >= max) {
        break;
      }
      confirm(tx);
      mined.add(SimEthNode.short_(tx.txid()));
    }
    seal(time);
    trace.accept("btc: block " + tip + " mined " + mined);
  }

  /** The mempool forgets one transaction and its descendants; the wallet still counts on them. */
  void evictOne() {
    if (mempool.isEmpty()) {
      return;
    }
    List<String> ids = new ArrayList<>(mempool.keySet());
    evict(ids.get(random.nextInt(ids.size())), "evicted");
  }

  /**
   * Someone else holding the wallet's keys spends a coin that a transaction of ours, signed and
   * never sent, also spends, and it is mined at once: that transaction can never be mined. Only a
   * coin that nothing the node or the wallet has seen spends is taken, so that no transaction the
   * network holds is hit.
   *
   * @return false when there is no such transaction
   */
  boolean foreignSpend() {
    return foreignSpend(unsent.values());
  }

  /**
   * As {@link #foreignSpend()}, the victim also being one the node once held and then evicted
   * (which a sender may have reported broadcast): Core's wallet then sees it conflicted.
   */
  boolean foreignSpendIncludingEvicted() {
    List<Tx> victims = new ArrayList<>(unsent.values());
    walletTxs.values().stream().filter(tx -> !mempool.containsKey(tx.txid())).forEach(victims::add);
    return foreignSpend(victims);
  }

  private boolean foreignSpend(Iterable<Tx> victims) {
    Map<Outpoint, String> seen = new HashMap<>(mempoolSpender);
    walletTxs.values().forEach(w -> w.inputs().forEach(in -> seen.putIfAbsent(in, w.txid())));
    List<Tx> candidates = new ArrayList<>();
    List<Outpoint> coins = new ArrayList<>();
    for (Tx victim : victims) {
      for (Outpoint in : victim.inputs()) {
        String spender = seen.get(in);
        if (utxo.containsKey(in) && (spender == null || spender.equals(victim.txid()))) {
          candidates.add(victim);
          coins.add(in);
          break;
        }
      }
    }
    if (candidates.isEmpty()) {
      trace.accept("btc: no unsent transaction of ours to spend under");
      return false;
    }
    int pick = random.nextInt(candidates.size());
    Outpoint coin = coins.get(pick);
    long sats = utxo.get(coin).sats();
    String to = "rb1qsimforeign" + (++foreignSpends);
    Tx spend =
        tx(true, List.of(coin), List.of(new Output(to, sats - Math.min(FEE_SATS, sats / 2))));
    tip++;
    foreignTxids.add(spend.txid());
    confirm(spend);
    seal(now.get());
    trace.accept(
        "btc: someone else spent "
            + coin
            + " under "
            + SimEthNode.short_(candidates.get(pick).txid())
            + " in block "
            + tip);
    return true;
  }

  /**
   * The wallet submits its pending transactions that the mempool does not hold again: Core does so
   * every 12 to 36 hours, bcoin whenever it connects to its node. Until then, Core spends neither
   * the coins of such a transaction nor its change.
   *
   * @return how many the mempool took
   */
  int walletResend() {
    int resent = 0;
    for (Tx tx : List.copyOf(walletTxs.values())) {
      if (mempool.containsKey(tx.txid())) {
        continue;
      }
      Refusal refusal = admit(tx, true);
      if (refusal == null) {
        resent++;
      } else {
        trace.accept(
            "btc: wallet could not send "
                + SimEthNode.short_(tx.txid())
                + ": "
                + refusal.message());
      }
    }
    trace.accept("btc: wallet sent " + resent + " pending transactions again");
    return resent;
  }

  /**
   * The wallet restarts: its coin locks, which both wallets keep only in memory, are gone, and it
   * sends its pending transactions again.
   */
  void restartWallet() {
    locked.clear();
    trace.accept("btc: wallet restarted, coin locks gone");
    walletResend();
  }

  private void confirm(Tx tx) {
    if (mempool.remove(tx.txid()) != null) {
      tx.inputs().forEach(mempoolSpender::remove);
    }
    for (Outpoint at : tx.inputs()) {
      utxo.remove(at);
      chainSpender.put(at, tx.txid());
      locked.remove(at);
      String rival = mempoolSpender.get(at);
      if (rival != null) {
        evict(rival, "conflicted by " + SimEthNode.short_(tx.txid()));
      }
    }
    for (int i = 0; i < tx.outputs().size(); i++) {
      Output out = tx.outputs().get(i);
      utxo.put(new Outpoint(tx.txid(), i), new Coin(out.address(), out.sats(), tip));
      if (!walletAddresses.contains(out.address())) {
        transfers.add(new Transfer(tx.txid(), out.address(), out.sats(), tip));
      }
    }
    chainTxs.put(tx.txid(), tx);
    heights.put(tx.txid(), tip);
    walletTxs.remove(tx.txid());
    unsent.remove(tx.txid());
    hidden.remove(tx.txid());
    building.add(tx);
  }

  /** Adds block {@link #tip} of what was confirmed since the last one on top of the chain. */
  private void seal(Instant time) {
    if (chain.size() != tip) {
      throw new IllegalStateException("sealing block " + tip + " on " + chain.size());
    }
    String previous = chain.isEmpty() ? ZERO_HASH : chain.get(chain.size() - 1).hash();
    StringBuilder content = new StringBuilder("block|").append(tip).append('|').append(previous);
    content.append('|').append(++sealed);
    building.forEach(tx -> content.append('|').append(tx.txid()));
    String hash =
        HEX.formatHex(sha256(sha256(content.toString().getBytes(StandardCharsets.UTF_8))));
    Block block = new Block(tip, hash, previous, List.copyOf(building), time);
    building.clear();
    chain.add(block);
    blocksByHash.put(hash, block);
  }

  /**
   * A reorganisation: the last {@code depth} blocks leave the chain and everything they did is
   * undone: the UTXO set, the chain's spends and {@link #transfers()} are as before them, and the
   * wallet counts their transactions (someone else's spends aside) as its own pending ones again,
   * as both wallets do, so that {@link #walletResend()} sends them again. The blocks stay known by
   * hash, with {@code confirmations} -1. With {@code returnToPool} their transactions go back to
   * the mempool ahead of what it holds, in block order, less those it now refuses, as bcoin and
   * Core do; without, the mempool does not hold them. Either way the mempool then drops what spends
   * an output no longer there. Nothing is mined here; the next block mined has a new hash.
   *
   * @param depth how many blocks, from 1 to the height less the funding block
   * @return the ids of the transactions taken out of the chain, in block order
   */
  List<String> reorg(int depth, boolean returnToPool) {
    if (depth < 1 || depth > tip - 1) {
      throw new IllegalArgumentException("cannot take " + depth + " of " + (tip - 1) + " blocks");
    }
    List<Tx> removed = new ArrayList<>();
    for (int k = 0; k < depth; k++) {
      Block gone = chain.remove(chain.size() - 1);
      List<Tx> txs = gone.txs();
      for (int i = txs.size() - 1; i >= 0; i--) {
        disconnect(txs.get(i));
      }
      removed.addAll(0, txs);
    }
    tip -= depth;
    long head = tip;
    transfers.removeIf(t -> t.block() > head);
    // The wallet's view: what it sent and the chain held is pending again, parents first.
    Map<String, Tx> pending = new LinkedHashMap<>();
    removed.stream()
        .filter(tx -> !foreignTxids.contains(tx.txid()))
        .forEach(tx -> pending.put(tx.txid(), tx));
    pending.putAll(walletTxs);
    walletTxs.clear();
    walletTxs.putAll(pending);
    // The mempool: what the blocks held first, then what it held, each as far as it is valid now.
    List<Tx> held = new ArrayList<>(mempool.values());
    mempool.clear();
    mempoolSpender.clear();
    int back = 0;
    if (returnToPool) {
      for (Tx tx : removed) {
        Refusal refusal = admit(tx, false);
        if (refusal == null) {
          back++;
        } else {
          trace.accept(
              "btc: reorg dropped " + SimEthNode.short_(tx.txid()) + ": " + refusal.message());
        }
      }
    }
    for (Tx tx : held) {
      Refusal refusal = admit(tx, false);
      if (refusal != null) {
        hidden.remove(tx.txid());
        trace.accept(
            "btc: mempool dropped " + SimEthNode.short_(tx.txid()) + ": " + refusal.message());
      }
    }
    trace.accept(
        "btc: reorg of "
            + depth
            + " blocks back to block "
            + tip
            + ": "
            + removed.size()
            + " transactions out, "
            + back
            + " back in the mempool");
    return removed.stream().map(Tx::txid).toList();
  }

  /** Undoes {@link #confirm} of a transaction of the tip block, the later ones undone already. */
  private void disconnect(Tx tx) {
    for (int i = 0; i < tx.outputs().size(); i++) {
      utxo.remove(new Outpoint(tx.txid(), i));
    }
    for (Outpoint at : tx.inputs()) {
      chainSpender.remove(at);
      Tx parent = chainTxs.get(at.txid());
      if (parent != null && at.index() < parent.outputs().size()) {
        Output out = parent.outputs().get(at.index());
        utxo.put(at, new Coin(out.address(), out.sats(), heights.get(at.txid())));
      }
    }
    chainTxs.remove(tx.txid());
    heights.remove(tx.txid());
  }

  private JsonNode blockHash(JsonNode height) throws RpcException {
    if (!height.canConvertToLong() || height.asLong() < 0 || height.asLong() > view) {
      throw error(
          -8, dialect == Dialect.CORE ? "Block height out of range" : "Block height out of range.");
    }
    return text(chain.get((int) height.asLong()).hash());
  }

  /**
   * bcoin: {@code getblock hash (verbose=true) (details=false)}; Core: {@code getblock hash
   * (verbosity=1)}, 0 for hex, 2 for transaction objects.
   */
  private JsonNode block(ArrayNode params) throws RpcException {
    Block b = blocksByHash.get(params.path(0).asText());
    boolean onChain = b != null && b.height() < chain.size() && chain.get((int) b.height()) == b;
    if (b == null || (onChain && b.height() > view)) {
      throw dialect == Dialect.CORE ? error(-5, "Block not found") : error(-1, "Block not found");
    }
    boolean verbose;
    boolean details;
    JsonNode second = params.path(1);
    if (dialect == Dialect.BCOIN) {
      verbose = second.asBoolean(true);
      details = params.path(2).asBoolean(false);
    } else {
      int verbosity =
          second.isMissingNode() || second.isNull()
              ? 1
              : second.isBoolean() ? (second.asBoolean() ? 1 : 0) : second.asInt(1);
      verbose = verbosity > 0;
      details = verbosity > 1;
    }
    if (!verbose) {
      StringBuilder raw = new StringBuilder(b.hash()).append(';').append(b.previous());
      b.txs().forEach(tx -> raw.append(';').append(tx.hex()));
      return text(HEX.formatHex(raw.toString().getBytes(StandardCharsets.UTF_8)));
    }
    boolean core = dialect == Dialect.CORE;
    ObjectNode json = Json.mapper().createObjectNode();
    json.put("hash", b.hash());
    json.put("confirmations", onChain ? view - b.height() + 1 : -1);
    json.put("height", b.height());
    json.put("time", seconds(b.time()));
    json.put("nTx", b.txs().size());
    if (b.height() > 0) {
      json.put("previousblockhash", b.previous());
    } else if (!core) {
      json.putNull("previousblockhash");
    }
    if (onChain && b.height() < view) {
      json.put("nextblockhash", chain.get((int) b.height() + 1).hash());
    } else if (!core) {
      json.putNull("nextblockhash");
    }
    ArrayNode txs = json.putArray("tx");
    for (Tx tx : b.txs()) {
      if (details) {
        txs.add(json(tx).put("hex", tx.hex()));
      } else {
        txs.add(tx.txid());
      }
    }
    return json;
  }

  private static long seconds(Instant time) {
    return time.equals(Instant.MIN) ? 0 : time.getEpochSecond();
  }

  private void evict(String txid, String why) {
    Tx tx = mempool.remove(txid);
    if (tx == null) {
      return;
    }
    tx.inputs().forEach(mempoolSpender::remove);
    hidden.remove(txid);
    trace.accept("btc: mempool dropped " + SimEthNode.short_(txid) + ": " + why);
    for (int i = 0; i < tx.outputs().size(); i++) {
      String child = mempoolSpender.get(new Outpoint(txid, i));
      if (child != null) {
        evict(child, "its parent left");
      }
    }
  }

  private Tx tx(boolean signed, List<Outpoint> inputs, List<Output> outputs) {
    StringBuilder text = new StringBuilder(signed ? "signed" : "unsigned").append(';');
    for (int i = 0; i < inputs.size(); i++) {
      text.append(i == 0 ? "" : ",").append(inputs.get(i).txid()).append(':');
      text.append(inputs.get(i).index());
    }
    text.append(';');
    for (int i = 0; i < outputs.size(); i++) {
      text.append(i == 0 ? "" : ",").append(outputs.get(i).address()).append('=');
      text.append(outputs.get(i).sats());
    }
    byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
    return new Tx(
        HEX.formatHex(sha256(sha256(bytes))),
        HEX.formatHex(bytes),
        signed,
        List.copyOf(inputs),
        List.copyOf(outputs));
  }

  private Tx decode(String hex) throws RpcException {
    try {
      String[] parts = new String(HEX.parseHex(hex), StandardCharsets.UTF_8).split(";", -1);
      List<Outpoint> inputs = new ArrayList<>();
      for (String in : parts[1].isEmpty() ? new String[0] : parts[1].split(",")) {
        int colon = in.lastIndexOf(':');
        inputs.add(new Outpoint(in.substring(0, colon), Integer.parseInt(in.substring(colon + 1))));
      }
      List<Output> outputs = new ArrayList<>();
      for (String out : parts[2].isEmpty() ? new String[0] : parts[2].split(",")) {
        int eq = out.lastIndexOf('=');
        outputs.add(new Output(out.substring(0, eq), Long.parseLong(out.substring(eq + 1))));
      }
      Tx tx = tx(parts[0].equals("signed"), inputs, outputs);
      if (parts.length != 3 || !tx.hex().equals(hex)) {
        throw new IllegalArgumentException("not canonical");
      }
      return tx;
    } catch (RuntimeException e) {
      throw error(-22, "TX decode failed");
    }
  }

  private ObjectNode json(Tx tx) {
    ObjectNode json = Json.mapper().createObjectNode();
    json.put("txid", tx.txid()).put("hash", tx.txid());
    json.put("size", vsize(tx)).put("vsize", vsize(tx));
    ArrayNode vin = json.putArray("vin");
    for (Outpoint in : tx.inputs()) {
      ObjectNode input = vin.addObject().put("txid", in.txid()).put("vout", in.index());
      input.putObject("scriptSig").put("hex", tx.signed() ? "47" + "00".repeat(71) : "");
    }
    ArrayNode vout = json.putArray("vout");
    for (int i = 0; i < tx.outputs().size(); i++) {
      Output out = tx.outputs().get(i);
      ObjectNode o = vout.addObject().put("value", btc(out.sats())).put("n", i);
      o.set("scriptPubKey", script(out.address()));
    }
    return json;
  }

  /** A P2PKH transaction's size: what the simulated bytes stand for. */
  static long vsize(Tx tx) {
    return 10 + 148L * tx.inputs().size() + 34L * tx.outputs().size();
  }

  private ObjectNode script(String address) {
    ObjectNode script = Json.mapper().createObjectNode().put("type", "witness_v0_keyhash");
    if (dialect == Dialect.BCOIN) {
      script.putArray("addresses").add(address);
    } else {
      // Core 22+ writes one address.
      script.put("address", address);
    }
    return script;
  }

  private long satsOf(JsonNode amount) throws RpcException {
    try {
      BigDecimal btc =
          amount.isNumber() ? amount.decimalValue() : new BigDecimal(amount.asText("x"));
      if (btc.signum() < 0) {
        throw error(-3, "Amount out of range");
      }
      return btc.movePointRight(8).longValueExact();
    } catch (ArithmeticException | NumberFormatException e) {
      throw error(-3, "Invalid amount");
    }
  }

  // bcoin answers JSON-RPC errors with HTTP 200, Core with 500.
  private RpcException error(int code, String message) {
    int status = dialect == Dialect.CORE ? 500 : 200;
    return new RpcException(RpcException.Kind.NODE_ERROR, code, status, message, null);
  }

  // The REST client reads {"error":{"message":...}} as the node's decision, without a code.
  private static RpcException restError(int status, String message) {
    return new RpcException(RpcException.Kind.NODE_ERROR, null, status, message, null);
  }

  private static BigDecimal btc(long sats) {
    return BigDecimal.valueOf(sats, 8);
  }

  private static JsonNode text(String value) {
    return Json.mapper().getNodeFactory().textNode(value);
  }

  private static Iterable<Map.Entry<String, JsonNode>> iterable(JsonNode object) {
    return object.properties();
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
