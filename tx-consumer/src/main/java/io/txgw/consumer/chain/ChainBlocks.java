package io.txgw.consumer.chain;

import io.txgw.consumer.rpc.RpcException;
import java.util.List;
import java.util.Objects;

/**
 * A chain's blocks as its node in rotation serves them: what the confirmation tracker reads. One
 * block read per new block serves every payout of the chain; {@link #locate} is for the few units
 * the window cannot place (older than it, or long absent from every block).
 *
 * <p>Hashes and transaction ids are lower-case hex, as the senders compute and journal them.
 */
public interface ChainBlocks {
  /** A block with the ids of the transactions it holds, in order. */
  record Block(long height, String hash, String parent, List<String> txids) {
    public Block {
      Objects.requireNonNull(hash, "hash");
      txids = List.copyOf(txids);
    }

    public BlockRef ref() {
      return new BlockRef(height, hash);
    }
  }

  /** Where the node says a transaction is. */
  enum Where {
    /** In a block of the node's main chain: {@link Location#block()} says which. */
    MINED,
    /** In the node's pool, in no block yet. */
    POOLED,
    /** The node knows no such transaction: neither in its pool nor in its main chain. */
    ABSENT
  }

  /** A transaction's place; {@code block} only when MINED. */
  record Location(Where where, BlockRef block) {
    public static final Location POOLED = new Location(Where.POOLED, null);
    public static final Location ABSENT = new Location(Where.ABSENT, null);
  }

  /** The node's best block. */
  Block head() throws RpcException, InterruptedException;

  /** A block by hash, on the main chain or not; null when the node knows none. */
  Block byHash(String hash) throws RpcException, InterruptedException;

  /** The hash of the node's main-chain block at {@code height}; null above its head. */
  String hashAt(long height) throws RpcException, InterruptedException;

  /** Where the node says {@code txid} is. A failed call decides nothing and throws. */
  Location locate(String txid) throws RpcException, InterruptedException;

  /** An answer that is not what the method promises: nothing is decided from it. */
  static RpcException malformed(String method, Object answer) {
    return new RpcException(
        RpcException.Kind.MALFORMED, null, 200, method + ": unexpected answer " + answer, null);
  }
}
