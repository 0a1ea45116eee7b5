package io.txgw.consumer.chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.txgw.common.address.Keccak;
import io.txgw.common.json.Json;
import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.common.model.Payout;
import io.txgw.consumer.rpc.Rpc;
import io.txgw.consumer.rpc.RpcException;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pays ETH from node-held accounts (anvil's dev accounts, geth with an unlocked account). The node
 * signs each payout with a nonce this sender assigns, so the txid is known before broadcast; an
 * unanswered broadcast is settled by looking the txid up, and a resend is always the same bytes.
 */
public final class EthereumSender implements ChainSender {
  private static final Logger log = LoggerFactory.getLogger(EthereumSender.class);
  private static final long TRANSFER_GAS = 21_000;
  private static final Duration GAS_PRICE_TTL = Duration.ofSeconds(10);
  private static final HexFormat HEX = HexFormat.of();

  private final Rpc rpc;
  private final Clock clock;

  /** Next nonce per sending account; absent means "ask the node". */
  private final Map<String, BigInteger> nextNonce = new HashMap<>();

  private BigInteger gasPrice;
  private Instant gasPriceAt = Instant.MIN;

  public EthereumSender(Rpc rpc, Clock clock) {
    this.rpc = rpc;
    this.clock = clock;
  }

  @Override
  public Chain chain() {
    return Chain.ETH;
  }

  @Override
  public String nodeName() {
    return rpc.name();
  }

  @Override
  public int maxPayoutsPerUnit() {
    return 1;
  }

  @Override
  public int maxUnitsPerRound() {
    // Nonces only; a round is one journal transaction, so larger rounds cost fewer.
    return 500;
  }

  @Override
  public void reset() {
    nextNonce.clear();
  }

  @Override
  public Preparation prepare(String source, List<Payout> payouts)
      throws NodeUnavailableException, InterruptedException {
    if (payouts.size() != 1) {
      throw new IllegalArgumentException("an Ethereum transaction pays exactly one payout");
    }
    Payout payout = payouts.get(0);
    try {
      BigInteger nonce = nonceFor(source);
      String raw = sign(payout, nonce);
      String txid = "0x" + HEX.formatHex(Keccak.hash256(HEX.parseHex(raw.substring(2))));
      nextNonce.put(source, nonce.add(BigInteger.ONE));
      return new Preparation.Signed(txid, raw, nonce.longValueExact(), List.of());
    } catch (RpcException e) {
      nextNonce.remove(source);
      if (e.kind() == RpcException.Kind.NODE_ERROR) {
        return new Preparation.Refused(e.reason());
      }
      throw new NodeUnavailableException(
          "cannot prepare payout " + payout.id() + " on " + nodeName() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void forget(String account) {
    nextNonce.remove(account);
  }

  @Override
  public SendOutcome broadcast(JournalEntry unit)
      throws NodeUnavailableException, InterruptedException {
    String raw = unit.rawTransaction();
    String txid = unit.txid();
    try {
      JsonNode hash = rpc.call("eth_sendRawTransaction", raw);
      if (hash == null || !txid.equalsIgnoreCase(hash.asText())) {
        log.warn("unit {}: node answered hash {} for transaction {}", unit.unitId(), hash, txid);
      }
      // Some nodes answer with a hash for a transaction they dropped: look it up either way.
      return verify(unit);
    } catch (RpcException e) {
      if (e.kind() == RpcException.Kind.NODE_ERROR) {
        return refused(unit, e);
      }
      if (e.kind().outcomeUnknown()) {
        log.warn(
            "unit {}: outcome of {} unknown ({}), asking the node", unit.unitId(), txid, e.kind());
        return verify(unit);
      }
      throw unavailable(unit, e);
    }
  }

  private SendOutcome refused(JournalEntry unit, RpcException e)
      throws NodeUnavailableException, InterruptedException {
    String message = e.getMessage().toLowerCase(Locale.ROOT);
    if (message.contains("already known") || message.contains("already imported")) {
      return verify(unit);
    }
    boolean nonceTaken = message.contains("nonce too low");
    if (nonceTaken || message.contains("replacement transaction underpriced")) {
      try {
        JsonNode ours = lookUp(unit.txid());
        if (ours != null) {
          // Our own transaction, broadcast earlier (and perhaps mined already).
          return executable(unit, ours);
        }
        if (unit.nonce() != null && minedNonces(unit.source()) > unit.nonce()) {
          // Another transaction with this nonce is in the chain: these bytes can never be
          // mined, nothing of them was paid, and the payouts are prepared anew.
          nextNonce.remove(unit.source());
          return SendOutcome.conflicted(unit.txid(), e.reason());
        }
      } catch (RpcException lookup) {
        if (lookup.kind() == RpcException.Kind.NODE_ERROR) {
          return SendOutcome.unknown(
              unit.txid(), "nonce taken and the node cannot be asked: " + lookup.getMessage());
        }
        throw unavailable(unit, lookup);
      }
      // Another transaction with this nonce waits in the pool. It may yet be dropped and these
      // bytes mined, so they are neither reported failed nor replaced: try again later.
      nextNonce.remove(unit.source());
      return SendOutcome.waiting(unit.txid(), e.reason());
    }
    // The node refused these bytes for good (funds, gas): they can never be mined. The nonce is
    // free again; ask the node next time.
    nextNonce.remove(unit.source());
    return SendOutcome.failed(e.reason());
  }

  /**
   * Establishes that the node holds the transaction; resends the same signed bytes when it does not
   * (same nonce, same hash: it can never pay twice).
   */
  private SendOutcome verify(JournalEntry unit)
      throws NodeUnavailableException, InterruptedException {
    String txid = unit.txid();
    for (int attempt = 0; attempt < 3; attempt++) {
      try {
        JsonNode held = lookUp(txid);
        if (held != null) {
          return executable(unit, held);
        }
        rpc.call("eth_sendRawTransaction", unit.rawTransaction());
      } catch (RpcException e) {
        String message = e.getMessage().toLowerCase(Locale.ROOT);
        if (e.kind() == RpcException.Kind.NODE_ERROR
            && !message.contains("already")
            && !message.contains("nonce too low")) {
          return SendOutcome.unknown(
              txid, "node refused a resend of the same transaction: " + e.reason());
        }
      }
    }
    return SendOutcome.unknown(txid, "node does not hold transaction " + txid + " after resends");
  }

  /**
   * BROADCAST once the held transaction is mined or can be: its nonce is below the account's
   * pending count. A node holds a transaction whose nonce is ahead of that count in a queue, and
   * mines it only once every nonce before it is taken; reporting it BROADCAST then would claim a
   * payment that may never happen.
   */
  private SendOutcome executable(JournalEntry unit, JsonNode held)
      throws NodeUnavailableException, InterruptedException {
    boolean mined = !held.path("blockNumber").isMissingNode() && !held.path("blockNumber").isNull();
    if (mined || unit.nonce() == null) {
      return SendOutcome.broadcast(unit.txid());
    }
    try {
      long pending = pendingNonces(unit.source());
      if (pending > unit.nonce()) {
        return SendOutcome.broadcast(unit.txid());
      }
      if (pending == unit.nonce() && minedNonces(unit.source()) == unit.nonce()) {
        // Nothing is missing in front of it, yet the node keeps it queued: anvil's pool can strand
        // a transaction that arrived while an earlier nonce was being replaced. Cleared from the
        // pool and sent again, the same bytes are mined at once; a node without the dev method
        // answers "method not found" and the unit waits as below.
        log.warn(
            "unit {}: stranded in the node's pool at nonce {}; sending it again",
            unit.unitId(),
            unit.nonce());
        if (clearPool(unit.source())) {
          rpc.call("eth_sendRawTransaction", unit.rawTransaction());
          pending = pendingNonces(unit.source());
          if (pending > unit.nonce()) {
            return SendOutcome.broadcast(unit.txid());
          }
        }
      }
      nextNonce.remove(unit.source());
      return SendOutcome.waiting(
          unit.txid(),
          "queued behind a missing nonce: the account's pending count is "
              + pending
              + ", this transaction's nonce "
              + unit.nonce());
    } catch (RpcException e) {
      if (e.kind() == RpcException.Kind.NODE_ERROR) {
        nextNonce.remove(unit.source());
        return SendOutcome.waiting(unit.txid(), "held but not mined yet: " + e.reason());
      }
      throw unavailable(unit, e);
    }
  }

  /**
   * Drops the account's transactions from a development node's pool. Only the account's lease
   * holder calls this, and of its transactions only ones never reported BROADCAST can be in the
   * pool (a dev node mines every executable one at once): each is still journaled and is sent
   * again.
   */
  private boolean clearPool(String account) throws InterruptedException {
    try {
      rpc.call("anvil_removePoolTransactions", account);
      return true;
    } catch (RpcException e) {
      log.debug("node cannot clear its pool: {}", e.getMessage());
      return false;
    }
  }

  private long pendingNonces(String account) throws RpcException, InterruptedException {
    return quantity(rpc.call("eth_getTransactionCount", account, "pending")).longValue();
  }

  private long minedNonces(String account) throws RpcException, InterruptedException {
    return quantity(rpc.call("eth_getTransactionCount", account, "latest")).longValue();
  }

  /** The node's view of the transaction, or null when it does not hold it. */
  private JsonNode lookUp(String txid) throws RpcException, InterruptedException {
    JsonNode tx = rpc.call("eth_getTransactionByHash", txid);
    return tx == null || tx.isNull() ? null : tx;
  }

  private NodeUnavailableException unavailable(JournalEntry unit, RpcException e) {
    return new NodeUnavailableException(
        "cannot broadcast " + unit.txid() + " on " + nodeName() + ": " + e.getMessage(), e);
  }

  private BigInteger nonceFor(String account) throws RpcException, InterruptedException {
    BigInteger nonce = nextNonce.get(account);
    if (nonce == null) {
      nonce = quantity(rpc.call("eth_getTransactionCount", account, "pending"));
      nextNonce.put(account, nonce);
    }
    return nonce;
  }

  private String sign(Payout payout, BigInteger nonce) throws RpcException, InterruptedException {
    ObjectNode tx = Json.mapper().createObjectNode();
    tx.put("from", payout.source());
    tx.put("to", payout.to().value());
    tx.put("value", hex(payout.amount().toUnits(payout.asset().decimals())));
    tx.put("gas", hex(BigInteger.valueOf(TRANSFER_GAS)));
    tx.put("gasPrice", hex(gasPrice()));
    tx.put("nonce", hex(nonce));
    JsonNode signed = rpc.call("eth_signTransaction", tx);
    // geth answers {raw, tx}; anvil answers the raw hex alone.
    String raw =
        signed != null && signed.isObject() ? signed.path("raw").asText() : signed.asText();
    if (raw == null || !raw.startsWith("0x")) {
      throw new RpcException(
          RpcException.Kind.MALFORMED,
          null,
          200,
          "eth_signTransaction returned no raw transaction",
          null);
    }
    return raw;
  }

  private BigInteger gasPrice() throws RpcException, InterruptedException {
    Instant now = clock.instant();
    if (gasPrice == null || now.isAfter(gasPriceAt.plus(GAS_PRICE_TTL))) {
      gasPrice = quantity(rpc.call("eth_gasPrice"));
      gasPriceAt = now;
    }
    return gasPrice;
  }

  private static BigInteger quantity(JsonNode node) throws RpcException {
    if (node == null || !node.isTextual() || !node.asText().startsWith("0x")) {
      throw new RpcException(
          RpcException.Kind.MALFORMED, null, 200, "expected a hex quantity, got " + node, null);
    }
    return new BigInteger(node.asText().substring(2), 16);
  }

  private static String hex(BigInteger value) {
    return "0x" + value.toString(16);
  }
}
