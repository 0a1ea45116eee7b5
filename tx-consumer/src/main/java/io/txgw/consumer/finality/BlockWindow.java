package io.txgw.consumer.finality;

import io.txgw.consumer.chain.ChainBlocks;
import io.txgw.consumer.chain.ChainBlocks.Block;
import io.txgw.consumer.rpc.RpcException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The last {@code size} blocks of a chain's main chain as its node serves them, each with its
 * transaction ids, linked by parent hash.
 *
 * <p>A new head is linked to the window by walking back through parent hashes until a block the
 * window holds is met: one read per new block when the chain only grows, and a reorganisation of
 * any depth up to {@code size} is found, since a block hash commits to the block's whole ancestry
 * and content (a block at the same height with another hash is another block; the same hash is the
 * same transactions). A walk that meets nothing within {@code size} blocks is a reorganisation
 * deeper than the window: reported as such, and the window starts over from the new chain.
 *
 * <p>A head at or below the window's tip that the window already holds (a node that lags, or one
 * that rolled back and has mined nothing since) changes nothing: confirmations are counted from the
 * head last read ({@link #headHeight()}), never from a tip the node no longer reports.
 *
 * <p>Bounded: {@code size} blocks with their transaction ids, and the hashes of the last {@code
 * size} blocks that left the main chain.
 */
public final class BlockWindow {
  /** What one {@link #advance} changed. */
  public record Advance(List<Block> removed, List<Block> added, boolean deep) {
    static final Advance NONE = new Advance(List.of(), List.of(), false);

    public boolean changed() {
      return !removed.isEmpty() || !added.isEmpty();
    }

    /** How many blocks of the main chain as seen before were replaced; 0 when it only grew. */
    public int depth() {
      return removed.size();
    }
  }

  private final int size;
  private final NavigableMap<Long, Block> blocks = new TreeMap<>();
  private final Map<String, Block> byTxid = new HashMap<>();
  private final LinkedHashSet<String> left = new LinkedHashSet<>();
  private long headHeight = -1;

  public BlockWindow(int size) {
    if (size < 2) {
      throw new IllegalArgumentException("a window needs at least two blocks");
    }
    this.size = size;
  }

  /** Reads the node's head and takes in what changed since the last call. */
  public Advance advance(ChainBlocks chain) throws RpcException, InterruptedException {
    Block head = chain.head();
    if (blocks.isEmpty()) {
      List<Block> fresh = walk(chain, head, size);
      replaceAll(fresh);
      return new Advance(List.of(), fresh, false);
    }
    Block known = blocks.get(head.height());
    if ((known != null && known.hash().equals(head.hash())) || head.height() < blocks.firstKey()) {
      // On the window's chain, or below it: a node that lags (or rolled back). Nothing is decided
      // until it serves a head the window can place; meanwhile depths count from this one.
      headHeight = head.height();
      return Advance.NONE;
    }
    List<Block> fresh = new ArrayList<>();
    fresh.add(head);
    Block b = head;
    while (true) {
      long below = b.height() - 1;
      Block ours = blocks.get(below);
      if (ours != null && ours.hash().equals(b.parent())) {
        break;
      }
      if (below < blocks.firstKey()) {
        // Nothing in the window is an ancestor of the head: a reorganisation past the window.
        List<Block> all = new ArrayList<>(blocks.values());
        List<Block> chainNow = walk(chain, head, size);
        replaceAll(chainNow);
        all.forEach(this::markLeft);
        return new Advance(all, chainNow, true);
      }
      if (below > blocks.lastKey() && fresh.size() >= size) {
        // The head ran more than a window ahead (the tracker stood still): what lies between is
        // not read. Nothing is said to have left the main chain; units whose blocks fall below the
        // new window are looked up one by one.
        // The blocks read so far are the window's worth from the head.
        Collections.reverse(fresh);
        replaceAll(fresh);
        return new Advance(List.of(), fresh, false);
      }
      b = chain.byHash(b.parent());
      if (b == null) {
        throw ChainBlocks.malformed("block by parent hash", null);
      }
      fresh.add(b);
    }
    Collections.reverse(fresh);
    long from = fresh.get(0).height();
    List<Block> removed = new ArrayList<>(blocks.tailMap(from, true).values());
    removed.forEach(this::remove);
    removed.forEach(this::markLeft);
    fresh.forEach(this::add);
    headHeight = head.height();
    trim();
    return new Advance(removed, fresh, false);
  }

  /** The blocks from {@code head} back, at most {@code count}, oldest first. */
  private static List<Block> walk(ChainBlocks chain, Block head, int count)
      throws RpcException, InterruptedException {
    List<Block> out = new ArrayList<>();
    Block b = head;
    out.add(b);
    while (out.size() < count && b.height() > 0) {
      b = chain.byHash(b.parent());
      if (b == null) {
        break;
      }
      out.add(b);
    }
    Collections.reverse(out);
    return out;
  }

  private void replaceAll(List<Block> chainNow) {
    blocks.clear();
    byTxid.clear();
    chainNow.forEach(this::add);
    headHeight = chainNow.get(chainNow.size() - 1).height();
  }

  private void add(Block block) {
    // A block that left the main chain and is back on it (a node flipping between two tips, a
    // failover between nodes) is on the main chain again.
    left.remove(block.hash());
    blocks.put(block.height(), block);
    for (String txid : block.txids()) {
      byTxid.put(txid, block);
    }
  }

  private void remove(Block block) {
    blocks.remove(block.height());
    for (String txid : block.txids()) {
      byTxid.remove(txid, block);
    }
  }

  private void markLeft(Block block) {
    left.add(block.hash());
    while (left.size() > size) {
      left.remove(left.iterator().next());
    }
  }

  private void trim() {
    while (blocks.size() > size) {
      remove(blocks.firstEntry().getValue());
    }
  }

  /** The block of the window holding {@code txid}, or null. */
  public Block find(String txid) {
    return byTxid.get(txid);
  }

  /** The window's block at {@code height}, or null outside it. */
  public Block at(long height) {
    return blocks.get(height);
  }

  /** True when a block with this hash was in the window and left the main chain since. */
  public boolean leftMainChain(String hash) {
    return left.contains(hash);
  }

  /** The lowest height the window holds; -1 while empty. */
  public long bottom() {
    return blocks.isEmpty() ? -1 : blocks.firstKey();
  }

  /** The height of the tip the window holds; -1 while empty. */
  public long tip() {
    return blocks.isEmpty() ? -1 : blocks.lastKey();
  }

  /** The height of the head the node reported last: confirmations count from here. */
  public long headHeight() {
    return headHeight;
  }

  public boolean isEmpty() {
    return blocks.isEmpty();
  }

  /** Blocks held, for the stated bound. */
  public int blockCount() {
    return blocks.size();
  }

  /** Transaction ids held, for the stated bound. */
  public int txidCount() {
    return byTxid.size();
  }
}
