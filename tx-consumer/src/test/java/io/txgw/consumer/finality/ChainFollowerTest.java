package io.txgw.consumer.finality;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.txgw.common.model.Address;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.common.model.PayoutStatus;
import io.txgw.consumer.ManualClock;
import io.txgw.consumer.chain.BlockRef;
import io.txgw.consumer.chain.ChainBlocks.Block;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChainFollowerTest {
  private final ManualClock clock = new ManualClock();
  private final FakeChain chain = new FakeChain();
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final ChainFollower follower =
      new ChainFollower(
          Chain.BTC,
          chain,
          new ChainFollower.Settings(3, 8, Duration.ofSeconds(1), Duration.ofMinutes(10)),
          clock,
          meters);

  private JournalEntry unit(String txid, BlockRef block) {
    JournalEntry.Item item =
        new JournalEntry.Item(
            "p-" + txid,
            "b",
            "acme",
            new Address("rb1qexample"),
            Amount.parse("1"),
            clock.instant(),
            0,
            PayoutStatus.BROADCAST,
            null);
    return new JournalEntry(
            "BTC:" + txid,
            Chain.BTC,
            "primary",
            txid,
            "raw",
            null,
            JournalEntry.State.CONFIRMING,
            List.of(item),
            clock.instant(),
            clock.instant(),
            0L,
            0L)
        .inBlock(
            block == null ? null : block.hash(),
            block == null ? null : block.height(),
            clock.instant());
  }

  private void tick() throws InterruptedException {
    clock.advance(Duration.ofSeconds(1));
    follower.refresh();
  }

  @Test
  void aUnitIsConfirmedOnceItsBlockIsTheConfiguredDepthDeepAndNotBefore() throws Exception {
    chain.mineEmpty(5);
    Block paid = chain.mine("aa");
    tick();
    JournalEntry unit = unit("aa", paid.ref());
    assertThat(follower.judge(unit)).isEqualTo(Verdict.WAIT);
    chain.mine();
    tick();
    assertThat(follower.judge(unit)).isEqualTo(Verdict.WAIT);
    chain.mine();
    tick();
    assertThat(follower.judge(unit)).isEqualTo(new Verdict.Confirmed(paid.ref()));
  }

  @Test
  void aUnitNotYetPlacedIsFoundInTheBlockThatHoldsItWithoutALookUp() throws Exception {
    chain.mineEmpty(5);
    tick();
    JournalEntry unit = unit("bb", null);
    assertThat(follower.judge(unit)).isEqualTo(Verdict.WAIT);
    Block paid = chain.mine("bb");
    tick();
    chain.reads = 0;
    assertThat(follower.judge(unit)).isEqualTo(new Verdict.Mined(paid.ref()));
    assertThat(chain.reads).isZero();
    chain.mineEmpty(2);
    tick();
    assertThat(follower.judge(unit)).isEqualTo(new Verdict.Confirmed(paid.ref()));
  }

  @Test
  void aChainLeftUnreadWhileNothingOfItWasFollowedGivesNoVerdictUntilItsHeadIsReadAgain()
      throws Exception {
    chain.mineEmpty(5);
    chain.mine("xx");
    tick();
    // Nothing followed: the head is not read while the block at height 6 is replaced.
    follower.idle();
    chain.rollback(1);
    Block paid = chain.mine("yy");
    chain.mineEmpty(3);
    JournalEntry unit = unit("yy", paid.ref());
    assertThat(follower.judge(unit))
        .as("the window still holds the replaced block: not a reorganisation of the unit's")
        .isEqualTo(Verdict.WAIT);
    tick();
    assertThat(follower.judge(unit)).isEqualTo(new Verdict.Confirmed(paid.ref()));
  }

  @Test
  void aStaleWindowReadFromALaggingNodeGivesNoVerdictOnBlocksAboveThatNodesHead() throws Exception {
    chain.mineEmpty(5);
    chain.mine("xx");
    chain.mine();
    tick();
    follower.idle();
    // While nothing is read, the two blocks above height 5 are replaced, and the unit is paid in
    // the new block at 6; the node then read lags at height 5, which the window holds.
    chain.rollback(2);
    Block paid = chain.mine("zz");
    chain.mine();
    chain.lag(2);
    tick();
    JournalEntry unit = unit("zz", paid.ref());
    assertThat(follower.judge(unit))
        .as("the window's block at 6 may have left the main chain: not judged by it")
        .isEqualTo(Verdict.WAIT);
    chain.lag(0);
    chain.mineEmpty(1);
    tick();
    assertThat(follower.judge(unit)).isEqualTo(new Verdict.Confirmed(paid.ref()));
  }

  @Test
  void aUnitWhoseBlockLeftTheMainChainIsReorgedEvenBeforeAnotherBlockTakesItsHeight()
      throws Exception {
    chain.mineEmpty(5);
    Block paid = chain.mine("cc");
    chain.mine();
    tick();
    JournalEntry unit = unit("cc", paid.ref());
    assertThat(follower.judge(unit)).isEqualTo(Verdict.WAIT);
    // Two blocks off, one new: the new chain is lower than the unit's block was.
    chain.rollback(2);
    chain.mine();
    tick();
    assertThat(follower.judge(unit)).isEqualTo(new Verdict.Reorged(paid.ref()));
    assertThat(meters.counter("txgw.chain.reorgs", "chain", "BTC").count()).isEqualTo(1);
  }

  @Test
  void aBlockThatLeftTheMainChainAndCameBackIsOnTheMainChainAgain() throws Exception {
    chain.mineEmpty(5);
    Block paid = chain.mine("ab");
    tick();
    JournalEntry unit = unit("ab", paid.ref());
    // A node flips to another block at that height, then back to the first tip's chain.
    chain.rollback(1);
    chain.mine();
    tick();
    assertThat(follower.judge(unit)).isEqualTo(new Verdict.Reorged(paid.ref()));
    chain.switchTo(paid);
    chain.mineEmpty(2);
    tick();
    assertThat(follower.judge(unit)).isEqualTo(new Verdict.Confirmed(paid.ref()));
  }

  @Test
  void aPooledUnitIsAskedForAtMostOncePerDelayAndOneInNoPoolIsDropped() throws Exception {
    chain.mineEmpty(5);
    tick();
    chain.pool("dd");
    JournalEntry pooled = unit("dd", null);
    JournalEntry gone = unit("ee", null);
    assertThat(follower.judge(pooled)).isEqualTo(Verdict.WAIT);
    assertThat(follower.judge(gone)).isEqualTo(Verdict.WAIT);
    clock.advance(Duration.ofMinutes(10));
    tick();
    chain.reads = 0;
    assertThat(follower.judge(pooled)).isEqualTo(Verdict.WAIT);
    assertThat(follower.judge(gone)).isEqualTo(new Verdict.Dropped());
    assertThat(chain.reads).isEqualTo(2);
    tick();
    assertThat(follower.judge(pooled)).isEqualTo(Verdict.WAIT);
    assertThat(chain.reads).as("not asked again within the delay").isEqualTo(3);
  }

  @Test
  void aUnitInABlockOlderThanTheWindowIsPlacedByALookUp() throws Exception {
    Block paid = chain.mine("ff");
    chain.mineEmpty(20);
    tick();
    JournalEntry unit = unit("ff", paid.ref());
    clock.advance(Duration.ofMinutes(10));
    tick();
    assertThat(follower.judge(unit)).isEqualTo(new Verdict.Confirmed(paid.ref()));
    JournalEntry elsewhere = unit("ff", new BlockRef(paid.height(), "another-block"));
    clock.advance(Duration.ofMinutes(10));
    tick();
    assertThat(follower.judge(elsewhere))
        .isEqualTo(new Verdict.Reorged(new BlockRef(paid.height(), "another-block")));
  }

  @Test
  void aUnitBelowTheWindowIsJudgedOnlyFromANodeOnTheWindowsChain() throws Exception {
    Block paid = chain.mine("fg");
    chain.mineEmpty(20);
    tick();
    JournalEntry unit = unit("fg", paid.ref());
    // The node in rotation now serves another chain below the window's blocks: nothing decided.
    ChainFollower onOtherNode =
        new ChainFollower(
            Chain.BTC,
            new ChainBlocksOnAnotherFork(chain),
            new ChainFollower.Settings(3, 8, Duration.ofSeconds(1), Duration.ofMinutes(10)),
            clock,
            meters);
    clock.advance(Duration.ofSeconds(1));
    onOtherNode.refresh();
    clock.advance(Duration.ofMinutes(10));
    assertThat(onOtherNode.judge(unit)).isEqualTo(Verdict.WAIT);
  }

  @Test
  void outOfTimeOnlyTheWindowDecidesAndNoNodeIsAsked() throws Exception {
    Block paid = chain.mine("hi");
    chain.mineEmpty(20);
    tick();
    JournalEntry below = unit("hi", paid.ref());
    clock.advance(Duration.ofMinutes(10));
    tick();
    chain.reads = 0;
    assertThat(follower.judge(below, false)).isEqualTo(Verdict.WAIT);
    assertThat(chain.reads).isZero();
    assertThat(follower.judge(below, true)).isEqualTo(new Verdict.Confirmed(paid.ref()));
  }

  /** The same blocks, but the block hash at every height is another: a node on another fork. */
  private static final class ChainBlocksOnAnotherFork
      implements io.txgw.consumer.chain.ChainBlocks {
    private final FakeChain chain;

    ChainBlocksOnAnotherFork(FakeChain chain) {
      this.chain = chain;
    }

    @Override
    public Block head() {
      return chain.head();
    }

    @Override
    public Block byHash(String hash) {
      return chain.byHash(hash);
    }

    @Override
    public String hashAt(long height) {
      return "fork-" + height;
    }

    @Override
    public Location locate(String txid) {
      return chain.locate(txid);
    }
  }

  @Test
  void lookUpsDueAtOnceAreSpreadOverIntervals() throws Exception {
    chain.mineEmpty(3);
    tick();
    List<JournalEntry> units =
        java.util.stream.IntStream.range(0, ChainFollower.LOOKUPS_PER_INTERVAL * 2)
            .mapToObj(i -> unit("tx" + i, null))
            .toList();
    clock.advance(Duration.ofMinutes(11));
    tick();
    chain.reads = 0;
    for (JournalEntry u : units) {
      follower.judge(u);
    }
    assertThat(chain.reads).isEqualTo(ChainFollower.LOOKUPS_PER_INTERVAL);
  }
}
