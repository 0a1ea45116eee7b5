package io.txgw.gateway.status;

import io.txgw.common.model.BatchRecord;
import io.txgw.common.model.Payout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A client's payout ids, as the accept path checks them: the view's {@value
 * BatchStatusTopology#PAYOUT_IDS} store, and the ids this gateway holds for batches the store has
 * not read: being written, written moments ago, or written with an outcome not known yet.
 *
 * <p>Checking a batch and taking its ids is one step per client: of two batches racing on this
 * gateway with one id, the second sees the first's claim. It does not span the Kafka write, so a
 * client's batches still share transactions; a batch that meets an id whose batch is still being
 * written waits for that write's answer instead. Two gateways racing can both take an id within the
 * moment before each reads the other's batch: the index is Kafka's, read back, not a lock.
 *
 * <p>A batch whose write is not confirmed holds its ids until its fate is known: an id in it is
 * neither another batch's to take nor an earlier acceptance to point to, since the batch may not
 * exist. Attempts of one batch (re-posts after an unconfirmed write) share one hold, which lasts
 * while any of them may have been written.
 */
public final class PayoutIndex {
  /**
   * Most payout ids and batches held for batches the view has not read yet, over all clients: with
   * the view stalled, this gateway stops taking batches (503) rather than grow without bound. About
   * 300 bytes apiece.
   */
  static final int MAX_HELD = 100_000;

  /**
   * Most held by one client, so that one client's writes in doubt or in a hurry do not take the
   * whole gateway's room: three batches of 10,000 payouts.
   */
  static final int MAX_HELD_PER_CLIENT = 30_003;

  private static final int STRIPES = 64;

  /** The view's stored claim on a payout id, if any. */
  @FunctionalInterface
  interface Stored {
    Optional<PayoutClaim> claim(String clientId, String payoutId);
  }

  /** An id taken by a batch of this gateway, until the view's store has it. */
  private record Held(PayoutClaim claim, Hold hold) {}

  /**
   * What this gateway holds for one batch, over all its attempts: guarded by the client's stripe.
   */
  private static final class Hold {
    final String clientId;
    final String batchKey;

    /** As the first attempt wrote it: what a re-post of the batch id is compared with. */
    final BatchRecord batch;

    final List<String> keys = new ArrayList<>();

    /** Attempts being written, or answered "not confirmed" with their fate still to come. */
    final List<Reserved> live = new ArrayList<>(1);

    /** An attempt committed: held until the view reads the batch. */
    boolean written;

    boolean dropped;

    Hold(String clientId, String batchKey, BatchRecord batch) {
      this.clientId = clientId;
      this.batchKey = batchKey;
      this.batch = batch;
    }

    /** Room it takes against the bounds: its ids, and the batch itself. */
    int weight() {
      return keys.size() + 1;
    }

    Reserved writing() {
      for (Reserved r : live) {
        if (r.stage == Stage.WRITING) {
          return r;
        }
      }
      return null;
    }

    /** No attempt committed, and one may have: what the batch's ids are is not known. */
    boolean inDoubt() {
      return !written && writing() == null && !live.isEmpty();
    }
  }

  private enum Stage {
    WRITING,
    IN_DOUBT,
    ENDED
  }

  private final Stored stored;
  private final Map<String, Held> held = new ConcurrentHashMap<>();
  private final Map<String, Hold> holds = new ConcurrentHashMap<>();
  private final AtomicInteger heldIds = new AtomicInteger();
  private final AtomicInteger weight = new AtomicInteger();

  /** Weight by client; a client's entry changes under its stripe only. */
  private final Map<String, Integer> clientWeight = new ConcurrentHashMap<>();

  /** The weight at which a batch was last refused by a bound, for readiness; -1 when none. */
  private volatile int refusedAt = -1;

  private final Map<String, Integer> clientRefusedAt = new ConcurrentHashMap<>();
  private final AtomicInteger refusals = new AtomicInteger();
  private final Object[] stripes = new Object[STRIPES];
  private final int maxHeld;
  private final int maxHeldPerClient;

  PayoutIndex(Stored stored) {
    this(stored, MAX_HELD, MAX_HELD_PER_CLIENT);
  }

  PayoutIndex(Stored stored, int maxHeld) {
    this(stored, maxHeld, maxHeld);
  }

  PayoutIndex(Stored stored, int maxHeld, int maxHeldPerClient) {
    this.stored = stored;
    this.maxHeld = maxHeld;
    this.maxHeldPerClient = maxHeldPerClient;
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new Object();
    }
  }

  /** What checking a new batch's payout ids found. */
  public sealed interface Check {}

  /**
   * No id is another payment's: the batch's new ids are taken for this attempt at writing it. Ids
   * an earlier batch accepted with the same content are in {@code acceptedEarlier} (id to that
   * batch) and are not taken again. Say how the write ended: {@link #keep}, {@link #release}, or
   * {@link #doubt} and later one of the other two.
   */
  public final class Reserved implements Check {
    private final Hold hold;
    private final Map<String, String> acceptedEarlier;
    private final CompletableFuture<Void> answered = new CompletableFuture<>();
    private Stage stage = Stage.WRITING;

    private Reserved(Hold hold, Map<String, String> acceptedEarlier) {
      this.hold = hold;
      this.acceptedEarlier = acceptedEarlier;
    }

    public Map<String, String> acceptedEarlier() {
      return acceptedEarlier;
    }

    /**
     * Kafka took the batch: its ids stay taken until the view reads the batch back, and batches
     * waiting for them may check again.
     */
    public void keep() {
      synchronized (stripe(hold.clientId)) {
        if (stage != Stage.ENDED) {
          stage = Stage.ENDED;
          hold.live.remove(this);
          hold.written = !hold.dropped;
        }
      }
      answered.complete(null);
    }

    /**
     * Kafka did not take this attempt, or the view has read past its end (a batch it committed is
     * in the store then): its ids are free again, unless another attempt of the batch may hold
     * them.
     */
    public void release() {
      synchronized (stripe(hold.clientId)) {
        if (stage != Stage.ENDED) {
          stage = Stage.ENDED;
          hold.live.remove(this);
          if (!hold.written && hold.live.isEmpty()) {
            drop(hold);
          }
        }
      }
      answered.complete(null);
    }

    /**
     * The write was not confirmed: Kafka may or may not have the batch. Its ids stay held, and
     * other batches naming them are told to wait ({@link Unconfirmed}), until {@link #keep} or
     * {@link #release} says.
     */
    public void doubt() {
      synchronized (stripe(hold.clientId)) {
        if (stage == Stage.WRITING) {
          stage = Stage.IN_DOUBT;
        }
      }
      answered.complete(null);
    }
  }

  /** Ids of the batch that earlier batches accepted for other payments; nothing was taken. */
  public record Taken(List<Conflict> conflicts) implements Check {
    public Taken {
      conflicts = List.copyOf(conflicts);
    }
  }

  /**
   * The payout at {@code index} has an id that batch {@code batchId} accepted for another payment;
   * {@code differs} names the fields that differ.
   */
  public record Conflict(int index, String id, String batchId, List<String> differs) {
    public Conflict {
      differs = List.copyOf(differs);
    }
  }

  /**
   * Ids of the batch are held for other batches of this gateway whose write is not confirmed:
   * whether they are taken is not known yet. Nothing was taken.
   */
  public record Unconfirmed(List<InDoubt> ids) implements Check {
    public Unconfirmed {
      ids = List.copyOf(ids);
    }
  }

  /** The payout at {@code index} has an id held for batch {@code batchId}, not confirmed. */
  public record InDoubt(int index, String id, String batchId) {}

  /**
   * A batch of this gateway that holds some of the ids is still being written: check again once
   * {@code settled} completes (it never fails), when its ids are taken, free, or in doubt.
   */
  public record Busy(CompletableFuture<Void> settled) implements Check {}

  /**
   * This gateway holds too much for batches the view has not read back, for this client ({@code
   * gateway} false) or over all: nothing was taken; retry once the view catches up or writes in
   * doubt are settled.
   *
   * @param held payout ids and batches held, of the client or of all
   */
  public record Full(boolean gateway, int held, int limit) implements Check {}

  /**
   * Checks the payout ids of a new batch (all of one client, batch and chain) and, when none is
   * another payment's, takes them for it.
   *
   * @throws BatchView.ViewUnavailableException when the store cannot be read
   */
  public Check reserve(BatchRecord batch, List<Payout> payouts) {
    String clientId = batch.clientId();
    String batchId = batch.batchId();
    synchronized (stripe(clientId)) {
      Hold own = holds.get(batch.key());
      List<Conflict> conflicts = new ArrayList<>();
      List<InDoubt> unconfirmed = new ArrayList<>();
      Map<String, String> earlier = new LinkedHashMap<>();
      List<CompletableFuture<Void>> pending = new ArrayList<>();
      for (int i = 0; i < payouts.size(); i++) {
        Payout p = payouts.get(i);
        Held mine = held.get(p.resultKey());
        PayoutClaim claim;
        if (mine != null && mine.hold() == own) {
          // Its own, from an earlier attempt of this batch: the same payment, or a conflict.
          claim = mine.claim();
        } else if (mine != null && !mine.hold().written) {
          Reserved writing = mine.hold().writing();
          if (writing != null) {
            pending.add(writing.answered);
          } else {
            unconfirmed.add(new InDoubt(i, p.id(), mine.hold().batch.batchId()));
          }
          continue;
        } else if (mine != null) {
          claim = mine.claim();
        } else {
          // Read after the held ids: an id leaves them only once the store has it.
          claim = stored.claim(clientId, p.id()).orElse(null);
        }
        if (claim == null) {
          continue;
        }
        List<String> differs = claim.differences(p);
        if (!differs.isEmpty()) {
          conflicts.add(new Conflict(i, p.id(), claim.batchId(), differs));
        } else if (!claim.batchId().equals(batchId)) {
          earlier.put(p.id(), claim.batchId());
        }
      }
      if (!pending.isEmpty()) {
        return new Busy(CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)));
      }
      if (!conflicts.isEmpty()) {
        return new Taken(conflicts);
      }
      if (!unconfirmed.isEmpty()) {
        return new Unconfirmed(unconfirmed);
      }
      // Only what this attempt adds: the batch's earlier attempts hold the rest already.
      int adding = own == null ? 1 : 0;
      for (Payout p : payouts) {
        adding += earlier.containsKey(p.id()) || held.containsKey(p.resultKey()) ? 0 : 1;
      }
      Full full = bound(clientId, adding);
      if (full != null) {
        return full;
      }
      return take(own == null ? newHold(batch) : own, payouts, earlier);
    }
  }

  /** Refuses a batch that would take {@code adding} more than the bounds leave; null if it fits. */
  private Full bound(String clientId, int adding) {
    int client = clientWeight.getOrDefault(clientId, 0);
    // A batch alone above a bound still passes: it could never pass otherwise.
    if (adding > 0 && client > 0 && client + adding > maxHeldPerClient) {
      clientRefusedAt.put(clientId, client);
      refusals.incrementAndGet();
      return new Full(false, client, maxHeldPerClient);
    }
    int all = weight.get();
    if (adding > 0 && all > 0 && all + adding > maxHeld) {
      refusedAt = all;
      refusals.incrementAndGet();
      return new Full(true, all, maxHeld);
    }
    return null;
  }

  private Hold newHold(BatchRecord batch) {
    Hold hold = new Hold(batch.clientId(), batch.key(), batch);
    holds.put(batch.key(), hold);
    weigh(hold.clientId, 1);
    return hold;
  }

  private Reserved take(Hold hold, List<Payout> payouts, Map<String, String> earlier) {
    for (Payout p : payouts) {
      String key = p.resultKey();
      if (!earlier.containsKey(p.id()) && !held.containsKey(key)) {
        held.put(key, new Held(PayoutClaim.of(p), hold));
        hold.keys.add(key);
        heldIds.incrementAndGet();
        weigh(hold.clientId, 1);
      }
    }
    Reserved attempt = new Reserved(hold, Map.copyOf(earlier));
    hold.live.add(attempt);
    return attempt;
  }

  /**
   * The batch as an attempt of it whose write is not confirmed wrote it, while no attempt is known
   * to have committed: a re-post of its id is compared with it, as with a written batch.
   */
  public Optional<BatchRecord> unconfirmed(String clientId, String batchId) {
    synchronized (stripe(clientId)) {
      Hold hold = holds.get(BatchRecord.key(clientId, batchId));
      return hold != null && hold.inDoubt() ? Optional.of(hold.batch) : Optional.empty();
    }
  }

  /** The view's store has the batch's ids now: this gateway need not hold them any longer. */
  void indexed(String batchKey) {
    Hold hold = holds.get(batchKey);
    if (hold != null) {
      synchronized (stripe(hold.clientId)) {
        drop(hold);
      }
    }
  }

  /** Payout ids held for batches the view has not read back yet. */
  public int held() {
    return heldIds.get();
  }

  /** What is held now, and whether the bounds refuse batches, for readiness. */
  public Holding holding() {
    int inDoubt = 0;
    for (Hold hold : holds.values()) {
      synchronized (stripe(hold.clientId)) {
        inDoubt += hold.inDoubt() ? hold.keys.size() : 0;
      }
    }
    int at = refusedAt;
    return new Holding(
        heldIds.get(),
        inDoubt,
        holds.size(),
        maxHeld,
        maxHeldPerClient,
        clientRefusedAt.size(),
        at >= 0 && weight.get() >= at,
        refusals.get());
  }

  /**
   * @param payoutIds held for batches the view has not read back
   * @param inDoubt of those, held for batches whose write is not confirmed
   * @param batches held
   * @param limit bound of payout ids and batches held over all clients
   * @param clientLimit the same, for each client
   * @param clientsAtLimit clients refused by their bound and holding no less since
   * @param full batches are refused by the bound over all clients, and no less is held since
   * @param refusals batches refused by a bound since start
   */
  public record Holding(
      int payoutIds,
      int inDoubt,
      int batches,
      int limit,
      int clientLimit,
      int clientsAtLimit,
      boolean full,
      int refusals) {}

  /** Drops what a batch holds, once: the view, a failed write, the end of doubt may all say so. */
  private void drop(Hold hold) {
    if (hold.dropped) {
      return;
    }
    hold.dropped = true;
    holds.remove(hold.batchKey, hold);
    for (String key : hold.keys) {
      held.computeIfPresent(key, (k, h) -> h.hold() == hold ? null : h);
    }
    heldIds.addAndGet(-hold.keys.size());
    weigh(hold.clientId, -hold.weight());
  }

  private void weigh(String clientId, int delta) {
    int client = clientWeight.merge(clientId, delta, Integer::sum);
    if (client <= 0) {
      clientWeight.remove(clientId);
    }
    Integer clientAt = clientRefusedAt.get(clientId);
    if (clientAt != null && client < clientAt) {
      clientRefusedAt.remove(clientId);
    }
    int all = weight.addAndGet(delta);
    if (all < refusedAt) {
      refusedAt = -1;
    }
  }

  private Object stripe(String clientId) {
    return stripes[Math.floorMod(clientId.hashCode(), STRIPES)];
  }
}
