package io.txgw.consumer;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;

/**
 * Where a partition's journal must be read from at takeover, kept in the metadata of the {@code
 * sendto} offset commit so that it moves in the same transaction as the offset and the tombstones
 * of what it leaves behind.
 *
 * @param previousStart the journal offset the older remembered generation starts at: a new owner
 *     reads from here; nothing below it is pending or needed for deduplication
 * @param currentStart where the newer generation starts
 */
record JournalCheckpoint(long previousStart, long currentStart) {
  static final JournalCheckpoint START = new JournalCheckpoint(0, 0);
  private static final String PREFIX = "journal:";

  /** The checkpoint committed with {@code committed}; the start of the journal if there is none. */
  static JournalCheckpoint of(OffsetAndMetadata committed) {
    if (committed == null || committed.metadata() == null) {
      return START;
    }
    String text = committed.metadata();
    if (!text.startsWith(PREFIX)) {
      return START;
    }
    String[] parts = text.substring(PREFIX.length()).split(":");
    try {
      return new JournalCheckpoint(Long.parseLong(parts[0]), Long.parseLong(parts[1]));
    } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
      // Unreadable: read everything, which is never wrong, only slower.
      return START;
    }
  }

  String metadata() {
    return PREFIX + previousStart + ":" + currentStart;
  }
}
