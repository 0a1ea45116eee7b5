package io.txgw.consumer.finality;

import io.txgw.consumer.chain.BlockRef;

/** What the chain says of one followed unit now. */
public sealed interface Verdict {
  /** Nothing to change: not deep enough yet, or nothing known. */
  record Wait() implements Verdict {}

  /** First seen in {@code block}, not deep enough yet: remembered, so that a reorg is noticed. */
  record Mined(BlockRef block) implements Verdict {}

  /** Its block is the configured depth deep on the main chain. */
  record Confirmed(BlockRef block) implements Verdict {}

  /** The block it was seen in left the main chain. */
  record Reorged(BlockRef block) implements Verdict {}

  /** Neither in a block nor in the node's pool, long after it was broadcast. */
  record Dropped() implements Verdict {}

  Verdict WAIT = new Wait();
}
