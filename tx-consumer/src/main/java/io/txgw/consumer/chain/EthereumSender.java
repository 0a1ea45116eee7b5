package io.txgw.consumer.chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.txgw.common.address.Keccak;
import io.txgw.common.json.Json;
import io.txgw.common.model.Chain;
import io.txgw.common.model.Payout;
import io.txgw.common.model.PayoutStatus;
import io.txgw.consumer.rpc.JsonRpcClient;
import io.txgw.consumer.rpc.RpcException;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pays ETH from node-held accounts (anvil's dev accounts, geth with an unlocked account). Each
 * payout is signed by the node with a nonce this sender assigns, so the txid is known before the
 * transaction is broadcast; that is what lets an unanswered send be looked up instead of resent.
 */
public final class EthereumSender implements ChainSender {
  private static final Logger log = LoggerFactory.getLogger(EthereumSender.class);
  private static final long TRANSFER_GAS = 21_000;
  private static final Duration GAS_PRICE_TTL = Duration.ofSeconds(10);
  private static final HexFormat HEX = HexFormat.of();

  private final JsonRpcClient rpc;
  private final Clock clock;

  /** Next nonce per sending account; absent means "ask the node". */
  private final Map<String, BigInteger> nextNonce = new HashMap<>();

  private BigInteger gasPrice;
  private Instant gasPriceAt = Instant.MIN;

  public EthereumSender(JsonRpcClient rpc, Clock clock) {
    this.rpc = rpc;
    this.clock = clock;
  }

  @Override
  public Chain chain() {
    return Chain.ETH;
  }

  @Override
  public String nodeName() {
    return rpc.endpoint().name();
  }

  @Override
  public SendOutcome send(Payout payout) throws NodeUnavailableException, InterruptedException {
    String account = payout.source();
    try {
      BigInteger nonce = nonceFor(account);
      String raw = sign(payout, nonce);
      String txid = "0x" + HEX.formatHex(Keccak.hash256(HEX.parseHex(raw.substring(2))));
      SendOutcome outcome = broadcast(payout, raw, txid);
      if (outcome.status() == PayoutStatus.BROADCAST) {
        nextNonce.put(account, nonce.add(BigInteger.ONE));
      } else {
        // A failed or unsettled send leaves the nonce in doubt: ask the node next time.
        nextNonce.remove(account);
      }
      return outcome;
    } catch (RpcException e) {
      nextNonce.remove(account);
      return beforeBroadcast(payout, e);
    }
  }

  /** Failures while preparing: nothing was broadcast, so nothing can have been paid. */
  private SendOutcome beforeBroadcast(Payout payout, RpcException e)
      throws NodeUnavailableException {
    if (e.kind() == RpcException.Kind.NODE_ERROR) {
      return SendOutcome.failed(e.reason());
    }
    throw new NodeUnavailableException(
        "cannot prepare payout " + payout.id() + " on " + nodeName() + ": " + e.getMessage(), e);
  }

  private SendOutcome broadcast(Payout payout, String raw, String txid)
      throws RpcException, InterruptedException {
    try {
      JsonNode hash = rpc.call("eth_sendRawTransaction", raw);
      if (hash == null || !txid.equalsIgnoreCase(hash.asText())) {
        log.warn("payout {}: node answered hash {} for transaction {}", payout.id(), hash, txid);
      }
      return verify(payout, raw, txid);
    } catch (RpcException e) {
      if (e.kind() == RpcException.Kind.NODE_ERROR) {
        String message = e.getMessage().toLowerCase(Locale.ROOT);
        if (message.contains("already known") || message.contains("already imported")) {
          return verify(payout, raw, txid);
        }
        if (message.contains("nonce too low") && knows(txid)) {
          return SendOutcome.broadcast(txid);
        }
        return SendOutcome.failed(e.reason());
      }
      if (e.kind().outcomeUnknown()) {
        log.warn(
            "payout {}: outcome of {} unknown ({}), asking the node", payout.id(), txid, e.kind());
        return verify(payout, raw, txid);
      }
      // The node never saw it. A later attempt reuses this nonce, so at most one can be mined.
      throw e;
    }
  }

  /**
   * Establishes that the node holds the transaction. Resending the same signed bytes is safe: same
   * nonce, same hash, so it can never pay twice.
   */
  private SendOutcome verify(Payout payout, String raw, String txid) throws InterruptedException {
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
