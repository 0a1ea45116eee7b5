package io.txgw.consumer.chain;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.consumer.rpc.Rpc;
import io.txgw.consumer.rpc.RpcException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receipts of this sender's transactions, read a block at a time as the chain grows: one {@code
 * eth_getBlockReceipts} per new block serves every transaction of ours mined in it, where asking
 * for each by hash would cost one call per payout, and most of them before it is mined.
 *
 * <p>It only ever tells what a block holds. That a transaction is in none of the blocks read says
 * nothing on its own: a block read by height may since have been replaced, a read may have been
 * skipped. Such a transaction is merely not asked about for a few blocks ({@link #due}); then the
 * sender asks the chain for it directly, as it does for one this book does not follow.
 *
 * <p>A node without {@code eth_getBlockReceipts} (hardhat) is read with {@code
 * eth_getBlockByNumber} instead, and a receipt is asked only for our transactions in the block.
 *
 * <p>Bounded: at most {@link #MAX_WATCHED} transactions followed, at most {@link #MAX_RECEIPTS}
 * receipts kept, and at most {@link #MAX_BLOCKS_PER_READ} blocks read per refresh.
 */
final class BlockReceipts {
  private static final Logger log = LoggerFactory.getLogger(BlockReceipts.class);

  static final int MAX_WATCHED = 10_000;

  /** More new blocks than this at once (a pause, a node catching up) are a gap, not read. */
  static final int MAX_BLOCKS_PER_READ = 16;

  /** How often the head is asked for at most: each ask is one node call. */
  static final Duration REFRESH_EVERY = Duration.ofMillis(500);

  /**
   * Blocks read past a transaction's sending, without it, before it is asked for directly: it may
   * have been dropped by the node, or be in a block that replaced one read.
   */
  static final int RECHECK_BLOCKS = 3;

  /**
   * And at the latest three of the chain's recent block intervals after it was sent, should the
   * chain mine no block meanwhile (a development node told to stop, a node that stalls): no less
   * than this,
   */
  static final Duration RECHECK_AT_LEAST = Duration.ofSeconds(5);

  /** no more than this, and this while no interval was seen yet. */
  static final Duration RECHECK_AFTER = Duration.ofSeconds(30);

  /** The chain's block interval as last seen (a moving average); null before two heads. */
  private Duration interval;

  private Instant advancedAt;

  /** The highest head seen, -1 before the first. */
  private long topSeen = -1;

  /**
   * Whether the chain mines faster than the head is read (a development node mining each
   * transaction as it comes): a transaction just sent is then as good as mined, and asking for it
   * at once costs no more than reading its block.
   */
  boolean minesAtOnce() {
    return interval != null && interval.compareTo(REFRESH_EVERY) < 0;
  }

  /** Whether the chain was seen to mine in blocks, no faster than its head is read. */
  boolean minesInBlocks() {
    return interval != null && !minesAtOnce();
  }

  /** How long a followed transaction is left alone at most: see {@link #RECHECK_AT_LEAST}. */
  Duration recheckAfter() {
    if (interval == null) {
      return RECHECK_AFTER;
    }
    Duration three = interval.multipliedBy(RECHECK_BLOCKS);
    return three.compareTo(RECHECK_AT_LEAST) < 0
        ? RECHECK_AT_LEAST
        : three.compareTo(RECHECK_AFTER) > 0 ? RECHECK_AFTER : three;
  }

  private final Rpc rpc;
  private final Clock clock;

  /** Per followed transaction, the height read when it was sent and when. */
  private final Map<String, Watch> watched = new HashMap<>();

  private final Map<String, Seen> receipts = new HashMap<>();

  /** A receipt and when it was read. */
  private record Seen(JsonNode receipt, Instant at) {}

  /**
   * Receipts kept at most: each is taken on its unit's next pass, and a multi-send call's carries a
   * log per payout; past this, a receipt is not kept and its unit is asked for directly.
   */
  static final int MAX_RECEIPTS = 1_000;

  /** Last height read, -1 before the first read. */
  private long last = -1;

  /**
   * Every block above this height up to {@link #last} was read: a transaction watched at a height
   * below it is not covered (a block between may hold it unread).
   */
  private long unbrokenFrom = Long.MAX_VALUE;

  private Instant readAt = Instant.MIN;
  private boolean blockReceipts = true;

  /**
   * @param ahead set as its send started ahead of its turn, until the turn's {@link #watch}
   */
  private record Watch(long height, Instant at, boolean ahead) {}

  BlockReceipts(Rpc rpc, Clock clock) {
    this.rpc = rpc;
    this.clock = clock;
  }

  /**
   * Follows {@code txid}, just sent, when every block since the last one read will be read; false
   * when the book does not follow the chain now (it was never read, or its last read failed).
   */
  boolean watch(String txid) {
    if (last < 0 || unbrokenFrom > last) {
      return false;
    }
    boundWatched();
    String key = txid.toLowerCase(Locale.ROOT);
    Watch w = watched.get(key);
    if (w != null && w.ahead()) {
      // Followed since its send started ahead of its turn: from that height, not this one, since
      // a block read in between may hold it.
      watched.put(key, new Watch(w.height(), w.at(), false));
      return unbrokenFrom <= w.height();
    }
    watched.put(key, new Watch(last, clock.instant(), false));
    return true;
  }

  /**
   * Follows {@code txid} from the last block read, as its send starts ahead of its turn: {@link
   * #watch} at its turn keeps this height. A send that never has its turn stays followed from here
   * until the bound clears it.
   */
  void watchAhead(String txid) {
    if (last < 0 || unbrokenFrom > last) {
      return;
    }
    String key = txid.toLowerCase(Locale.ROOT);
    boundWatched();
    Watch w = watched.get(key);
    if (w == null) {
      watched.put(key, new Watch(last, clock.instant(), true));
    }
  }

  private void boundWatched() {
    if (watched.size() >= MAX_WATCHED) {
      // Transactions of units that left this consumer unsettled (their partition moved) are never
      // forgotten one by one: at the bound all go, and those still here are asked for directly.
      watched.clear();
      receipts.clear();
    }
  }

  /** Whether {@code txid} is followed, and every block since it was sent has been read. */
  boolean covers(String txid) {
    Watch w = watched.get(txid.toLowerCase(Locale.ROOT));
    return w != null && unbrokenFrom <= w.height();
  }

  /**
   * True when a followed transaction should now be asked for directly: {@link #RECHECK_BLOCKS}
   * blocks read without it, or {@link #recheckAfter()} passed, or the book no longer covers it.
   */
  boolean due(String txid) {
    Watch w = watched.get(txid.toLowerCase(Locale.ROOT));
    return w == null
        || unbrokenFrom > w.height()
        || last - w.height() >= RECHECK_BLOCKS
        || !clock.instant().isBefore(w.at().plus(recheckAfter()));
  }

  /**
   * The receipt of a followed transaction, once a block read holds it and no longer than {@link
   * #RECHECK_AFTER} ago (an older one may be of a block replaced since: it is asked for directly);
   * else null.
   */
  JsonNode receipt(String txid) {
    Seen seen = receipts.get(txid.toLowerCase(Locale.ROOT));
    return seen == null || clock.instant().isAfter(seen.at().plus(RECHECK_AFTER))
        ? null
        : seen.receipt();
  }

  /** When {@code txid} was last followed from; null when it is not. */
  Instant watchedAt(String txid) {
    Watch w = watched.get(txid.toLowerCase(Locale.ROOT));
    return w == null ? null : w.at();
  }

  /** No longer followed: settled, or about to be asked for directly. */
  void forget(Collection<String> txids) {
    for (String txid : txids) {
      String key = txid.toLowerCase(Locale.ROOT);
      watched.remove(key);
      receipts.remove(key);
    }
  }

  void reset() {
    watched.clear();
    receipts.clear();
    last = -1;
    unbrokenFrom = Long.MAX_VALUE;
    readAt = Instant.MIN;
    blockReceipts = true;
    refusals = 0;
    interval = null;
    advancedAt = null;
    topSeen = -1;
  }

  /** Transactions followed now, for the stated bound. */
  int watching() {
    return watched.size();
  }

  /**
   * Reads the blocks mined since the last read, at most once per {@link #REFRESH_EVERY}; while no
   * transaction is followed only the head is read. A read that fails is taken up again from the
   * same height next time.
   */
  void refresh() throws InterruptedException {
    Instant now = clock.instant();
    if (now.isBefore(readAt.plus(REFRESH_EVERY))) {
      return;
    }
    readAt = now;
    long head;
    try {
      head = FeeMarket.quantity(rpc.call("eth_blockNumber")).longValueExact();
    } catch (RpcException | RuntimeException e) {
      log.debug("block receipts: cannot read the head: {}", e.getMessage());
      return;
    }
    if (head < last) {
      // The chain got shorter: a receipt read from a block above it may be of a block gone.
      receipts.values().removeIf(seen -> heightOf(seen.receipt()) > head);
    }
    if (head > topSeen) {
      if (advancedAt != null && topSeen >= 0) {
        // Against the highest head seen, not the last block read: a failed read or a lagging
        // node's lower head counts no block twice.
        Duration each = Duration.between(advancedAt, now).dividedBy(head - topSeen);
        if (!each.isNegative()) {
          each = each.compareTo(RECHECK_AFTER) > 0 ? RECHECK_AFTER : each;
          interval = interval == null ? each : interval.multipliedBy(3).plus(each).dividedBy(4);
        }
      }
      advancedAt = now;
      topSeen = head;
    }
    if (last < 0 || watched.isEmpty() || head < last || head - last > MAX_BLOCKS_PER_READ) {
      // Nothing to look for, or a head the book will not walk to: it starts over from here, and a
      // transaction sent before is asked for directly.
      last = head;
      unbrokenFrom = head;
      return;
    }
    for (long h = last + 1; h <= head; h++) {
      try {
        read(h);
      } catch (RpcException | RuntimeException e) {
        // Not a gap: the next refresh reads on from this height.
        log.debug("block receipts: cannot read block {}: {}", h, e.getMessage());
        return;
      }
      last = h;
    }
  }

  private void read(long height) throws RpcException, InterruptedException {
    String number = "0x" + Long.toHexString(height);
    if (blockReceipts) {
      JsonNode all;
      try {
        all = rpc.call("eth_getBlockReceipts", number);
      } catch (RpcException e) {
        if (e.kind() != RpcException.Kind.NODE_ERROR || !unsupported(e)) {
          throw e;
        }
        // The node does not serve the method: it is read block and receipts apart from now on.
        log.info(
            "{} does not serve eth_getBlockReceipts ({}); reading blocks",
            rpc.name(),
            e.getMessage());
        blockReceipts = false;
        all = null;
      }
      if (blockReceipts) {
        refusals = 0;
        take(height, all);
        return;
      }
    }
    JsonNode block = rpc.call("eth_getBlockByNumber", number, false);
    if (block == null || block.isNull()) {
      throw new IllegalStateException("no block at height " + height + " yet");
    }
    if (!block.path("transactions").isArray()) {
      throw new IllegalStateException("block " + height + " lists no transactions");
    }
    Set<String> ours = new HashSet<>();
    for (JsonNode tx : block.path("transactions")) {
      String key = tx.asText("").toLowerCase(Locale.ROOT);
      if (watched.containsKey(key)) {
        ours.add(key);
      }
    }
    for (String txid : ours) {
      JsonNode receipt = rpc.call("eth_getTransactionReceipt", txid);
      if (receipt != null && receipt.isObject() && heightOf(receipt) == height) {
        keep(txid, receipt);
      }
    }
  }

  /** Node errors in a row on {@code eth_getBlockReceipts}, each of which might be passing. */
  private int refusals;

  /**
   * Whether the node does not serve {@code eth_getBlockReceipts}: the standard "method not found"
   * code (-32601), hardhat's "not supported" (-32004), or three refusals in a row of any other code
   * (a block a lagging node lacks is refused once, not three times).
   */
  private boolean unsupported(RpcException e) {
    Integer code = e.code();
    return (code != null && (code == -32601 || code == -32004)) || ++refusals >= 3;
  }

  /** Keeps the receipts of followed transactions from one block's answer, checked whole first. */
  private void take(long height, JsonNode all) {
    if (all == null || !all.isArray()) {
      throw new IllegalStateException("no receipts listed for block " + height);
    }
    String hash = null;
    for (JsonNode r : all) {
      String blockHash = r.path("blockHash").asText("");
      if (!r.path("transactionHash").isTextual()
          || heightOf(r) != height
          || (hash != null && !hash.equalsIgnoreCase(blockHash))) {
        throw new IllegalStateException("receipts of block " + height + " do not agree on it");
      }
      hash = blockHash;
    }
    for (JsonNode r : all) {
      String key = r.path("transactionHash").asText().toLowerCase(Locale.ROOT);
      if (watched.containsKey(key)) {
        keep(key, r);
      }
    }
  }

  private void keep(String txid, JsonNode receipt) {
    if (receipts.size() >= MAX_RECEIPTS) {
      // Those of units never broadcast again here (their partition moved) go once they are old.
      Instant old = clock.instant().minus(RECHECK_AFTER);
      receipts.values().removeIf(seen -> seen.at().isBefore(old));
    }
    if (receipts.size() < MAX_RECEIPTS) {
      receipts.put(txid, new Seen(receipt, clock.instant()));
    }
  }

  private static long heightOf(JsonNode receipt) {
    String number = receipt.path("blockNumber").asText("");
    try {
      return number.startsWith("0x") ? Long.parseLong(number.substring(2), 16) : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
