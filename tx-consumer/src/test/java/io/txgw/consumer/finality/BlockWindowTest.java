package io.txgw.consumer.finality;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.consumer.chain.ChainBlocks.Block;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BlockWindowTest {
  @Test
  void aGrowingChainCostsOneReadPerNewBlockAndOneHeadReadPerCall() throws Exception {
    FakeChain chain = new FakeChain();
    chain.mineEmpty(20);
    BlockWindow window = new BlockWindow(8);
    window.advance(chain);
    assertThat(window.blockCount()).isEqualTo(8);
    chain.reads = 0;
    chain.mineEmpty(3);
    BlockWindow.Advance advance = window.advance(chain);
    // The head, then its parent and grandparent by hash: three blocks, three reads.
    assertThat(chain.reads).isEqualTo(3);
    assertThat(advance.added()).hasSize(3);
    assertThat(advance.removed()).isEmpty();
    chain.reads = 0;
    assertThat(window.advance(chain).changed()).isFalse();
    assertThat(chain.reads).isEqualTo(1);
  }

  @Test
  void aReorganisationWithinTheWindowNamesEveryBlockThatLeftTheMainChain() throws Exception {
    FakeChain chain = new FakeChain();
    chain.mineEmpty(10);
    Block paid = chain.mine("0xaa");
    chain.mineEmpty(2);
    BlockWindow window = new BlockWindow(8);
    window.advance(chain);
    assertThat(window.find("0xaa")).isEqualTo(paid);

    List<Block> gone = chain.rollback(3);
    chain.mineEmpty(4);
    BlockWindow.Advance advance = window.advance(chain);

    assertThat(advance.deep()).isFalse();
    assertThat(advance.removed()).containsExactlyInAnyOrderElementsOf(gone);
    assertThat(window.find("0xaa")).isNull();
    assertThat(window.leftMainChain(paid.hash())).isTrue();
    assertThat(window.at(paid.height())).isNotEqualTo(paid);
  }

  @Test
  void aReorganisationDeeperThanTheWindowIsReportedAsDeep() throws Exception {
    FakeChain chain = new FakeChain();
    chain.mineEmpty(30);
    BlockWindow window = new BlockWindow(5);
    window.advance(chain);
    chain.rollback(8);
    chain.mineEmpty(9);
    BlockWindow.Advance advance = window.advance(chain);
    assertThat(advance.deep()).isTrue();
    assertThat(window.at(chain.tip().height())).isEqualTo(chain.tip());
  }

  @Test
  void aNodeThatLagsChangesNothingAndConfirmationsCountFromTheHeadItReports() throws Exception {
    FakeChain chain = new FakeChain();
    chain.mineEmpty(10);
    BlockWindow window = new BlockWindow(6);
    window.advance(chain);
    chain.lag(2);
    BlockWindow.Advance advance = window.advance(chain);
    assertThat(advance.changed()).isFalse();
    assertThat(window.tip()).isEqualTo(10);
    assertThat(window.headHeight()).isEqualTo(8);
  }

  @Test
  void aHeadRunningFarAheadStartsTheWindowOverWithoutClaimingAReorganisation() throws Exception {
    FakeChain chain = new FakeChain();
    chain.mineEmpty(5);
    BlockWindow window = new BlockWindow(4);
    window.advance(chain);
    chain.mineEmpty(50);
    BlockWindow.Advance advance = window.advance(chain);
    assertThat(advance.removed()).isEmpty();
    assertThat(advance.deep()).isFalse();
    assertThat(window.bottom()).isEqualTo(52);
    assertThat(window.tip()).isEqualTo(55);
  }

  /**
   * Random growth, reorganisations up to twice the window and lagging reads, from many seeds: after
   * every advance the window is exactly the main chain's last blocks as of the head the node
   * reported, every block that left it was named, deep is said exactly when the change went below
   * the window, and the window never holds more than its size.
   */
  @Test
  void theWindowFollowsTheMainChainThroughRandomReorganisations() throws Exception {
    for (long seed = 1; seed <= 300; seed++) {
      Random random = new Random(seed);
      FakeChain chain = new FakeChain();
      chain.mineEmpty(1 + random.nextInt(12));
      int size = 2 + random.nextInt(8);
      BlockWindow window = new BlockWindow(size);
      window.advance(chain);
      for (int step = 0; step < 60; step++) {
        List<Block> before = new ArrayList<>(held(window));
        long oldTip = chain.tip().height();
        int reorgDepth = 0;
        int action = random.nextInt(10);
        chain.lag(0);
        if (action < 5) {
          chain.mineEmpty(1 + random.nextInt(3));
        } else if (action < 8 && chain.tip().height() > 1) {
          reorgDepth = 1 + random.nextInt((int) Math.min(chain.tip().height(), 2L * size));
          chain.rollback(reorgDepth);
          chain.mineEmpty(reorgDepth + random.nextInt(3));
        } else {
          chain.lag(random.nextInt(3));
        }
        long windowTip = window.tip();
        BlockWindow.Advance advance = window.advance(chain);
        Set<String> onChain = new HashSet<>();
        chain.mainChain().forEach(b -> onChain.add(b.hash()));
        // A head a whole window above what was held: the window starts over and units in older
        // blocks are looked up one by one, so nothing is named.
        boolean ranAhead = chain.head().height() - size >= windowTip;
        for (Block b : before) {
          if (!ranAhead && !onChain.contains(b.hash())) {
            assertThat(advance.removed()).as("seed %d step %d", seed, step).contains(b);
            assertThat(window.leftMainChain(b.hash())).isTrue();
          }
        }
        assertThat(window.blockCount()).isLessThanOrEqualTo(size);
        for (Block b : held(window)) {
          assertThat(onChain).as("seed %d step %d", seed, step).contains(b.hash());
        }
        if (!advance.deep() && advance.changed()) {
          assertThat(window.at(chain.head().height())).isEqualTo(chain.head());
        }
        long lowestKept = before.isEmpty() ? Long.MAX_VALUE : before.get(0).height();
        // The last block both chains share: deep only when the window held nothing above it.
        long fork = oldTip - reorgDepth;
        if (advance.deep()) {
          assertThat(fork)
              .as(
                  "seed %d step %d before %s removed %s added %s",
                  seed, step, before, advance.removed(), advance.added())
              .isLessThan(lowestKept);
        } else if (reorgDepth > 0 && fork < lowestKept) {
          assertThat(ranAhead)
              .as(
                  "seed %d step %d fork %d kept %d..%d head %d size %d removed %s added %s",
                  seed,
                  step,
                  fork,
                  lowestKept,
                  windowTip,
                  chain.head().height(),
                  size,
                  advance.removed(),
                  advance.added())
              .isTrue();
        }
      }
    }
  }

  private static List<Block> held(BlockWindow window) {
    List<Block> out = new ArrayList<>();
    for (long h = window.bottom(); h >= 0 && h <= window.tip(); h++) {
      out.add(window.at(h));
    }
    return out;
  }
}
