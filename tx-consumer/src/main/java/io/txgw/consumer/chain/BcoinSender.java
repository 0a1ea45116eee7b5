package io.txgw.consumer.chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.txgw.common.json.Json;
import io.txgw.common.model.JournalEntry;
import io.txgw.common.model.Payout;
import io.txgw.consumer.rpc.Rpc;
import io.txgw.consumer.rpc.RpcException;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pays BTC from a bcoin wallet, many payouts per transaction. Prepare: the wallet funds and signs a
 * transaction without sending it ({@code POST /wallet/:id/create}) and its inputs are locked so
 * that the next unit cannot spend them. Broadcast: the node's {@code sendrawtransaction} with the
 * journaled bytes, then a check that the node holds a transaction with exactly the journaled
 * outputs, because bcoin returns txids for transactions its mempool rejected.
 *
 * <p>This is the bcoin dialect; Bitcoin Core's wallet (createrawtransaction, fundrawtransaction,
 * signrawtransactionwithwallet, lockunspent) gets a sender of its own.
 */
public final class BcoinSender extends BitcoinWalletSender {
  private static final Logger log = LoggerFactory.getLogger(BcoinSender.class);

  /** How long bcoin may take to show a transaction its wallet or node has just accepted. */
  private static final long MEMPOOL_WAIT_MILLIS = 2_000;

  /** Fee rate in satoshis per kvB. */
  private static final long FEE_RATE = 1_000;

  private final long mempoolWaitMillis;

  /**
   * @param walletName the wallet that pays; payouts with another source are refused
   * @param maxOutputs the most payouts one transaction carries
   */
  public BcoinSender(Rpc node, Rpc wallet, String walletName, int maxOutputs) {
    this(node, wallet, walletName, maxOutputs, MEMPOOL_WAIT_MILLIS);
  }

  /**
   * @param mempoolWait how long to keep asking for a transaction the node has just been given; a
   *     node that shows what it took at once (a simulated one) needs none, and no real sleep
   */
  public BcoinSender(
      Rpc node, Rpc wallet, String walletName, int maxOutputs, Duration mempoolWait) {
    this(node, wallet, walletName, maxOutputs, mempoolWait, Clock.systemUTC());
  }

  BcoinSender(Rpc node, Rpc wallet, String walletName, int maxOutputs, long mempoolWaitMillis) {
    this(node, wallet, walletName, maxOutputs, Duration.ofMillis(mempoolWaitMillis));
  }

  /**
   * @param clock measures how long a conflict has been seen before it is believed
   */
  public BcoinSender(
      Rpc node, Rpc wallet, String walletName, int maxOutputs, Duration mempoolWait, Clock clock) {
    super(node, wallet, walletName, maxOutputs, clock);
    this.mempoolWaitMillis = mempoolWait.toMillis();
  }

  @Override
  Preparation prepareFromWallet(List<Payout> payouts, boolean confirmedOnly)
      throws RpcException, InterruptedException {
    JsonNode tx = create(payouts, true, confirmedOnly);
    for (JsonNode input : tx.path("inputs")) {
      JsonNode prevout = input.path("prevout");
      wallet.rest(
          "PUT",
          "/wallet/"
              + walletName
              + "/locked/"
              + prevout.path("hash").asText()
              + "/"
              + prevout.path("index").asInt(),
          null);
    }
    return new Preparation.Signed(
        tx.path("hash").asText(),
        tx.path("hex").asText(),
        null,
        outputIndexes(
            tx.path("outputs"),
            payouts,
            out -> out.path("address").asText(),
            out -> BigInteger.valueOf(out.path("value").asLong())),
        // bcoin writes the fee in satoshis.
        tx.path("fee").isIntegralNumber() ? BigInteger.valueOf(tx.path("fee").asLong()) : null);
  }

  @Override
  long mempoolWaitMillis() {
    return mempoolWaitMillis;
  }

