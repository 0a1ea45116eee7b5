package io.txgw.consumer.chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.txgw.common.json.Json;
import io.txgw.common.model.JournalEntry;
import io.txgw.consumer.rpc.Rpc;
import io.txgw.consumer.rpc.RpcException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Lifts a Bitcoin unit's transaction, sent and not mined, to a higher fee per vbyte without
 * touching it: a child spends the transaction's change back to the wallet and pays enough that the
 * transaction and its children together pay the new rate, which is what miners weigh (child pays
 * for parent). The payout transaction keeps its txid and its bytes, so nothing that settles a unit
 * changes, and a child can never pay a payout: lost, it costs only the fee it would have added.
 *
 * <p>Why not replace-by-fee: bcoin's mempool refuses every transaction that spends an input a
 * pooled one spends, whatever it pays, and a replacement would change the txid the client was told.
 *
 * <p>The rate asked for is the larger of 25% more than the package pays now (1 sat/vB at least) and
 * the node's estimate for two blocks, never above the ceiling; a package that pays the estimate
 * already is left as it is, and one within half a step of the ceiling waits there. Each child
 * spends the output of the one before, and the package is the unit's transaction with the children
 * that stand: a journaled child that no node holds is sent again while the transaction it spends is
 * pooled and unmined (a crash between journaling and sending), and otherwise left out, the next
 * child spending what it spent (so of the children in one position one is mined at most, and
 * whatever the chain takes is a chain once priced under the ceiling). Nothing is signed or sent
 * once the unit's transaction is mined: a child then would pay for itself alone.
 */
final class ChildPays {
  /** Core's dust threshold for a P2PKH output, the largest a single-key wallet pays to itself. */
  static final long DUST_SATS = 546;

  /**
   * A child's size before it is signed: more than a one-input, one-output child of a single-key
   * wallet takes. The fee is worked out again from the size measured once signed.
   */
  private static final long CHILD_VSIZE_GUESS = 200;

  private static final int SIGNINGS = 5;

  /**
   * The most a child may pay per vbyte of its own: bcoin and Core refuse a transaction paying
   * around 10,000 (an "absurd" fee). A child that would needs a lower ceiling or a smaller parent.
   */
  static final long MAX_CHILD_RATE = 5_000;

  /** What the wallet of a dialect does for a child. */
  interface Wallet {
    /** The transaction signed by the wallet, hex; null if it would not sign every input. */
    String sign(String unsignedHex) throws RpcException, InterruptedException;

    /** The wallet's locked coins: inputs of units prepared and not yet broadcast. */
    Set<Outpoint> locked() throws RpcException, InterruptedException;

    /**
     * Locks {@code coin} if the wallet holds it unspent in its own view (which counts every
     * transaction of its own it knows, pooled or not); false, nothing locked, if it does not.
     */
    boolean reserve(Outpoint coin) throws RpcException, InterruptedException;

    /** Unlocks a coin reserved for a child that was not made. */
    void release(Outpoint coin) throws RpcException, InterruptedException;
  }

  record Outpoint(String txid, int index) {}

  /** A transaction of the package: the unit's, then each child, and the output the next spends. */
  private record Link(String txid, int index, long value, long vsize, long fee) {}

  private final Rpc node;
  private final Wallet wallet;
  private final long ceiling;
  private final long mempoolWaitMillis;

  /**
   * @param ceiling the highest fee rate, satoshis per vbyte, the unit's transaction and its
   *     children together may pay
   * @param mempoolWaitMillis how long the node may take to show a transaction it was just given
   *     (bcoin answers before its mempool decides)
   */
  ChildPays(Rpc node, Wallet wallet, long ceiling, long mempoolWaitMillis) {
    this.node = node;
    this.wallet = wallet;
    this.ceiling = ceiling;
    this.mempoolWaitMillis = mempoolWaitMillis;
  }

