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
  public SendOutcome broadcast(JournalEntry unit)
      throws NodeUnavailableException, InterruptedException {
    String raw = unit.rawTransaction();
    String txid = unit.txid();
    try {
      JsonNode hash = rpc.call("eth_sendRawTransaction", raw);
      if (hash == null || !txid.equalsIgnoreCase(hash.asText())) {
        log.warn("unit {}: node answered hash {} for transaction {}", unit.unitId(), hash, txid);
      }
      return verify(raw, txid);
    } catch (RpcException e) {
      if (e.kind() == RpcException.Kind.NODE_ERROR) {
        return refused(unit, e);
      }
      if (e.kind().outcomeUnknown()) {
        log.warn(
            "unit {}: outcome of {} unknown ({}), asking the node", unit.unitId(), txid, e.kind());
        return verify(raw, txid);
      }
      throw new NodeUnavailableException(
          "cannot broadcast " + txid + " on " + nodeName() + ": " + e.getMessage(), e);
    }
  }

  private SendOutcome refused(JournalEntry unit, RpcException e) throws InterruptedException {
    String message = e.getMessage().toLowerCase(Locale.ROOT);
    if (message.contains("already known") || message.contains("already imported")) {
      return verify(unit.rawTransaction(), unit.txid());
    }
    try {
      if (message.contains("nonce too low") && knows(unit.txid())) {
        // Our own transaction, broadcast earlier and already mined.
        return SendOutcome.broadcast(unit.txid());
      }
    } catch (RpcException lookup) {
      return SendOutcome.unknown(
          unit.txid(), "nonce too low and the node cannot be asked: " + lookup.getMessage());
    }
    // The node refused these bytes for good (funds, a nonce another transaction took): they can
    // never be mined. The nonce is free again unless another transaction took it; ask next time.
    nextNonce.remove(unit.source());
    return SendOutcome.failed(e.reason());
  }

  /**
   * Establishes that the node holds the transaction; resends the same signed bytes when it does not
   * (same nonce, same hash: it can never pay twice).
   */
  private SendOutcome verify(String raw, String txid) throws InterruptedException {
    for (int attempt = 0; attempt < 3; attempt++) {
      try {
        if (knows(txid)) {
          return SendOutcome.broadcast(txid);
        }
        rpc.call("eth_sendRawTransaction", raw);
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

  private boolean knows(String txid) throws RpcException, InterruptedException {
    JsonNode tx = rpc.call("eth_getTransactionByHash", txid);
    return tx != null && !tx.isNull();
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