  @Override
  boolean fundableWithUnconfirmed(List<Payout> payouts) throws RpcException, InterruptedException {
    try {
      create(payouts, false, false);
      return true;
    } catch (RpcException e) {
      if (e.kind() == RpcException.Kind.NODE_ERROR) {
        return false;
      }
      throw e;
    }
  }

  /**
   * The wallet's transaction paying {@code payouts}, not sent: signed (from confirmed coins only,
   * with {@code confirmedOnly}), or as a question unsigned from its confirmed coins and its own
   * unconfirmed change (bcoin's "smart" coins), nothing locked.
   */
  private JsonNode create(List<Payout> payouts, boolean sign, boolean confirmedOnly)
      throws RpcException, InterruptedException {
    ObjectNode request = Json.mapper().createObjectNode();
    ArrayNode outputs = request.putArray("outputs");
    for (Payout p : payouts) {
      outputs.addObject().put("address", p.to().value()).put("value", sats(p).longValueExact());
    }
    request.put("sign", sign);
    request.put("rate", FEE_RATE);
    if (confirmedOnly) {
      // Unconfirmed coins are the children's (see BitcoinWalletSender).
      request.put("depth", 1);
    }
    if (!sign) {
      request.put("smart", true);
    }
    return wallet.rest("POST", "/wallet/" + walletName + "/create", request);
  }

  @Override
  ChildPays.Wallet childWallet() {
    String base = "/wallet/" + walletName;
    return new ChildPays.Wallet() {
      @Override
      public boolean reserve(ChildPays.Outpoint coin) throws RpcException, InterruptedException {
        String at = coin.txid() + "/" + coin.index();
        try {
          // The wallet's coin: unspent in its own view, pending transactions of its own counted.
          wallet.rest("GET", base + "/coin/" + at, null);
        } catch (RpcException e) {
          if (e.kind() == RpcException.Kind.NODE_ERROR) {
            return false;
          }
          throw e;
        }
        wallet.rest("PUT", base + "/locked/" + at, null);
        return true;
      }

      @Override
      public void release(ChildPays.Outpoint coin) throws RpcException, InterruptedException {
        wallet.rest("DELETE", base + "/locked/" + coin.txid() + "/" + coin.index(), null);
      }

      @Override
      public String sign(String unsignedHex) throws RpcException, InterruptedException {
        ObjectNode body = Json.mapper().createObjectNode().put("tx", unsignedHex);
        JsonNode signed = wallet.rest("POST", base + "/sign", body);
        return signed.path("hex").isTextual() ? signed.path("hex").asText() : null;
      }

      @Override
      public java.util.Set<ChildPays.Outpoint> locked() throws RpcException, InterruptedException {
        java.util.Set<ChildPays.Outpoint> out = new java.util.HashSet<>();
        for (JsonNode o : wallet.rest("GET", base + "/locked", null)) {
          out.add(new ChildPays.Outpoint(o.path("hash").asText(), o.path("index").asInt()));
        }
        return out;
      }
    };
  }

  @Override
  public SendOutcome broadcast(JournalEntry unit)
      throws NodeUnavailableException, InterruptedException {
    for (int attempt = 1; attempt <= 2; attempt++) {
      try {
        node.call("sendrawtransaction", unit.rawTransaction());
        // Other nodes get the bytes too, so that losing this one cannot lose the transaction.
        node.relay("sendrawtransaction", unit.rawTransaction());
      } catch (RpcException e) {
        if (!e.kind().outcomeUnknown() && e.kind() != RpcException.Kind.NODE_ERROR) {
          throw unavailable(unit, e);
        }
        // A refusal or a lost answer is settled below by asking for the transaction itself.
        log.warn("unit {}: sendrawtransaction said {}", unit.unitId(), e.getMessage());
      }
      SendOutcome held = held(unit);
      if (held != null) {
        return held;
      }
    }
    return conflictOrWait(unit);
  }

