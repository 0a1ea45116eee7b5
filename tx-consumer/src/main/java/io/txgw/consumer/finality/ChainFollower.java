package io.txgw.consumer.finality;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.consumer.chain.BlockRef;
import io.txgw.consumer.chain.ChainBlocks;
import io.txgw.consumer.rpc.RpcException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows one chain's head for every unit of this consumer that waits for its confirmation depth:
 * one {@link BlockWindow} per chain, advanced at most once per interval, and a verdict per unit
 * from it. A unit is confirmed only from the window: its block on the main chain, the head the node
 * last reported at least {@code depth - 1} blocks above it. A unit the window cannot place is
 * looked up on its own, at most once per {@code lookupAfter} (older than the window, or broadcast
 * and in no block for that long).
 *
 * <p>Whatever a node answers wrongly or not at all decides nothing: the verdict is to wait.
 */
public final class ChainFollower {
  private static final Logger log = LoggerFactory.getLogger(ChainFollower.class);

  /** Bound of the look-up schedule; at the bound it starts over, which only looks up sooner. */
  private static final int MAX_LOOKUPS = 100_000;

  /**
   * Look-ups per interval, whatever falls due at once (every unit after a restart): the rest wait
   * for the next intervals, and the node is spared a burst.
   */
  static final int LOOKUPS_PER_INTERVAL = 50;

  private int lookupsLeft = LOOKUPS_PER_INTERVAL;

  /** Whether the unit being judged may be looked up (the pass still has time). */
  private boolean mayLookUp = true;

  /** Per chain: how deep a block must be, the window, how often to read, when to look up. */
  public record Settings(int depth, int window, Duration interval, Duration lookupAfter) {
    public Settings {
      if (depth < 1 || window < depth + 1) {
        throw new IllegalArgumentException(
            "depth must be at least 1 and the window longer than it: " + depth + "/" + window);
      }
    }
  }

  private final Chain chain;
  private final ChainBlocks blocks;
  private final Settings settings;
  private final Clock clock;
  private final BlockWindow window;
  private final Map<String, Instant> lookedUp = new HashMap<>();
  private final Counter reorgs;
  private final Counter deepReorgs;
  private final AtomicLong deepest = new AtomicLong();
  private Instant readAt = Instant.MIN;
  private long advances;

  public ChainFollower(
      Chain chain, ChainBlocks blocks, Settings settings, Clock clock, MeterRegistry meters) {
    this.chain = chain;
    this.blocks = blocks;
    this.settings = settings;
    this.clock = clock;
    this.window = new BlockWindow(settings.window());
    String name = chain.name();
    this.reorgs =
        Counter.builder("txgw.chain.reorgs")
            .tag("chain", name)
            .description("reorganisations of the main chain seen by the confirmation tracker")
            .register(meters);
    this.deepReorgs =
        Counter.builder("txgw.chain.reorgs.deep")
            .tag("chain", name)
            .description("reorganisations deeper than the tracker's window: look into them")
            .register(meters);
    Gauge.builder("txgw.chain.reorg.deepest.blocks", deepest, AtomicLong::get)
        .tag("chain", name)
        .description("blocks replaced by the deepest reorganisation seen since start")
        .register(meters);
    Gauge.builder("txgw.chain.head.height", window, BlockWindow::headHeight)
        .tag("chain", name)
        .description("the head height the confirmation tracker last read")
        .register(meters);
  }

  public Chain chain() {
    return chain;
  }

  public int depth() {
    return settings.depth();
  }

  /**
   * Reads the head once the interval has passed since the last read; true when the main chain
   * changed. A failed read changes nothing and is tried again next interval.
   */
  public boolean refresh() throws InterruptedException {
    Instant now = clock.instant();
    if (now.isBefore(readAt.plus(settings.interval()))) {
      return false;
    }
    readAt = now;
    lookupsLeft = LOOKUPS_PER_INTERVAL;
    try {
      BlockWindow.Advance advance = window.advance(blocks);
      // A window read again after going stale is news: its units are judged at once. Unless the
      // head came from below the window's tip (a node that lags): the blocks above it may have
      // left the main chain while nothing was read, so the window stays stale until a head at or
      // above its tip links to it.
      boolean wasStale = stale;
      stale = wasStale && !advance.changed() && window.headHeight() < window.tip();
      if (advance.depth() > 0) {
        reorgs.increment();
        deepest.accumulateAndGet(advance.depth(), Math::max);
        if (advance.deep()) {
          deepReorgs.increment();
          log.error(
              "{}: the main chain changed below the tracker's {} blocks; units in those blocks are"
                  + " looked up one by one",
              chain,
              settings.window());
        } else {
          log.warn(
              "{}: reorganisation, {} blocks left the main chain (from height {})",
              chain,
              advance.depth(),
              advance.removed().get(0).height());
        }
      }
      if (advance.changed()) {
        advances++;
      }
      return advance.changed() || (wasStale && !stale);
    } catch (RpcException e) {
      if (e.kind() == RpcException.Kind.HELD_BACK) {
        // The chain is paused, or its budget is spent on payouts: the head waits.
        log.debug("{}: head not read: {}", chain, e.getMessage());
      } else {
        log.warn("{}: cannot read the head: {}", chain, e.getMessage());
      }
      return false;
    }
  }

  /**
   * Nothing of this chain is followed, so its head is not read and the window goes stale: until a
   * read of the head succeeds again, every verdict waits rather than judge by blocks that may have
   * left the main chain since. That read links the new head to the window by parent hashes (a call
   * per block mined meanwhile), or reads a whole window when more than one was mined.
   */
  public void idle() {
    stale = true;
  }