  Replacement bump(JournalEntry unit) throws RpcException, InterruptedException {
    if (unit.rawTransaction() == null || unit.feePerGas() == null) {
      return new Replacement.NotNow("its fee was not journaled (signed by an earlier version)");
    }
    JsonNode parent = node.call("decoderawtransaction", unit.rawTransaction());
    Integer change = changeIndex(parent, unit);
    if (change == null) {
      return new Replacement.NotNow("it has no change output to spend");
    }
    // Only a transaction the node pools unmined is lifted: once mined, a child would pay for
    // itself alone; once dropped, it is broadcast again first.
    try {
      node.call("getmempoolentry", unit.txid());
    } catch (RpcException e) {
      if (e.kind() != RpcException.Kind.NODE_ERROR) {
        throw e;
      }
      return new Replacement.NotNow("not in the node's pool: mined, or dropped");
    }
    List<Link> links = new ArrayList<>();
    links.add(
        new Link(
            unit.txid(),
            change,
            BitcoinAmounts.sats(parent.path("vout").path(change).path("value")).longValueExact(),
            vsize(parent),
            unit.feePerGas().longValueExact()));
    for (JournalEntry.Attempt child : unit.children()) {
      JsonNode decoded = node.call("decoderawtransaction", child.rawTransaction());
      links.add(
          new Link(
              child.txid(),
              0,
              BitcoinAmounts.sats(decoded.path("vout").path(0).path("value")).longValueExact(),
              vsize(decoded),
              child.feePerGas().longValueExact()));
    }
    // The newest transaction whose output the node shows unspent, its pool included: the ones
    // before it stand (it spends theirs), the ones after it were lost and are left out.
    int tail = -1;
    JsonNode out = null;
    for (int i = links.size() - 1; i >= 0 && tail < 0; i--) {
      JsonNode o = node.call("gettxout", links.get(i).txid(), links.get(i).index(), true);
      if (held(o)) {
        tail = i;
        out = o;
      }
    }
    if (tail < 0) {
      return new Replacement.NotNow("its change is spent, or not held");
    }
    long size = 0;
    long fee = 0;
    for (int i = 0; i <= tail; i++) {
      size += links.get(i).vsize();
      fee += links.get(i).fee();
    }
    while (true) {
      if (confirmed(out)) {
        return new Replacement.NotNow("mined already");
      }
      Link at = links.get(tail);
      // Payout transactions spend confirmed coins only, so no unit should hold this output; a
      // lock not taken for a journaled child of this unit says one does, and it is left alone.
      boolean ours = tail < unit.children().size();
      if (!ours && wallet.locked().contains(new Outpoint(at.txid(), at.index()))) {
        return new Replacement.NotNow("its change is held for a unit being prepared");
      }
      if (!ours) {
        break;
      }
      // A journaled child no node holds, spending this pooled, unmined output: sent again (one
      // journaled and then never sent, by a crash between the two, say) before another is signed,
      // as long as it keeps the package under the ceiling (which may have been lowered since).
      Link lost = links.get(tail + 1);
      if (fee + lost.fee() > ceiling * (size + lost.vsize())) {
        break;
      }
      try {
        node.call("sendrawtransaction", unit.children().get(tail).rawTransaction());
        node.relay("sendrawtransaction", unit.children().get(tail).rawTransaction());
      } catch (RpcException e) {
        if (e.kind() != RpcException.Kind.NODE_ERROR && !e.kind().outcomeUnknown()) {
          throw e;
        }
      }
      if (!pooledSoon(lost.txid())) {
        break;
      }
      JsonNode o = node.call("gettxout", lost.txid(), lost.index(), true);
      if (!held(o)) {
        return new Replacement.NotNow(
            "the output of child " + lost.txid() + " is spent by a transaction not journaled");
      }
      tail++;
      out = o;
      size += lost.vsize();
      fee += lost.fee();
    }
    // Within half a step of the ceiling it waits there: a child costs its own size at the new rate,
    // too much for a sliver more.
    if (2 * fee > (2 * ceiling - 1) * size || tail >= JournalEntry.MAX_CHILDREN) {
      return new Replacement.AtCeiling(BigInteger.valueOf(fee / size));
    }
    Long estimate = estimate();
    if (estimate != null && fee >= estimate * size) {
      return new Replacement.NotNow(
          "it pays the node's estimate, "
              + estimate
              + " sat/vB, already: not mined for another"
              + " reason");
    }
    long target = Math.max(ceilDiv(fee * 5, size * 4), fee / size + 1);
    if (estimate != null) {
      target = Math.max(target, estimate);
    }
    target = Math.min(target, ceiling);
    Link at = links.get(tail);
    Outpoint coin = new Outpoint(at.txid(), at.index());
    boolean ours = tail < unit.children().size();
    // Locked before anything is signed, and only if the wallet itself holds it unspent: a payout
    // transaction of its own spending it, pooled or not, would make it refuse. A journaled child
    // of this unit's took the lock already.
    if (!ours && !wallet.reserve(coin)) {
      return new Replacement.NotNow("its change is not an unspent coin of the wallet");
    }
    Replacement made = child(at, addressOf(out), tail, size, fee, target);
    if (!ours && !(made instanceof Replacement.Child)) {
      wallet.release(coin);
    }
    return made;
  }

  /** Whether the node pools a child just sent, waiting as bcoin needs. */
  private boolean pooledSoon(String txid) throws RpcException, InterruptedException {
    long delay = 5;
    for (long waited = 0; ; waited += delay, delay *= 2) {
      try {
        node.call("getmempoolentry", txid);
        return true;
      } catch (RpcException e) {
        if (e.kind() != RpcException.Kind.NODE_ERROR) {
          throw e;
        }
      }
      if (waited + delay > mempoolWaitMillis) {
        return false;
      }
      Thread.sleep(delay);
    }
  }

  /** The address of an output as gettxout shows it (Core 22+ one, earlier and bcoin a list). */
  private static String addressOf(JsonNode txOut) {
    JsonNode script = txOut.path("scriptPubKey");
    return script.has("address")
        ? script.path("address").asText()
        : script.path("addresses").path(0).asText("");
  }

