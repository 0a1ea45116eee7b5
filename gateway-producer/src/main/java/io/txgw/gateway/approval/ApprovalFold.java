package io.txgw.gateway.approval;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The state of every held batch, from the approvals topic read in offset order. Deterministic: it
 * depends on the records, their order and the log's time of each, never on this process's clock or
 * configuration, so every gateway that has read to the same offset holds the same state.
 *
 * <p>Rules: a HOLD for a batch id that has a state is ignored (the first one counts), as is one
 * beyond {@link #MAX_PENDING_PER_CLIENT}; a decision counts only on the hold it names while that
 * hold is pending; an approval only for the content held, by another person than the poster and
 * with another key. So of decisions written at once on several gateways (an approval, a rejection,
 * an expiry), exactly one counts, and every writer learns which.
 *
 * <p>Bounded: per client at most {@link #MAX_PENDING_PER_CLIENT} pending batches and the last
 * {@code maxSettledPerClient} decided ones (the oldest decision forgotten first); nothing held
 * longer ago than {@code keep} (the topic's retention). A batch forgotten is as if never held: a
 * re-post of it is held anew (and approvals name the content they approve).
 */
final class ApprovalFold {
  /** A code constant, not a setting: folds with other limits would disagree. */
  static final int MAX_PENDING_PER_CLIENT = 10_000;

  private final int maxSettledPerClient;
  private final Duration keep;

  /** By key, in the order they were held: the oldest first. */
  private final LinkedHashMap<String, ApprovalState> byKey = new LinkedHashMap<>();

  /** Per client, its decided batches' keys in the order they were decided. */
  private final Map<String, LinkedHashSet<String>> settled = new HashMap<>();

  private final Map<String, Integer> pendingCount = new HashMap<>();

  ApprovalFold(int maxSettledPerClient, Duration keep) {
    this.maxSettledPerClient = maxSettledPerClient;
    this.keep = keep;
  }

  /**
   * Applies one record at {@code offset}, written to the log at {@code logTime}.
   *
   * @return the state of the record's batch after it; empty when it has none (a HOLD past the
   *     count, a decision on a batch never held or forgotten)
   */
  Optional<ApprovalState> apply(ApprovalRecord r, long offset, Instant logTime) {
    // Before the record: a gateway that read the topic from its start (retention has deleted the
    // oldest records) and one that kept running must hold the same states when they apply it.
    prune(logTime);
    String key = r.key();
    ApprovalState now = byKey.get(key);
    switch (r.kind()) {
      case HOLD -> {
        if (now == null && pendingCount.getOrDefault(r.clientId(), 0) < MAX_PENDING_PER_CLIENT) {
          byKey.put(key, ApprovalState.held(r, offset, logTime));
          pendingCount.merge(r.clientId(), 1, Integer::sum);
        }
      }
      case APPROVE -> {
        if (decides(now, r)
            && r.fingerprint().equals(now.fingerprint())
            && !r.person().equalsIgnoreCase(now.postedBy())
            && !r.keyId().equals(now.postedKey())) {
          settle(now, ApprovalState.Status.APPROVED, r, logTime);
        }
      }
      case REJECT -> {
        if (decides(now, r)) {
          settle(now, ApprovalState.Status.REJECTED, r, logTime);
        }
      }
      case EXPIRE -> {
        if (decides(now, r)) {
          settle(now, ApprovalState.Status.EXPIRED, r, logTime);
        }
      }
    }
    return Optional.ofNullable(byKey.get(key));
  }

  private static boolean decides(ApprovalState now, ApprovalRecord r) {
    return now != null && now.pending() && now.holdProposal().equals(r.hold());
  }

  private void settle(ApprovalState now, ApprovalState.Status to, ApprovalRecord r, Instant at) {
    String key = now.key();
    byKey.put(key, now.decided(to, r, at));
    pendingCount.merge(now.clientId(), -1, Integer::sum);
    LinkedHashSet<String> done =
        settled.computeIfAbsent(now.clientId(), c -> new LinkedHashSet<>());
    done.add(key);
    if (done.size() > maxSettledPerClient) {
      Iterator<String> oldest = done.iterator();
      byKey.remove(oldest.next());
      oldest.remove();
    }
  }

  Optional<ApprovalState> state(String key) {
    return Optional.ofNullable(byKey.get(key));
  }

  /** The client's batches waiting for a decision, the oldest first. */
  List<ApprovalState> pending(String client) {
    return byKey.values().stream().filter(s -> s.clientId().equals(client) && s.pending()).toList();
  }

  int pendingCount(String client) {
    return pendingCount.getOrDefault(client, 0);
  }

  /** How many of the client's batches were held at or after {@code since}, as far as remembered. */
  int heldSince(String client, Instant since) {
    int n = 0;
    for (ApprovalState s : byKey.values()) {
      if (s.clientId().equals(client) && !s.postedAt().isBefore(since)) {
        n++;
      }
    }
    return n;
  }

  /** Up to {@code limit} batches in {@code status}, of every client, the oldest held first. */
  List<ApprovalState> inStatus(ApprovalState.Status status, int limit) {
    List<ApprovalState> out = new ArrayList<>();
    for (ApprovalState s : byKey.values()) {
      if (out.size() >= limit) {
        break;
      }
      if (s.status() == status) {
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
      ApprovalState s = it.next();
      if (!s.postedAt().isBefore(oldest)) {
        break;
      }
      it.remove();
      if (s.pending()) {
        pendingCount.merge(s.clientId(), -1, Integer::sum);
      } else {
        LinkedHashSet<String> done = settled.get(s.clientId());
        if (done != null) {
          done.remove(s.key());
        }
      }
    }
  }
}
