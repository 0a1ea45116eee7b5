package io.txgw.gateway.approval;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The state of every held batch, from the approvals topic read in offset order. Deterministic: it
 * depends on the records, their order and the log's time of each, never on this process's clock or
 * configuration, and its bounds are by log time only, so every gateway that has read to the same
 * offset holds the same state, whether it read the topic from its start or kept running while
 * retention deleted the oldest records (the topic keeps twice {@code keep}).
 *
 * <p>Rules: a HOLD for a batch id that has a state is ignored (the first one counts), as is one
 * past {@link #MAX_HOLDS_PER_DAY} of its client in the 24 hours before it; a decision counts only
 * on the hold it names while that hold is pending; an approval only for the content held, by
 * another person than the poster and with another key. So of decisions written at once on several
 * gateways (an approval, a rejection, an expiry), exactly one counts, and every writer learns
 * which.
 *
 * <p>An approved batch is written by the holder of its write claim: the approver's gateway, or,
 * when that one says nothing within {@link #LEASE}, whoever then claims it. WRITTEN counts from any
 * claim of the hold; REFUSED only from the current claim, so a batch is never called refused by one
 * writer while another writes it.
 *
 * <p>Bounded: per client at most {@link #MAX_HOLDS_PER_DAY} holds in any 24 hours, each kept for
 * {@code keep} after it was held: {@code 1,000 × 7} states per client with the defaults.
 */
final class ApprovalFold {
  /** A code constant, not a setting: folds with other limits would disagree. */
  static final int MAX_HOLDS_PER_DAY = 1_000;

  /**
   * How long a write claim holds: above the longest a write can take to be decided (the request's
   * 60 s and a Kafka transaction's 60 s timeout), so that a claim taken over is one whose writer's
   * write has ended, one way or the other.
   */
  static final Duration LEASE = Duration.ofMinutes(3);

  private static final Duration DAY = Duration.ofDays(1);

  /** The lease a record's claim holds: the one it carries, or {@link #LEASE}. */
  static Duration leaseOf(ApprovalRecord r) {
    return r.lease() == null || r.lease().isNegative() ? LEASE : r.lease();
  }

  private final Duration keep;

  /** By key, in the order they were held: the oldest first. */
  private final LinkedHashMap<String, ApprovalState> byKey = new LinkedHashMap<>();

  /** Per client, the log times of its holds in the last 24 hours, the oldest first. */
  private final Map<String, ArrayDeque<Instant>> recentHolds = new HashMap<>();

  ApprovalFold(Duration keep) {
    this.keep = keep;
  }

  /**
   * Applies one record at {@code offset}, written to the log at {@code logTime}.
   *
   * @return the state of the record's batch after it; empty when it has none (a HOLD past the
   *     count, a record on a batch never held or forgotten)
   */
  Optional<ApprovalState> apply(ApprovalRecord r, long offset, Instant logTime) {
    // Before the record: a gateway that read the topic from its start and one that kept running
    // must hold the same states when they apply it.
    prune(logTime);
    String key = r.key();
    ApprovalState now = byKey.get(key);
    switch (r.kind()) {
      case HOLD -> {
        ArrayDeque<Instant> holds =
            recentHolds.computeIfAbsent(r.clientId(), c -> new ArrayDeque<>());
        while (!holds.isEmpty() && holds.peekFirst().isBefore(logTime.minus(DAY))) {
          holds.pollFirst();
        }
        if (now == null && holds.size() < MAX_HOLDS_PER_DAY) {
          byKey.put(key, ApprovalState.held(r, offset, logTime));
          holds.addLast(logTime);
        }
      }
      case APPROVE -> {
        if (decides(now, r)
            && r.fingerprint().equals(now.fingerprint())
            && !r.person().equalsIgnoreCase(now.postedBy())
            && !r.keyId().equals(now.postedKey())) {
          byKey.put(key, now.decided(ApprovalState.Status.APPROVED, r, logTime));
        }
      }
      case REJECT -> {
        if (decides(now, r)) {
          byKey.put(key, now.decided(ApprovalState.Status.REJECTED, r, logTime));
        }
      }
      case EXPIRE -> {
        if (decides(now, r)) {
          byKey.put(key, now.decided(ApprovalState.Status.EXPIRED, r, logTime));
        }
      }
      case CLAIM -> {
        if (writeOpen(now, r) && !logTime.isBefore(now.write().lapsesAt())) {
          byKey.put(
              key,
              now.withWrite(
                  new ApprovalState.Write(r.proposal(), logTime, leaseOf(r), null, null)));
        }
      }
      case WRITTEN -> {
        if (writeOpen(now, r)) {
          byKey.put(key, now.withWrite(now.write().ended(ApprovalState.Outcome.WRITTEN, null)));
        }
      }
      case REFUSED -> {
        if (writeOpen(now, r) && now.write().claim().equals(r.claim())) {
          byKey.put(
              key, now.withWrite(now.write().ended(ApprovalState.Outcome.REFUSED, r.reason())));
        }
      }
    }
    return Optional.ofNullable(byKey.get(key));
  }

  private static boolean decides(ApprovalState now, ApprovalRecord r) {
    return now != null && now.pending() && now.holdProposal().equals(r.hold());
  }

  private static boolean writeOpen(ApprovalState now, ApprovalRecord r) {
    return now != null && now.writeOpen() && now.holdProposal().equals(r.hold());
  }

  Optional<ApprovalState> state(String key) {
    return Optional.ofNullable(byKey.get(key));
  }

  /** The client's batches waiting for a decision, the oldest first. */
  List<ApprovalState> pending(String client) {
    return byKey.values().stream().filter(s -> s.clientId().equals(client) && s.pending()).toList();
  }

  int pendingCount(String client) {
    int n = 0;
    for (ApprovalState s : byKey.values()) {
      if (s.pending() && s.clientId().equals(client)) {
        n++;
      }
    }
    return n;
  }

  /** How many holds of the client count against its day at {@code at} (as far as read). */
  int holdsInDayBefore(String client, Instant at) {
    ArrayDeque<Instant> holds = recentHolds.get(client);
    if (holds == null) {
      return 0;
    }
    int n = 0;
    for (Instant t : holds) {
      if (!t.isBefore(at.minus(DAY))) {
        n++;
      }
    }
    return n;
  }

  /** Batches that are pending, or approved with their write open: the sweep's work. */
  List<ApprovalState> open() {
    List<ApprovalState> out = new ArrayList<>();
    for (ApprovalState s : byKey.values()) {
      if (s.pending() || s.writeOpen()) {
        out.add(s);
      }
    }
    return out;
  }

  int size() {
    return byKey.size();
  }

  private void prune(Instant at) {
    Instant oldest = at.minus(keep);
    // Held in log order, so the oldest are at the head.
    for (Iterator<ApprovalState> it = byKey.values().iterator(); it.hasNext(); ) {
      if (!it.next().postedAt().isBefore(oldest)) {
        break;
      }
      it.remove();
    }
    for (Iterator<ArrayDeque<Instant>> it = recentHolds.values().iterator(); it.hasNext(); ) {
      ArrayDeque<Instant> holds = it.next();
      while (!holds.isEmpty() && holds.peekFirst().isBefore(at.minus(DAY))) {
        holds.pollFirst();
      }
      if (holds.isEmpty()) {
        it.remove();
      }
    }
  }
}
