package io.txgw.consumer.chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.txgw.common.json.Json;
import io.txgw.common.model.JournalEntry;
import io.txgw.common.model.Payout;
import io.txgw.consumer.rpc.Rpc;
import io.txgw.consumer.rpc.RpcException;
import java.time.Clock;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pays BTC from a Bitcoin Core wallet, many payouts per transaction: the production dialect.
 * Prepare: {@code createrawtransaction} with the outputs, {@code fundrawtransaction} with {@code
 * lockUnspents} (so the next unit cannot spend the same coins), {@code
 * signrawtransactionwithwallet}. Broadcast: {@code sendrawtransaction} of the journaled bytes, then
 * the wallet's {@code gettransaction} tells whether it holds the transaction (confirmations 0 or
 * more) or sees it conflicted by a transaction in the chain (negative confirmations).
 *
 * <p>The wallet client's URL names the wallet ({@code http://node:8332/wallet/payouts}); Core
 * answers JSON-RPC errors with HTTP 500, which the client reads as the node's decision.
 */
public final class BitcoinCoreSender extends BitcoinWalletSender {
  private static final Logger log = LoggerFactory.getLogger(BitcoinCoreSender.class);

  /** RPC_VERIFY_ALREADY_IN_CHAIN: our own transaction, already mined. */
  private static final int ALREADY_IN_CHAIN = -27;

  public BitcoinCoreSender(Rpc node, Rpc wallet, String walletName, int maxOutputs) {
    this(node, wallet, walletName, maxOutputs, Clock.systemUTC());
  }

  /**
   * @param clock measures how long a conflict has been seen before it is believed
   */
  public BitcoinCoreSender(Rpc node, Rpc wallet, String walletName, int maxOutputs, Clock clock) {
    super(node, wallet, walletName, maxOutputs, clock);
  }

  @Override
  Preparation prepareFromWallet(List<Payout> payouts, boolean confirmedOnly)
      throws RpcException, InterruptedException {
    ObjectNode outputs = Json.mapper().createObjectNode();
    for (Payout p : payouts) {
      if (outputs.has(p.to().value())) {
        // Core's raw transactions take one output per address; the refusal makes the round
        // prepare these payouts one by one.
        return new Preparation.Refused("two payouts to " + p.to() + " in one transaction");
      }
      outputs.set(p.to().value(), new DecimalNode(p.amount().toBigDecimal()));
    }
    JsonNode funding = fund(outputs, true, confirmedOnly);
    String funded = funding.path("hex").asText();
    JsonNode signed = wallet.call("signrawtransactionwithwallet", funded);
    if (!signed.path("complete").asBoolean(false)) {
      return new Preparation.Refused("wallet could not sign every input: " + signed.path("errors"));
    }
    String hex = signed.path("hex").asText();
    JsonNode decoded = node.call("decoderawtransaction", hex);
    return new Preparation.Signed(
        decoded.path("txid").asText(),
        hex,
        null,
        outputIndexes(
            decoded.path("vout"),
            payouts,
            out -> {
              JsonNode script = out.path("scriptPubKey");
              // Core 22+ writes one "address"; older releases a list of "addresses".
              return script.has("address")
                  ? script.path("address").asText()
                  : script.path("addresses").path(0).asText();
            },
            out -> BitcoinAmounts.sats(out.path("value"))),
        // Core writes the fee in BTC.
        funding.path("fee").isNumber() ? BitcoinAmounts.sats(funding.path("fee")) : null);
  }

  @Override
  boolean fundableWithUnconfirmed(List<Payout> payouts) throws RpcException, InterruptedException {
    ObjectNode outputs = Json.mapper().createObjectNode();
    for (Payout p : payouts) {
      outputs.set(p.to().value(), new DecimalNode(p.amount().toBigDecimal()));
    }
    try {
      fund(outputs, false, false);
      return true;
    } catch (RpcException e) {
      if (e.kind() == RpcException.Kind.NODE_ERROR) {
        return false;
      }
      throw e;
    }
  }

  /**
   * The wallet's funding of {@code outputs}, its inputs locked with {@code lock}: from confirmed
   * coins only with {@code confirmedOnly}, or from its confirmed coins and its own unconfirmed
   * change (Core's default).
   */
  private JsonNode fund(ObjectNode outputs, boolean lock, boolean confirmedOnly)
      throws RpcException, InterruptedException {
    String unsigned =
        wallet.call("createrawtransaction", Json.mapper().createArrayNode(), outputs).asText();
    ObjectNode options = Json.mapper().createObjectNode().put("lockUnspents", lock);
    if (confirmedOnly) {
      // Unconfirmed coins are the children's (see BitcoinWalletSender). Core 25 and later know
      // minconf; an earlier one refuses the call (the log says why): payouts wait, then fail.
      options.put("minconf", 1);
    }
    return wallet.call("fundrawtransaction", unsigned, options);
  }

