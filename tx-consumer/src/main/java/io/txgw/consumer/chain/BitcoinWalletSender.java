package io.txgw.consumer.chain;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.common.model.Payout;
import io.txgw.consumer.rpc.Rpc;
import io.txgw.consumer.rpc.RpcException;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * What every Bitcoin dialect shares: one wallet pays, many payouts per transaction, and each payout
 * is mapped to the output that pays it. The dialects differ in how the wallet funds and signs, and
 * in how the node tells what it holds.
 *
 * <p>While stuck transactions are lifted ({@link #liftingStuck}), a payout transaction spends
 * confirmed coins only. Unconfirmed outputs of the wallet (a payout transaction's change, a child's
 * output) are left to the children that lift stuck transactions ({@link ChildPays}): a child and a
 * payout transaction can then never spend the same output, so a child can never make a payout
 * transaction unminable, whatever the wallet's locks (which both wallets keep in memory only) or
 * its view of the mempool say. Payouts the wallet could fund only with its own unconfirmed coins
 * then wait for a block, {@link #FUNDS_WAIT} at most.
 */
public abstract class BitcoinWalletSender implements ChainSender {
  /** Unbroadcast transactions hold locked coins; their change exists only once broadcast. */
  private static final int UNITS_PER_ROUND = 5;

  /**
   * How long an input must be seen spent in the chain by another transaction before the unit is
   * given up: longer than a node in rotation may lag, or a look-up may keep failing in a way that
   * reads as "not found".
   */
  public static final Duration CONFLICT_AFTER = Duration.ofSeconds(60);

  private static final int MAX_SIGHTINGS = 10_000;

  /** The fee rate ceiling, satoshis per vbyte, where none is set. */
  public static final long DEFAULT_FEE_CEILING = 100;

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(BitcoinWalletSender.class);

  private volatile long feeCeiling = DEFAULT_FEE_CEILING;

  /**
   * How long payouts may wait for the wallet's own unconfirmed coins to confirm before a refusal of
   * the wallet is taken as final: a pending transaction of the wallet that never confirms (evicted,
   * say) must not hold payouts forever.
   */
  public static final Duration FUNDS_WAIT = Duration.ofHours(6);

  private volatile boolean confirmedOnly;

  /** Since when payouts wait for the wallet's coins to confirm; null while they do not. */
  private Instant fundsWaitSince;

  protected final Rpc node;
  protected final Rpc wallet;
  protected final String walletName;
  private final int maxOutputs;
  private final Clock clock;

  /** Since when each unit's input is seen spent in the chain by another; bounded below. */
  private final Map<String, Instant> spentSince = new HashMap<>();

  private final ChainBlocks blocks;

  BitcoinWalletSender(Rpc node, Rpc wallet, String walletName, int maxOutputs, Clock clock) {
    this.blocks = new BitcoinBlocks(node, wallet, this instanceof BitcoinCoreSender);
    this.node = node;
    this.wallet = wallet;
    this.walletName = walletName;
    this.maxOutputs = maxOutputs;
    this.clock = clock;
  }

  /**
   * A conflict seen now: believed once it has been seen for {@link #CONFLICT_AFTER}, waiting until
   * then. Sightings live in memory only; after a restart the wait starts over, which is only
   * slower.
   */
  protected final SendOutcome conflictOnceSeenLongEnough(JournalEntry unit, String reason) {
    Instant now = clock.instant();
    if (spentSince.size() >= MAX_SIGHTINGS) {
      spentSince.clear();
    }
    Instant since = spentSince.putIfAbsent(unit.txid(), now);
    if (since == null || now.isBefore(since.plus(CONFLICT_AFTER))) {
      return SendOutcome.waiting(
          unit.txid(), reason + "; believed once that lasts " + CONFLICT_AFTER);
    }
    spentSince.remove(unit.txid());
    return SendOutcome.conflicted(unit.txid(), reason);
  }

  /**
   * The unit was seen held or mined, or all its inputs unspent: any conflict seen before was not
   * one, or no longer is.
   */
  protected final void settled(JournalEntry unit) {
    spentSince.remove(unit.txid());
  }

  @Override
  public Chain chain() {
    return Chain.BTC;
  }

  @Override
  public String nodeName() {
    return node.name();
  }

  @Override
  public ChainBlocks blocks() {
    return blocks;
  }

  @Override
  public int maxPayoutsPerUnit() {
    return maxOutputs;
  }

  @Override
  public int maxUnitsPerRound() {
    return UNITS_PER_ROUND;
  }

  @Override
  public void reset() {}

  /**
   * The highest fee rate, satoshis per vbyte, a transaction and the children lifting it may pay
   * together; set before the sender is used.
   */
  public BitcoinWalletSender withFeeCeiling(long satsPerVbyte) {
    if (satsPerVbyte < 1) {
      throw new IllegalArgumentException("a fee ceiling is 1 sat/vB at least");
    }
    this.feeCeiling = satsPerVbyte;
    return this;
  }

  /** How long the node may take to show a transaction it was just given. */
  long mempoolWaitMillis() {
    return 0;
  }

  /**
   * Whether stuck transactions are lifted by children; payouts are then funded from confirmed coins
   * only. Set before the sender is used.
   */
  public BitcoinWalletSender liftingStuck(boolean lifting) {
    this.confirmedOnly = lifting;
    return this;
  }

  /** What this dialect's wallet does for a child: a signature, its locks. */
  abstract ChildPays.Wallet childWallet();

  /** A child spending the unit's change: see {@link ChildPays}. */
  @Override
  public final Replacement bumpByChild(JournalEntry unit)
      throws NodeUnavailableException, InterruptedException {
    try {
      return new ChildPays(node, childWallet(), feeCeiling, mempoolWaitMillis()).bump(unit);
    } catch (RpcException e) {
      if (e.kind() == RpcException.Kind.NODE_ERROR) {
        return new Replacement.NotNow(e.reason());
      }
      throw new NodeUnavailableException(
          "cannot lift " + unit.txid() + " by a child: " + e.getMessage(), e);
    }
  }

  @Override
  public final void sendChild(JournalEntry unit) throws InterruptedException {
    if (unit.children().isEmpty()) {
      return;
    }
    JournalEntry.Attempt child = unit.children().get(unit.children().size() - 1);
    try {
      node.call("sendrawtransaction", child.rawTransaction());
      node.relay("sendrawtransaction", child.rawTransaction());
    } catch (RpcException e) {
      // Refused, or the answer lost: the next lift finds out from the chain which children stand.
      log.info("unit {}: child {} sent: {}", unit.unitId(), child.txid(), e.toString());
    }
  }

  @Override
  public final Preparation prepare(String source, List<Payout> payouts)
      throws NodeUnavailableException, InterruptedException {
    if (!source.equals(walletName)) {
      return new Preparation.Refused(
          "unknown source wallet '" + source + "'; this node pays from '" + walletName + "'");
    }
    try {
      try {
        Preparation prepared = prepareFromWallet(payouts, confirmedOnly);
        fundsWaitSince = null;
        return prepared;
      } catch (RpcException e) {
        if (e.kind() != RpcException.Kind.NODE_ERROR) {
          throw e;
        }
        // The wallet's own refusal (funds, dust, address) is an answer, unless it could fund them
        // with its own unconfirmed coins too: then they wait for those to confirm. Asked of the
        // wallet, not read from its wording.
        if (confirmedOnly && fundableWithUnconfirmed(payouts) && !waitedTooLong()) {
          throw new NodeUnavailableException(
              "wallet "
                  + walletName
                  + " refused these from confirmed coins ("
                  + e.reason()
                  + ") and could pay them with its own coins not confirmed yet: they wait for a"
                  + " block",
              e);
        }
        fundsWaitSince = null;
        return new Preparation.Refused(e.reason());
      }
    } catch (RpcException e) {
      // Anything but the wallet's answer means the wallet was not reached and nothing was signed.
      throw new NodeUnavailableException(
          "cannot prepare on wallet " + walletName + ": " + e.getMessage(), e);
    }
  }

  private boolean waitedTooLong() {
    Instant now = clock.instant();
    if (fundsWaitSince == null) {
      fundsWaitSince = now;
    }
    return now.isAfter(fundsWaitSince.plus(FUNDS_WAIT));
  }

  /**
   * Funds (from confirmed coins only, with {@code confirmedOnly}), signs and locks a transaction
   * paying {@code payouts} from this sender's wallet.
   */
  abstract Preparation prepareFromWallet(List<Payout> payouts, boolean confirmedOnly)
      throws RpcException, InterruptedException;

  /**
   * Whether the wallet would fund {@code payouts} counting its own unconfirmed coins too (change of
   * its own transactions, not others' deposits): asked without signing or locking anything; false
   * when it refuses that as well.
   */
  abstract boolean fundableWithUnconfirmed(List<Payout> payouts)
      throws RpcException, InterruptedException;

  static BigInteger sats(Payout p) {
    return p.amount().toUnits(BitcoinAmounts.DECIMALS);
  }

  /**
   * The output paying each payout, in order; two payouts of one amount to one address take two
   * outputs.
   */
  static List<Integer> outputIndexes(
      JsonNode outputs,
      List<Payout> payouts,
      Function<JsonNode, String> addressOf,
      Function<JsonNode, BigInteger> satsOf) {
    List<Integer> indexes = new ArrayList<>();
    Set<Integer> taken = new HashSet<>();
    for (Payout p : payouts) {
      Integer found = null;
      for (int i = 0; i < outputs.size() && found == null; i++) {
        JsonNode out = outputs.get(i);
        if (!taken.contains(i)
            && p.to().value().equals(addressOf.apply(out))
            && satsOf.apply(out).equals(sats(p))) {
          found = i;
        }
      }
      if (found == null) {
        throw new IllegalStateException(
            "wallet built a transaction without an output for payout " + p.id());
      }
      taken.add(found);
      indexes.add(found);
    }
    return indexes;
  }
}
