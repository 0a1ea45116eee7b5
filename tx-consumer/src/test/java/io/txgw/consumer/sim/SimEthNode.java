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
 *
 * <p>Blocks are linked by parent hash and read as geth shapes them ({@code eth_blockNumber}, {@code
 * eth_getBlockByNumber}, {@code eth_getBlockByHash}); {@link #reorg} takes blocks off the head, as
 * a reorganisation or anvil's {@code anvil_rollback} does. A lagging node in rotation knows a
 * shorter prefix of the current chain: it never answers from a chain a reorganisation has left.
 */
final class SimEthNode implements Rpc {
  /** The chain it serves (anvil's and hardhat's). */
  static final long CHAIN_ID = 31337;

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

  /**
   * A block: on the chain at {@code number}, or taken off it by a reorganisation and still known by
   * its hash, as geth keeps a side-chain block.
   */
  record Block(long number, String hash, String parentHash, List<Tx> txs, java.time.Instant time) {}

  private static final String ZERO_HASH = "0x" + "0".repeat(64);

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
  private BigInteger floor = BigInteger.ONE;
  private BigInteger highestMined = BigInteger.ZERO;
  private final Map<String, Transfer> receipts = new HashMap<>();
  private final List<Transfer> transfers = new ArrayList<>();
  private long block;
  private int foreign;
  private final java.util.function.Supplier<java.time.Instant> now;

  /** The chain by number; block 0 is the start, with no transactions. */
  private final List<Block> chain = new ArrayList<>();

  /** Every block ever sealed, those a reorganisation took off the chain included. */
  private final Map<String, Block> blocksByHash = new LinkedHashMap<>();

  /** Sealed blocks so far: salts each block's hash, so that a block mined again differs. */
  private long sealed;

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
    this.random = random;
    this.dialect = dialect;
    this.automine = automine;
    this.trace = trace;
    seal(List.of(), java.time.Instant.MIN);
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
      while (view > 0 && chain.get((int) view).time().isAfter(seen)) {
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
      case "eth_gasPrice" -> text(hex(floor));
      case "eth_chainId" -> text(hex(BigInteger.valueOf(CHAIN_ID)));
      case "eth_signTransaction" -> text(sign(params.get(0)));
      case "eth_sendRawTransaction" -> text(send(params.get(0).asText()));
      case "eth_getTransactionReceipt" -> receipt(params.get(0).asText());
      case "eth_getTransactionCount" ->
          text(
              hex(
                  BigInteger.valueOf(
                      "pending".equals(params.get(1).asText())
                          ? pendingCount(params.get(0).asText())
                          : nonceAt(params.get(0).asText(), stateAt(params.get(1))))));
      case "eth_getBalance" -> text(hex(balanceAt(params.get(0).asText(), stateAt(params.get(1)))));
      case "eth_getCode" ->
          text(
              contracts.contains(params.get(0).asText().toLowerCase(java.util.Locale.ROOT))
                  ? "0x6080604052"
                  : "0x");
      case "eth_getTransactionByHash" -> byHash(params.get(0).asText());
      case "eth_blockNumber" -> text(hex(BigInteger.valueOf(view)));
      case "eth_getBlockByNumber" ->
          blockByNumber(params.path(0).asText(), params.path(1).asBoolean(false));
      case "eth_getBlockReceipts" -> {
        if (dialect == Dialect.GANACHE) {
          // Like hardhat: blocks are read apart from their receipts.
          throw error(-32004, "Method eth_getBlockReceipts is not supported");
        }
        yield blockReceipts(params.path(0).asText());
      }
      case "eth_getBlockByHash" ->
          blockByHash(params.path(0).asText(), params.path(1).asBoolean(false));
      case "anvil_removePoolTransactions" -> {
        if (!dialect.canDrop) {
          throw error(-32601, "the method anvil_removePoolTransactions does not exist");
        }
        String account = key(params.get(0).asText());
        int before = pool.size();
        pool.values().removeIf(tx -> tx.from().equals(account));
        trace.accept("eth: removed " + (before - pool.size()) + " pooled of " + account);
        yield Json.mapper().nullNode();
      }
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
    Tx replaced = null;
    for (Tx other : pool.values()) {
      if (other.from().equals(tx.from()) && other.nonce() == tx.nonce()) {
        // As geth's pool: a replacement needs 10% more gas price than the one it replaces.
        BigInteger least = other.gasPrice().add(other.gasPrice().divide(BigInteger.TEN));
        if (tx.gasPrice().compareTo(least) < 0) {
          throw error(-32000, dialect.underpriced);
        }
        replaced = other;
      }
    }
    if (balance(tx.from()).compareTo(tx.cost()) < 0) {
      throw error(-32000, dialect.funds);
    }
    if (replaced != null) {
      pool.remove(replaced.txid());
      trace.accept("eth: " + short_(tx.txid()) + " replaces " + short_(replaced.txid()));
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
    java.time.Instant time = now.get();
    List<Tx> included = new ArrayList<>();
    int mined = 0;
    boolean progress = true;
    while (progress && mined < max) {
      progress = false;
      for (Tx tx : List.copyOf(pool.values())) {
        if (mined >= max) {
          break;
        }
        if (tx.nonce() != nonce(tx.from()) || tx.gasPrice().compareTo(floor) < 0) {
          // Not next in its account, or priced under the block's base fee: it stays pooled.
          continue;
        }
        pool.remove(tx.txid());
        if (balance(tx.from()).compareTo(tx.cost()) < 0) {
          // A pool drops what its sender can no longer pay for.
          trace.accept("eth: evicted unpayable " + short_(tx.txid()));
          continue;
        }
        apply(tx);
        included.add(tx);
        mined++;
        progress = true;
      }
    }
    seal(included, time);
    // Transactions whose nonce the chain has used can never be mined.
    pool.values().removeIf(tx -> tx.nonce() < nonce(tx.from()));
  }

  /**
   * Sets the least gas price a block takes (a base fee), and the price the node suggests: a rise
   * leaves pooled transactions priced under it stuck until replaced or until it falls.
   */
  void setFloor(BigInteger price) {
    trace.accept("eth: base fee " + floor + " -> " + price);
    floor = price;
  }

  BigInteger floor() {
    return floor;
  }

  /** The highest gas price of any transaction mined, to check against a ceiling. */
  BigInteger highestMinedPrice() {
    return highestMined;
  }

  private void apply(Tx tx) {
    highestMined = highestMined.max(tx.gasPrice());
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
    apply(tx);
    seal(List.of(tx), now.get());
    pool.values().removeIf(t -> t.nonce() < nonce(t.from()));
    foreignTxs.add(tx);
  }

  /** What others signed from our accounts: their wallets send it again if the chain drops it. */
  private final List<Tx> foreignTxs = new ArrayList<>();

  /**
   * The other spenders' wallets send again what they signed and the chain no longer holds (taken
   * out by a reorganisation, then evicted), as ours does: a gap they leave at a nonce is theirs to
   * fill, and a wallet fills it.
   */
  void foreignResend() {
    java.util.Set<String> mined = new java.util.HashSet<>();
    for (Block b : chain) {
      b.txs().forEach(t -> mined.add(t.txid()));
    }
    for (Tx tx : foreignTxs) {
      boolean taken =
          pool.values().stream()
              .anyMatch(t -> t.from().equals(tx.from()) && t.nonce() == tx.nonce());
      if (!mined.contains(tx.txid())
          && !pool.containsKey(tx.txid())
          && !taken
          && tx.nonce() >= nonce(tx.from())) {
        pool.put(tx.txid(), tx);
        trace.accept("eth: " + short_(tx.txid()) + " sent again by its wallet");
      }
    }
  }

  /** Adds block {@link #block} of {@code txs}, applied already, on top of the chain. */
  private void seal(List<Tx> txs, java.time.Instant time) {
    if (chain.size() != block) {
      throw new IllegalStateException("sealing block " + block + " on " + chain.size());
    }
    String parent = chain.isEmpty() ? ZERO_HASH : chain.get(chain.size() - 1).hash();
    StringBuilder content = new StringBuilder("block|").append(block).append('|').append(parent);
    content.append('|').append(++sealed);
    txs.forEach(tx -> content.append('|').append(tx.txid()));
    String hash =
        "0x" + HEX.formatHex(Keccak.hash256(content.toString().getBytes(StandardCharsets.UTF_8)));
    Block sealedBlock = new Block(block, hash, parent, List.copyOf(txs), time);
    chain.add(sealedBlock);
    blocksByHash.put(hash, sealedBlock);
  }

  /**
   * A reorganisation: the last {@code depth} blocks leave the chain and everything they did is
   * undone (balances, nonces, receipts, {@link #transfers()}). They stay known by hash, with their
   * old numbers, as geth serves a side-chain block. With {@code returnToPool} their transactions go
   * back to the pool ahead of what it holds, in block order, as geth's pool takes a
   * reorganisation's transactions back, less those it would now refuse; without, they are gone, as
   * after anvil's {@code anvil_reorg} or {@code anvil_rollback}: their receipts are null and their
   * senders' nonces go back. Nothing is mined here, automine or not; the next block mined has a new
   * hash.
   *
   * @param depth how many blocks, from 1 to the chain's height (block 0 stays)
   * @return the ids of the transactions taken out of the chain, in block order
   */
  /** The height of the chain's head. */
  long height() {
    return block;
  }

  List<String> reorg(int depth, boolean returnToPool) {
    if (depth < 1 || depth > block) {
      throw new IllegalArgumentException("cannot take " + depth + " of " + block + " blocks");
    }
    List<Tx> removed = new ArrayList<>();
    for (int k = 0; k < depth; k++) {
      Block gone = chain.remove(chain.size() - 1);
      List<Tx> txs = gone.txs();
      for (int i = txs.size() - 1; i >= 0; i--) {
        undo(txs.get(i));
      }
      removed.addAll(0, txs);
    }
    block -= depth;
    long head = block;
    transfers.removeIf(t -> t.block() > head);
    int back = 0;
    if (returnToPool) {
      Map<String, Tx> held = new LinkedHashMap<>(pool);
      pool.clear();
      for (Tx tx : removed) {
        boolean taken =
            tx.nonce() >= nonce(tx.from())
                && balance(tx.from()).compareTo(tx.cost()) >= 0
                && held.values().stream()
                    .noneMatch(o -> o.from().equals(tx.from()) && o.nonce() == tx.nonce());
        if (taken) {
          pool.put(tx.txid(), tx);
          back++;
        } else {
          trace.accept("eth: reorg dropped " + short_(tx.txid()));
        }
      }
      held.forEach(pool::putIfAbsent);
    }
    trace.accept(
        "eth: reorg of "
            + depth
            + " blocks back to block "
            + block
            + ": "
            + removed.size()
            + " transactions out, "
            + back
            + " back in the pool");
    return removed.stream().map(Tx::txid).toList();
  }

  private void undo(Tx tx) {
    balances.put(tx.to(), balance(tx.to()).subtract(tx.value()));
    balances.put(tx.from(), balance(tx.from()).add(tx.cost()));
    nonces.put(tx.from(), nonce(tx.from()) - 1);
    receipts.remove(tx.txid());
  }

  private JsonNode receipt(String txid) {
    Transfer t = receipts.get(txid);
    if (t == null || t.block() > view) {
      return Json.mapper().nullNode();
    }
    Block b = chain.get((int) t.block());
    ObjectNode r = Json.mapper().createObjectNode();
    r.put("transactionHash", txid);
    r.put("transactionIndex", hex(BigInteger.valueOf(indexIn(b, txid))));
    r.put("blockHash", b.hash());
    r.put("blockNumber", hex(BigInteger.valueOf(t.block())));
    r.put("from", t.from());
    r.put("to", t.to());
    r.put("gasUsed", hex(BigInteger.valueOf(GAS)));
    r.put("status", "0x1");
    r.putArray("logs");
    return r;
  }

  private static int indexIn(Block b, String txid) {
    for (int i = 0; i < b.txs().size(); i++) {
      if (b.txs().get(i).txid().equals(txid)) {
        return i;
      }
    }
    throw new IllegalStateException(txid + " is not in block " + b.number());
  }

  /** Every receipt of the main chain's block at {@code tag}, as the answering node sees it. */
  private JsonNode blockReceipts(String tag) throws RpcException {
    JsonNode block = blockByNumber(tag, false);
    if (block.isNull()) {
      return block;
    }
    ArrayNode all = Json.mapper().createArrayNode();
    for (JsonNode txid : block.path("transactions")) {
      all.add(receipt(txid.asText()));
    }
    foundInBlockReceipts += all.size();
    return all;
  }

  private int foundInBlockReceipts;

  /** Receipts served a block at a time, to show that the seeds reach that path. */
  int minedFoundInBlockReceipts() {
    return foundInBlockReceipts;
  }

  // "latest" and "pending" are the head as the answering node sees it; no finality is simulated.
  private JsonNode blockByNumber(String tag, boolean full) throws RpcException {
    long number;
    switch (tag) {
      case "latest", "pending" -> number = view;
      case "earliest" -> number = 0;
      default -> {
        if (!tag.startsWith("0x") || tag.length() < 3) {
          throw error(-32602, "invalid argument 0: hex string without 0x prefix");
        }
        try {
          number = new BigInteger(tag.substring(2), 16).longValueExact();
        } catch (NumberFormatException | ArithmeticException e) {
          throw error(-32602, "invalid argument 0: invalid hex string");
        }
      }
    }
    if (number < 0 || number > view) {
      return Json.mapper().nullNode();
    }
    return blockJson(chain.get((int) number), full);
  }

  /**
   * The block whose state a read asks for: the one this call's node sees as latest, or one named by
   * its hash (EIP-1898), which a node answers only while it holds that block on its chain (geth:
   * "header for hash not found").
   */
  private long stateAt(JsonNode block) throws RpcException {
    if (!block.isObject()) {
      return view;
    }
    Block b = blocksByHash.get(key(block.path("blockHash").asText("")));
    if (b == null || !onChain(b) || b.number() > view) {
      throw error(-32000, "header for hash not found");
    }
    return b.number();
  }

  private JsonNode blockByHash(String hash, boolean full) {
    Block b = blocksByHash.get(key(hash));
    if (b == null || (onChain(b) && b.number() > view)) {
      // A lagging node has not seen it yet.
      return Json.mapper().nullNode();
    }
    return blockJson(b, full);
  }

  private boolean onChain(Block b) {
    return b.number() < chain.size() && chain.get((int) b.number()) == b;
  }

  private static ObjectNode blockJson(Block b, boolean full) {
    ObjectNode json = Json.mapper().createObjectNode();
    json.put("number", hex(BigInteger.valueOf(b.number())));
    json.put("hash", b.hash());
    json.put("parentHash", b.parentHash());
    json.put(
        "timestamp",
        hex(
            BigInteger.valueOf(
                b.time().equals(java.time.Instant.MIN) ? 0 : b.time().getEpochSecond())));
    json.put("gasUsed", hex(BigInteger.valueOf(GAS * b.txs().size())));
    ArrayNode txs = json.putArray("transactions");
    for (int i = 0; i < b.txs().size(); i++) {
      Tx tx = b.txs().get(i);
      if (!full) {
        txs.add(tx.txid());
        continue;
      }
      ObjectNode t = txs.addObject();
      t.put("hash", tx.txid());
      t.put("blockHash", b.hash());
      t.put("blockNumber", hex(BigInteger.valueOf(b.number())));
      t.put("transactionIndex", hex(BigInteger.valueOf(i)));
      t.put("from", tx.from());
      t.put("to", tx.to());
      t.put("value", hex(tx.value()));
      t.put("nonce", hex(BigInteger.valueOf(tx.nonce())));
      t.put("gas", hex(BigInteger.valueOf(GAS)));
      t.put("gasPrice", hex(tx.gasPrice()));
    }
    json.putArray("uncles");
    return json;
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
    if (pooled != null) {
      r.put("gasPrice", hex(pooled.gasPrice()));
    }
    if (t != null) {
      Block b = chain.get((int) t.block());
      r.put("blockHash", b.hash());
      r.put("blockNumber", hex(BigInteger.valueOf(t.block())));
      r.put("transactionIndex", hex(BigInteger.valueOf(indexIn(b, txid))));
    } else {
      r.putNull("blockHash");
      r.putNull("blockNumber");
      r.putNull("transactionIndex");
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

  /**
   * The account's balance as of block {@code at}: a lagging node's balance lags with its count, so
   * that the two may come from different nodes, in either order of freshness.
   */
  private BigInteger balanceAt(String account, long at) {
    BigInteger wei = balance(account);
    String who = key(account);
    for (long b = block; b > at; b--) {
      for (Tx tx : chain.get((int) b).txs()) {
        if (tx.from().equals(who)) {
          wei = wei.add(tx.cost());
        }
        if (tx.to().equals(who)) {
          wei = wei.subtract(tx.value());
        }
      }
    }
    return wei;
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