  /**
   * A child spending {@code at}'s output back to the same address (the wallet's own: no new address
   * is used up for a child that may never be sent) so that the package pays {@code target} sat/vB.
   */
  private Replacement child(Link at, String address, int kept, long size, long fee, long target)
      throws RpcException, InterruptedException {
    long childSize = CHILD_VSIZE_GUESS;
    if (address.isEmpty()) {
      return new Replacement.NotNow("the node shows no address for its change");
    }
    // Signed until the fee was worked out for a size no larger than the signed child's, so that
    // the package pays the target at most: a signature's length varies by a byte or two.
    for (int pass = 0; pass < SIGNINGS; pass++) {
      long childFee = target * (size + childSize) - fee;
      long value = at.value() - childFee;
      if (value < DUST_SATS) {
        return new Replacement.NotNow(
            "its change, " + at.value() + " sats, cannot pay " + childFee + " sats more");
      }
      if (childFee > MAX_CHILD_RATE * childSize) {
        // Nodes refuse a transaction paying absurdly much for its own size.
        return new Replacement.AtCeiling(BigInteger.valueOf(fee / size));
      }
      ArrayNode inputs = Json.mapper().createArrayNode();
      inputs.addObject().put("txid", at.txid()).put("vout", at.index());
      ObjectNode outputs = Json.mapper().createObjectNode();
      outputs.set(address, new DecimalNode(BigDecimal.valueOf(value, BitcoinAmounts.DECIMALS)));
      String unsigned = node.call("createrawtransaction", inputs, outputs).asText();
      String signed = wallet.sign(unsigned);
      JsonNode decoded = signed == null ? null : node.call("decoderawtransaction", signed);
      if (decoded == null || !signedInput(decoded.path("vin").path(0))) {
        return new Replacement.NotNow("the wallet would not sign a child");
      }
      JsonNode vin = decoded.path("vin");
      JsonNode vout = decoded.path("vout");
      if (vin.size() != 1
          || !at.txid().equals(vin.path(0).path("txid").asText())
          || vin.path(0).path("vout").asInt(-1) != at.index()
          || vout.size() != 1
          || !BitcoinAmounts.sats(vout.path(0).path("value")).equals(BigInteger.valueOf(value))) {
        // Exactness before anything is journaled: a child is only ever what was asked for.
        return new Replacement.NotNow("the node built a child other than the one asked for");
      }
      long measured = vsize(decoded);
      if (measured >= childSize && fee + childFee <= ceiling * (size + measured)) {
        return new Replacement.Child(
            kept, decoded.path("txid").asText(), signed, BigInteger.valueOf(childFee));
      }
      childSize = measured;
    }
    return new Replacement.NotNow("no signature came out the size its fee was worked out for");
  }

  /** An input carrying a signature: a script or a witness (bcoin signs what it can, not all). */
  private static boolean signedInput(JsonNode input) {
    return !input.path("scriptSig").path("hex").asText("").isEmpty()
        || input.path("txinwitness").size() > 0;
  }

  /** The one output that pays no payout: the wallet's change; null if there is none (or two). */
  private static Integer changeIndex(JsonNode tx, JournalEntry unit) {
    Set<Integer> paying = new HashSet<>();
    for (JournalEntry.Item item : unit.payouts()) {
      paying.add(item.outputIndex());
    }
    Integer change = null;
    for (int i = 0; i < tx.path("vout").size(); i++) {
      if (!paying.contains(i)) {
        if (change != null) {
          return null;
        }
        change = i;
      }
    }
    return change;
  }

  /** An unspent output the node knows, its pool included. */
  private static boolean held(JsonNode txOut) {
    return txOut != null && !txOut.isNull() && !txOut.isMissingNode();
  }

  /** An unspent output of a transaction in a block. */
  private static boolean confirmed(JsonNode txOut) {
    return held(txOut) && txOut.path("confirmations").asLong(0) > 0;
  }

  private static long ceilDiv(long a, long b) {
    return -Math.floorDiv(-a, b);
  }

  private static long vsize(JsonNode decoded) {
    return decoded.has("vsize") ? decoded.path("vsize").asLong() : decoded.path("size").asLong();
  }

  /**
   * The node's fee estimate for two blocks, satoshis per vbyte rounded up; null where it has none
   * (Core answers {@code feerate}, bcoin {@code fee}, both in BTC per 1,000 vbytes; -1 or absent
   * when they cannot tell).
   */
  private Long estimate() throws InterruptedException {
    try {
      JsonNode answer = node.call("estimatesmartfee", 2);
      JsonNode perKvb = answer.has("feerate") ? answer.path("feerate") : answer.path("fee");
      if (!perKvb.isNumber()) {
        return null;
      }
      BigInteger sats = BitcoinAmounts.sats(perKvb);
      if (sats.signum() <= 0) {
        return null;
      }
      return ceilDiv(sats.longValueExact(), 1000L);
    } catch (RpcException e) {
      return null;
    }
  }
}
