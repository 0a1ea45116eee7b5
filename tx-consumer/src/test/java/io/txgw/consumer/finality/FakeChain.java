package io.txgw.consumer.finality;

import io.txgw.consumer.chain.BlockRef;
import io.txgw.consumer.chain.ChainBlocks;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A chain of blocks in memory that can grow, reorganise and be served by a node that lags: what the
 * tracker's tests read. Every block ever made stays readable by hash, as real nodes keep side
 * chains. Counts every read, to state what tracking costs.
 */
final class FakeChain implements ChainBlocks {
  private final Map<String, Block> byHash = new HashMap<>();
  private final List<Block> main = new ArrayList<>();
  private final Set<String> pool = new HashSet<>();
  private int made;
  private int lag;
  int reads;

  FakeChain() {
    Block genesis = new Block(0, "h0-genesis", "", List.of());
    byHash.put(genesis.hash(), genesis);
    main.add(genesis);
  }

  /** Mines one block holding {@code txids} on the main chain's tip. */
  Block mine(String... txids) {
    Block tip = main.get(main.size() - 1);
    Block b =
        new Block(
            tip.height() + 1,
            "h" + (tip.height() + 1) + "-" + (++made),
            tip.hash(),
            List.of(txids));
    byHash.put(b.hash(), b);
    main.add(b);
    for (String t : txids) {
      pool.remove(t);
    }
    return b;
  }

  void mineEmpty(int n) {
    for (int i = 0; i < n; i++) {
      mine();
    }
  }

  /** Takes the last {@code depth} blocks off the main chain; their transactions are forgotten. */
  List<Block> rollback(int depth) {
    List<Block> gone = new ArrayList<>();
    for (int i = 0; i < depth; i++) {
      gone.add(main.remove(main.size() - 1));
    }
    return gone;
  }

  /** Makes the chain ending at {@code tip} (a block made before) the main chain again. */
  void switchTo(Block tip) {
    List<Block> chain = new ArrayList<>();
    for (Block b = tip; b != null; b = byHash.get(b.parent())) {
      chain.add(0, b);
    }
    main.clear();
    main.addAll(chain);
  }

  void pool(String txid) {
    pool.add(txid);
  }

  /** Answers as a node {@code blocks} behind the tip would. */
  void lag(int blocks) {
    this.lag = blocks;
  }

  Block tip() {
    return main.get(main.size() - 1);
  }

  List<Block> mainChain() {
    return List.copyOf(main);
  }

  @Override
  public Block head() {
    reads++;
    return main.get(Math.max(0, main.size() - 1 - lag));
  }

  @Override
  public Block byHash(String hash) {
    reads++;
    return byHash.get(hash);
  }

  @Override
  public String hashAt(long height) {
    reads++;
    return height < main.size() ? main.get((int) height).hash() : null;
  }

  @Override
  public Location locate(String txid) {
    reads++;
    for (Block b : main) {
      if (b.txids().contains(txid)) {
        return new Location(Where.MINED, new BlockRef(b.height(), b.hash()));
      }
    }
    return pool.contains(txid) ? Location.POOLED : Location.ABSENT;
  }
}