  /** Set while the window was not read since its chain went unfollowed. */
  private boolean stale;

  /**
   * How many times the main chain changed since start: a unit judged since needs no new verdict.
   */
  public long advances() {
    return advances;
  }

  /**
   * The verdict on a unit in state CONFIRMING. {@code since} is when it became so (its journal
   * record's time), from which a look-up of a unit in no block is scheduled.
   */
  public Verdict judge(JournalEntry unit) throws InterruptedException {
    return judge(unit, true);
  }

  /**
   * The same; without {@code mayLookUp} (the pass is out of time) only the window decides, and a
   * unit it cannot place waits.
   */
  public Verdict judge(JournalEntry unit, boolean mayLookUp) throws InterruptedException {
    if (window.isEmpty() || stale) {
      return Verdict.WAIT;
    }
    this.mayLookUp = mayLookUp;
    try {
      return unit.blockHash() == null ? judgeUnplaced(unit) : judgePlaced(unit);
    } catch (RpcException e) {
      // No more look-ups this interval: a node that fails or holds calls back would otherwise
      // cost a wait per unit.
      lookupsLeft = 0;
      log.debug("{}: cannot look up {}: {}", chain, unit.txid(), e.getMessage());
      return Verdict.WAIT;
    }
  }

  /** A unit last seen in a block: still there and deep enough, still there, or gone. */
  private Verdict judgePlaced(JournalEntry unit) throws RpcException, InterruptedException {
    BlockRef at = new BlockRef(unit.blockHeight(), unit.blockHash());
    if (at.height() > window.tip() && window.leftMainChain(at.hash())) {
      // Above every block the node serves now, and seen leaving: the chain got shorter. Inside the
      // window the block at that height decides, below it the node's hash at that height.
      return new Verdict.Reorged(at);
    }
    ChainBlocks.Block canonical = window.at(at.height());
    if (canonical != null) {
      if (!canonical.hash().equals(at.hash())) {
        return new Verdict.Reorged(at);
      }
      return deepEnough(at.height()) ? new Verdict.Confirmed(at) : Verdict.WAIT;
    }
    if (at.height() > window.tip()) {
      // Above what the node serves now: it lags, or rolled back and mined nothing since. Decided
      // when a block at that height shows.
      return Verdict.WAIT;
    }
    // Below the window: the main chain's block at that height, a fact every node serves alike
    // (no transaction index needed), says whether it is still the unit's.
    if (!lookUpDue(unit)) {
      return Verdict.WAIT;
    }
    // Asked between two checks that the answering node serves the window's chain: a node in
    // rotation on another fork, or a switch of node between the calls, decides nothing.
    if (!onWindowsChain()) {
      return Verdict.WAIT;
    }
    String canonicalHash = blocks.hashAt(at.height());
    if (canonicalHash == null || !onWindowsChain()) {
      // Above that node's head, or asked of a node on another chain than the window's (a
      // failover between the two calls): nothing is decided from it.
      return Verdict.WAIT;
    }
    if (canonicalHash.equals(at.hash())) {
      return deepEnough(at.height()) ? new Verdict.Confirmed(at) : Verdict.WAIT;
    }
    return new Verdict.Reorged(at);
  }

  /** A unit broadcast and not yet seen in a block. */
  private Verdict judgeUnplaced(JournalEntry unit) throws RpcException, InterruptedException {
    ChainBlocks.Block seen = window.find(unit.txid());
    if (seen != null && seen.height() <= window.headHeight()) {
      forget(unit);
      return deepEnough(seen.height())
          ? new Verdict.Confirmed(seen.ref())
          : new Verdict.Mined(seen.ref());
    }
    if (!lookUpDue(unit)) {
      return Verdict.WAIT;
    }
    ChainBlocks.Location where = blocks.locate(unit.txid());
    return switch (where.where()) {
      case MINED -> {
        // In a block the window does not hold (older than it): placed, and judged as such.
        forget(unit);
        yield new Verdict.Mined(where.block());
      }
      case POOLED -> Verdict.WAIT;
      case ABSENT -> {
        forget(unit);
        yield new Verdict.Dropped();
      }
    };
  }

  /** True when the node answering now serves the window's bottom block at its height. */
  private boolean onWindowsChain() throws RpcException, InterruptedException {
    ChainBlocks.Block bottom = window.at(window.bottom());
    return bottom != null && bottom.hash().equals(blocks.hashAt(bottom.height()));
  }

  private boolean deepEnough(long height) {
    return window.headHeight() - height + 1 >= settings.depth();
  }

  /**
   * True at most once per {@code lookupAfter} per unit, the first time {@code lookupAfter} after
   * the unit became CONFIRMING.
   */
  private boolean lookUpDue(JournalEntry unit) {
    if (lookupsLeft <= 0 || !mayLookUp) {
      return false;
    }
    Instant now = clock.instant();
    Instant last = lookedUp.get(unit.unitId());
    Instant from = last != null ? last : unit.updatedAt() == null ? now : unit.updatedAt();
    if (now.isBefore(from.plus(settings.lookupAfter()))) {
      if (last == null) {
        remember(unit, from);
      }
      return false;
    }
    remember(unit, now);
    lookupsLeft--;
    return true;
  }

  private void remember(JournalEntry unit, Instant at) {
    if (lookedUp.size() >= MAX_LOOKUPS) {
      lookedUp.clear();
    }
    lookedUp.put(unit.unitId(), at);
  }

  /** The unit left the followed set, or was placed: its look-up schedule goes. */
  public void forget(JournalEntry unit) {
    lookedUp.remove(unit.unitId());
  }

  /** The window, for the stated bounds. */
  BlockWindow window() {
    return window;
  }
}
