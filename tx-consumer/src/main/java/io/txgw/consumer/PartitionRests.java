package io.txgw.consumer;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Partitions resting before their next round: paused in the consumer until a time, then resumed if
 * still assigned. Bounded by the partitions assigned.
 */
final class PartitionRests {
  /** A node, a lease or a refusal needs a moment. */
  static final Duration WAIT = Duration.ofSeconds(2);

  /** Units sent and not mined yet are looked at again soon: a block may be a moment away. */
  static final Duration NOT_MINED = Duration.ofMillis(250);

  private final Consumer<String, byte[]> consumer;
  private final Clock clock;
  private final Map<TopicPartition, Instant> until = new HashMap<>();

  /** Set from another thread when every rest should end at the next wake. */
  private final AtomicBoolean endAll = new AtomicBoolean();

  PartitionRests(Consumer<String, byte[]> consumer, Clock clock) {
    this.consumer = consumer;
    this.clock = clock;
  }

  /**
   * Rests the partition as the round's end asks: a while when a node, lease or refusal needs a
   * moment, briefly when units only wait to be mined (or hold coins a refused payout may need), not
   * at all when the pass ran out of time.
   */
  void after(TopicPartition p, SendRound.Prepared prepared, SendRound.Broadcast broadcast) {
    if ((prepared != null && prepared.stop() == SendRound.Stop.WAIT)
        || broadcast.stop() == SendRound.Stop.WAIT) {
      rest(p, WAIT);
    } else if ((prepared != null && prepared.stop() == SendRound.Stop.HELD)
        || (broadcast.stop() == SendRound.Stop.NONE && !broadcast.unsettled().isEmpty())) {
      rest(p, NOT_MINED);
    }
  }

  void rest(TopicPartition p, Duration rest) {
    consumer.pause(List.of(p));
    until.put(p, clock.instant().plus(rest));
  }

  boolean resting(TopicPartition p) {
    return until.containsKey(p);
  }

  /**
   * Ends every rest at the next {@link #wakeRested}, from any thread: what a partition waited for
   * (a chain's pause, say) may be over, and a round that finds it is not rests again.
   */
  void endAllSoon() {
    endAll.set(true);
  }

  /** Resumes every partition whose rest is over and that this consumer still owns. */
  void wakeRested() {
    Instant now = clock.instant();
    boolean all = endAll.getAndSet(false);
    until
        .entrySet()
        .removeIf(
            e -> {
              // A rest further off than the longest one (the clock stepped back) is over now.
              if (!all && now.isBefore(e.getValue()) && !e.getValue().isAfter(now.plus(WAIT))) {
                return false;
              }
              if (consumer.assignment().contains(e.getKey())) {
                consumer.resume(List.of(e.getKey()));
              }
              return true;
            });
  }

  void forget(Collection<TopicPartition> partitions) {
    partitions.forEach(until::remove);
  }
}
