package io.txgw.consumer.chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import io.txgw.common.model.Chain;
import io.txgw.common.model.Payout;
import io.txgw.consumer.rpc.JsonRpcClient;
import io.txgw.consumer.rpc.RpcException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.HashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pays BTC through a bcoin node's wallet ({@code sendtoaddress} on the wallet port) and checks
 * every answer on the node port: bcoin returns txids for transactions its mempool rejected, so a
 * txid counts only once the node holds a transaction paying the right address the right amount.
 *
 * <p>This is the bcoin dialect; Bitcoin Core's wallet differs (one port, {@code /wallet/<name>}
 * paths, errors with HTTP 500) and gets a sender of its own.
 */
public final class BcoinSender implements ChainSender {
  private static final Logger log = LoggerFactory.getLogger(BcoinSender.class);
  private static final int SATS_DECIMALS = 8;
  private static final int HISTORY_SCAN = 500;
  private static final long MEMPOOL_WAIT_MILLIS = 2_000;

  private final JsonRpcClient node;
  private final JsonRpcClient wallet;
  private final String walletName;

  /** Txids already matched to a payout, so that a history lookup never claims one twice. */
  private final Set<String> claimed = new HashSet<>();

  /**
   * @param walletName the wallet the wallet port serves; payouts with another source fail
   */
  public BcoinSender(JsonRpcClient node, JsonRpcClient wallet, String walletName) {
    this.node = node;
    this.wallet = wallet;
    this.walletName = walletName;
  }

  @Override
  public Chain chain() {
    return Chain.BTC;
  }

  @Override
  public String nodeName() {
    return node.endpoint().name();
  }

  @Override
  public SendOutcome send(Payout payout) throws NodeUnavailableException, InterruptedException {
    if (!payout.source().equals(walletName)) {
      return SendOutcome.failed(
          "unknown source wallet '"
              + payout.source()
              + "'; this node pays from '"
              + walletName
              + "'");
    }
    BigInteger sats = payout.amount().toUnits(SATS_DECIMALS);
    String txid;
    try {
      // bcoin reads the amount as a JS number; any value below 2^53 satoshis survives that
      // exactly, and verify() checks the output on chain anyway.
      JsonNode result =
          wallet.call(
              "sendtoaddress",
              payout.to().value(),
              new DecimalNode(payout.amount().toBigDecimal()));
      txid = result == null ? null : result.asText();
    } catch (RpcException e) {
      if (e.kind() == RpcException.Kind.NODE_ERROR) {
        return SendOutcome.failed(e.reason());
      }
      if (!e.kind().outcomeUnknown()) {
        throw new NodeUnavailableException(
            "cannot reach wallet of " + nodeName() + " for payout " + payout.id(), e);
      }
      log.warn(
          "payout {}: sendtoaddress outcome unknown ({}), searching the wallet",
          payout.id(),
          e.kind());
      return findInHistory(payout, sats);
    }
    if (txid == null || txid.isEmpty()) {
      return SendOutcome.unknown(null, "wallet answered without a txid");
    }
    claimed.add(txid);
    return verify(payout, txid, sats);
  }

  /**
   * Looks the transaction up on the node until it shows or the wait runs out. bcoin's wallet
   * answers before its node has put the transaction in the mempool, so a lookup right after the
   * answer can miss a transaction that arrives milliseconds later.
   */
  private SendOutcome verify(Payout payout, String txid, BigInteger sats)
      throws InterruptedException {
    RpcException last = null;
    long delay = 5;
    for (long waited = 0; waited <= MEMPOOL_WAIT_MILLIS; waited += delay, delay *= 2) {
      try {
        JsonNode tx = node.call("getrawtransaction", txid, true);
        if (paysExactly(tx, payout.to().value(), sats)) {
          return SendOutcome.broadcast(txid);
        }
        return SendOutcome.unknown(
            txid,
            "transaction " + txid + " does not pay " + payout.amount() + " to " + payout.to());
      } catch (RpcException e) {
        last = e;
      }
      Thread.sleep(delay);
    }
    String reason =
        last.kind() == RpcException.Kind.NODE_ERROR
            ? "wallet returned txid "
                + txid
                + " but the node holds no such transaction ("
                + last.reason()
                + ")"
            : "cannot check transaction " + txid + " on the node: " + last.getMessage();
    return SendOutcome.unknown(txid, reason);
  }

  /** After a send with no answer: did the wallet pay this address this amount? */
  private SendOutcome findInHistory(Payout payout, BigInteger sats) throws InterruptedException {
    try {
      JsonNode history = wallet.call("listtransactions", "", HISTORY_SCAN);
      for (JsonNode entry : history) {
        String txid = entry.path("txid").asText();
        if ("send".equals(entry.path("category").asText())
            && payout.to().value().equals(entry.path("address").asText())
            && toSats(entry.path("amount")).abs().equals(sats)
            && !claimed.contains(txid)) {
          claimed.add(txid);
          return verify(payout, txid, sats);
        }
      }
      return SendOutcome.unknown(
          null, "send had no answer and the wallet shows no such payment yet");
    } catch (RpcException e) {
      return SendOutcome.unknown(
          null, "send had no answer and the wallet could not be searched: " + e.getMessage());
    }
  }

  private static boolean paysExactly(JsonNode tx, String address, BigInteger sats) {
    for (JsonNode out : tx.path("vout")) {
      for (JsonNode a : out.path("scriptPubKey").path("addresses")) {
        if (address.equals(a.asText()) && toSats(out.path("value")).equals(sats)) {
          return true;
        }
      }
    }
    return false;
  }

  private static BigInteger toSats(JsonNode btc) {
    BigDecimal value = btc.isNumber() ? btc.decimalValue() : new BigDecimal(btc.asText("0"));
    try {
      return value.movePointRight(SATS_DECIMALS).stripTrailingZeros().toBigIntegerExact();
    } catch (ArithmeticException e) {
      // Finer than a satoshi: not an amount this gateway sent, so it matches nothing.
      return BigInteger.ONE.negate();
    }
  }
}
