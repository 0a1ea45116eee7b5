package io.txgw.consumer.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.NavigableSet;
import java.util.TreeSet;
import org.apache.kafka.common.TopicPartition;

/**
 * One partition's log. Its last stable offset, the first offset of a transaction still open, is as
 * far as a read_committed reader may go: committed records past an open transaction stay hidden
 * until it ends, which is what keeps a frozen producer's half-written work from being skipped over.
 */
final class PartitionLog {
  private final TopicPartition tp;
  private final List<SimRecord> records = new ArrayList<>();
  private final NavigableSet<Long> open = new TreeSet<>();

  PartitionLog(TopicPartition tp) {
    this.tp = tp;
  }

  TopicPartition topicPartition() {
    return tp;
  }

  long append(String key, Object value, long producerId, SimRecord.State state) {
    long offset = records.size();
    records.add(new SimRecord(offset, key, value, producerId, state));
    if (state == SimRecord.State.OPEN) {
      open.add(offset);
    }
    return offset;
  }

  /** Ends a record's transaction; a record already ended keeps its outcome. */
  void end(long offset, SimRecord.State outcome) {
    if (open.remove(offset)) {
      records.set((int) offset, records.get((int) offset).withState(outcome));
    }
  }

  long endOffset() {
    return records.size();
  }

  long lastStableOffset() {
    return open.isEmpty() ? records.size() : open.first();
  }

  boolean hasOpen() {
    return !open.isEmpty();
  }

  SimRecord get(long offset) {
    return records.get((int) offset);
  }

  /** What a read_committed reader sees from the beginning now. */
  List<SimRecord> committed() {
    List<SimRecord> visible = new ArrayList<>();
    for (SimRecord r : records.subList(0, (int) lastStableOffset())) {
      if (r.state() == SimRecord.State.COMMITTED) {
        visible.add(r);
      }
    }
    return visible;
  }

  List<SimRecord> all() {
    return List.copyOf(records);
  }
}
