package io.txgw.consumer.chain;

import java.util.Objects;

/** A block by height and hash: the hash says which of the blocks ever seen at that height. */
public record BlockRef(long height, String hash) {
  public BlockRef {
    Objects.requireNonNull(hash, "hash");
  }
}