  /**
   * The node does not hold the transaction. Only when one of its inputs is spent in the chain, and
   * the node then still does not know the transaction (so the spender is another one), can it never
   * be mined: its payouts are prepared anew. Anything else (an input spent only in the mempool,
   * which a reorg or eviction can undo; a look-up that failed) leaves it journaled, to send again.
   */
  private SendOutcome conflictOrWait(JournalEntry unit)
      throws NodeUnavailableException, InterruptedException {
    try {
      for (JsonNode input : node.call("decoderawtransaction", unit.rawTransaction()).path("vin")) {
        String prev = input.path("txid").asText();
        int index = input.path("vout").asInt();
        JsonNode prevTx = node.call("getrawtransaction", prev, true);
        boolean prevConfirmed = prevTx.path("confirmations").asInt(0) > 0;
        JsonNode unspent = node.call("gettxout", prev, index, false);
        if (prevConfirmed && (unspent == null || unspent.isNull())) {
          // Asked after the spend was seen: were the spender ours, the index would hold it now.
          JsonNode ours = lookUp(unit.txid());
          if (ours != null) {
            settled(unit);
            return outcomeOf(ours, unit);
          }
          return conflictOnceSeenLongEnough(
              unit,
              "input " + prev + ":" + index + " was spent in the chain by another transaction");
        }
      }
    } catch (RpcException e) {
      if (e.kind() != RpcException.Kind.NODE_ERROR) {
        throw unavailable(unit, e);
      }
      return SendOutcome.waiting(
          unit.txid(), "not held, and its inputs could not be checked: " + e.getMessage());
    }
    // Every input unspent (a reorganisation took the block that spent one): a conflict seen
    // before says nothing any more, and the wait before believing one starts over.
    settled(unit);
    return SendOutcome.waiting(
        unit.txid(), "the node does not hold " + unit.txid() + " and its inputs are unspent");
  }

  /**
   * BROADCAST once the node shows the transaction with its journaled outputs; null if it keeps
   * answering that it does not know it. A look-up that fails otherwise tells nothing.
   */
  private SendOutcome held(JournalEntry unit)
      throws NodeUnavailableException, InterruptedException {
    long delay = 5;
    for (long waited = 0; ; waited += delay, delay *= 2) {
      try {
        JsonNode tx = lookUp(unit.txid());
        if (tx != null) {
          return outcomeOf(tx, unit);
        }
      } catch (RpcException e) {
        throw unavailable(unit, e);
      }
      if (waited + delay > mempoolWaitMillis) {
        return null;
      }
      // bcoin answers before its mempool has the transaction; ask again shortly.
      Thread.sleep(delay);
    }
  }

  /** The transaction as the node knows it, or null when the node answers that it does not. */
  private JsonNode lookUp(String txid) throws RpcException, InterruptedException {
    try {
      return node.call("getrawtransaction", txid, true);
    } catch (RpcException e) {
      if (e.kind() == RpcException.Kind.NODE_ERROR) {
        return null;
      }
      throw e;
    }
  }

  private static SendOutcome outcomeOf(JsonNode tx, JournalEntry unit) {
    // A txid is the hash of the bytes: another transaction under it means a node that lies.
    return paysEveryItem(tx, unit)
        ? SendOutcome.broadcast(unit.txid())
        : SendOutcome.waiting(
            unit.txid(), "the node shows " + unit.txid() + " without the journaled outputs");
  }

  private NodeUnavailableException unavailable(JournalEntry unit, RpcException e) {
    return new NodeUnavailableException(
        "cannot broadcast " + unit.txid() + ": " + e.getMessage(), e);
  }

  private static boolean paysEveryItem(JsonNode tx, JournalEntry unit) {
    JsonNode outs = tx.path("vout");
    for (JournalEntry.Item item : unit.payouts()) {
      JsonNode out = outs.path(item.outputIndex());
      boolean addressMatches = false;
      for (JsonNode a : out.path("scriptPubKey").path("addresses")) {
        addressMatches |= item.to().value().equals(a.asText());
      }
      if (!addressMatches
          || !BitcoinAmounts.sats(out.path("value"))
              .equals(item.amount().toUnits(BitcoinAmounts.DECIMALS))) {
        return false;
      }
    }
    return true;
  }
}