  private static com.fasterxml.jackson.databind.node.ArrayNode outpoints(ChildPays.Outpoint coin) {
    com.fasterxml.jackson.databind.node.ArrayNode list = Json.mapper().createArrayNode();
    list.addObject().put("txid", coin.txid()).put("vout", coin.index());
    return list;
  }

  @Override
  ChildPays.Wallet childWallet() {
    return new ChildPays.Wallet() {
      @Override
      public boolean reserve(ChildPays.Outpoint coin) throws RpcException, InterruptedException {
        try {
          // Core refuses to lock an output its wallet sees spent, by a pooled transaction or not.
          return wallet.call("lockunspent", false, outpoints(coin)).asBoolean(false);
        } catch (RpcException e) {
          if (e.kind() == RpcException.Kind.NODE_ERROR) {
            return false;
          }
          throw e;
        }
      }

      @Override
      public void release(ChildPays.Outpoint coin) throws RpcException, InterruptedException {
        wallet.call("lockunspent", true, outpoints(coin));
      }

      @Override
      public String sign(String unsignedHex) throws RpcException, InterruptedException {
        JsonNode signed = wallet.call("signrawtransactionwithwallet", unsignedHex);
        return signed.path("complete").asBoolean(false) ? signed.path("hex").asText() : null;
      }

      @Override
      public java.util.Set<ChildPays.Outpoint> locked() throws RpcException, InterruptedException {
        java.util.Set<ChildPays.Outpoint> out = new java.util.HashSet<>();
        for (JsonNode o : wallet.call("listlockunspent")) {
          out.add(new ChildPays.Outpoint(o.path("txid").asText(), o.path("vout").asInt()));
        }
        return out;
      }
    };
  }

  @Override
  public SendOutcome broadcast(JournalEntry unit)
      throws NodeUnavailableException, InterruptedException {
    try {
      node.call("sendrawtransaction", unit.rawTransaction());
    } catch (RpcException e) {
      if (!e.kind().outcomeUnknown() && e.kind() != RpcException.Kind.NODE_ERROR) {
        throw new NodeUnavailableException(
            "cannot broadcast " + unit.txid() + ": " + e.getMessage(), e);
      }
      if (e.code() == null || e.code() != ALREADY_IN_CHAIN) {
        // Settled below by asking the wallet for the transaction itself.
        log.warn("unit {}: sendrawtransaction said {}", unit.unitId(), e.reason());
      }
    }
    try {
      JsonNode tx = wallet.call("gettransaction", unit.txid());
      int confirmations = tx.path("confirmations").asInt(0);
      if (confirmations >= 0) {
        return SendOutcome.broadcast(unit.txid());
      }
      // The wallet's own account: a transaction in the chain spends one of this one's inputs.
      return SendOutcome.conflicted(
          unit.txid(),
          "conflicts with a transaction " + (-confirmations) + " blocks deep in the chain");
    } catch (RpcException e) {
      if (e.kind() != RpcException.Kind.NODE_ERROR) {
        throw new NodeUnavailableException(
            "cannot look up " + unit.txid() + ": " + e.getMessage(), e);
      }
      // Not in the wallet: it never reached this node's mempool or a block. It can never be
      // mined once one of its inputs, a confirmed coin of the wallet, is spent in the chain.
      return conflictOrWait(unit);
    }
  }

  private SendOutcome conflictOrWait(JournalEntry unit)
      throws NodeUnavailableException, InterruptedException {
    try {
      for (JsonNode input : node.call("decoderawtransaction", unit.rawTransaction()).path("vin")) {
        String prev = input.path("txid").asText();
        int index = input.path("vout").asInt();
        JsonNode prevTx = wallet.call("gettransaction", prev);
        JsonNode unspent = node.call("gettxout", prev, index, false);
        if (prevTx.path("confirmations").asInt(0) > 0 && (unspent == null || unspent.isNull())) {
          return conflictOnceSeenLongEnough(
              unit,
              "input " + prev + ":" + index + " was spent in the chain by another transaction");
        }
      }
    } catch (RpcException e) {
      if (e.kind() != RpcException.Kind.NODE_ERROR) {
        throw new NodeUnavailableException(
            "cannot check the inputs of " + unit.txid() + ": " + e.getMessage(), e);
      }
      return SendOutcome.waiting(
          unit.txid(), "wallet does not show it, and its inputs could not be checked: " + e);
    }
    // Every input unspent (a reorganisation took the block that spent one): a conflict seen
    // before says nothing any more, and the wait before believing one starts over.
    settled(unit);
    return SendOutcome.waiting(
        unit.txid(),
        "wallet does not show transaction " + unit.txid() + "; its inputs are unspent");
  }
}
