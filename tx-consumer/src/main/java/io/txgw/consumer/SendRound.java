package io.txgw.consumer;

import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.common.model.Payout;
import io.txgw.common.model.PayoutStatus;
import io.txgw.consumer.chain.BlockRef;
import io.txgw.consumer.chain.ChainSender;
import io.txgw.consumer.chain.NodeUnavailableException;
import io.txgw.consumer.chain.Preparation;
import io.txgw.consumer.chain.Replacement;
import io.txgw.consumer.chain.SendOutcome;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chain side of one partition's round, without Kafka: groups payouts into send units, prepares
 * them, and later broadcasts the journaled ones. The caller journals between the two steps.
 */
final class SendRound {
  private static final Logger log = LoggerFactory.getLogger(SendRound.class);

  /** A payout read from {@code sendto} at an offset. */
  record Read(Payout payout, long offset) {}

  /** Payouts of one account that go in one transaction. */
  record Unit(Chain chain, String source, List<Read> reads) {
    long firstOffset() {
      return reads.get(0).offset();
    }

    long lastOffset() {
      return reads.stream().mapToLong(Read::offset).max().orElseThrow();
    }
  }

  /**
   * Prepared units: PREPARED entries to journal before broadcast, entries already final (the node
   * refused to build them, nothing was signed), and whether preparing stopped before the last unit
   * (node unavailable, lease held elsewhere). Payouts in neither list were not prepared.
   */
  record Prepared(List<JournalEntry> toJournal, List<JournalEntry> refused, Stop stop) {
    boolean stopped() {
      return stop != Stop.NONE;
    }
  }

  /** Why a round stopped early, which decides whether the partition rests before going on. */
  enum Stop {
    NONE,
    /** The pass used its time: go on at once, from a fresh poll. */
    OUT_OF_TIME,
    /** A node, a lease or a refusal needs a moment: rest before trying again. */
    WAIT,
    /**
     * Refused while units of the account not mined yet hold its coins: the refusal may be theirs,
     * and is tried again once they are (soon: they were just sent).
     */
    HELD
  }

  /**
   * Broadcast units: final entries to record (RECORDED with their outcome, or ABANDONED: never
   * mined and never will be, their payouts to prepare anew), and units left journaled as they were
   * (node unavailable, not mined yet, or this consumer may no longer own the account). {@code
   * replaced}: unsettled units whose transaction, stuck, was signed again at a higher fee; to be
   * journaled (and the client told REPLACED) before the new bytes are sent, in a later round.
   */
  record Broadcast(
      List<JournalEntry> settled,
      List<JournalEntry> unsettled,
      Stop stop,
      List<JournalEntry> replaced,
      boolean inFlight) {
    Broadcast(List<JournalEntry> settled, List<JournalEntry> unsettled, Stop stop) {
      this(settled, unsettled, stop, List.of(), false);
    }

    /**
     * True when the partition may take new work at once: the round went to its end, nothing was
     * given up or replaced, and every unit left waiting is {@link SendOutcome#inFlight} (just sent
     * here, its account's next nonce known to be above it).
     */
    boolean flows() {
      return stop == Stop.NONE
          && replaced.isEmpty()
          && inFlight
          && settled.stream().noneMatch(u -> u.state() == JournalEntry.State.ABANDONED);
    }
  }

  private final Map<Chain, ChainSender> senders;
  private final AccountGuard guard;
  private final Clock clock;
  private final java.util.function.Predicate<Chain> followed;
  private final FeeBumps bumps;

  SendRound(
      Map<Chain, ChainSender> senders,
      AccountGuard guard,
      Clock clock,
      java.util.function.Predicate<Chain> followed) {
    this(senders, guard, clock, followed, FeeBumps.never());
  }

  /**
   * @param followed chains whose broadcast units are followed to a confirmation depth (CONFIRMING)
   *     rather than recorded as final
   * @param bumps when a stuck transaction is replaced at a higher fee
   */
  SendRound(
      Map<Chain, ChainSender> senders,
      AccountGuard guard,
      Clock clock,
      java.util.function.Predicate<Chain> followed,
      FeeBumps bumps) {
    this.senders = senders;
    this.guard = guard;
    this.clock = clock;
    this.followed = followed;
    this.bumps = bumps;
  }

  /**
   * Groups payouts per account and asset, in order, into units as large as each chain allows: one
   * transaction pays one asset.
   */
  List<Unit> plan(List<Read> reads) {
    Map<String, List<Read>> byAccount = new LinkedHashMap<>();
    for (Read r : reads) {
      String key = r.payout().accountKey() + "|" + r.payout().asset().symbol();
      byAccount.computeIfAbsent(key, k -> new ArrayList<>()).add(r);
    }
    List<Unit> units = new ArrayList<>();
    for (List<Read> account : byAccount.values()) {
      Payout first = account.get(0).payout();
      ChainSender sender = senders.get(first.chain());
      int max = sender == null ? 1 : sender.maxPayoutsPerUnit();
      for (int i = 0; i < account.size(); i += max) {
        units.add(
            new Unit(
                first.chain(),
                first.source(),
                account.subList(i, Math.min(i + max, account.size()))));
      }
    }
    return units;
  }

  /**
   * Splits units into rounds that each chain can carry at once: every unit prepared in a round
   * holds its inputs (Bitcoin) or nonce until the round is broadcast, and a wallet whose coins are
   * all held by unbroadcast transactions would refuse the next one for lack of funds.
   */
  List<List<Unit>> chunks(List<Unit> units) {
    List<List<Unit>> chunks = new ArrayList<>();
    List<Unit> current = new ArrayList<>();
    Map<Chain, Integer> counts = new java.util.EnumMap<>(Chain.class);
    for (Unit unit : units) {
      ChainSender sender = senders.get(unit.chain());
      int cap = sender == null ? Integer.MAX_VALUE : sender.maxUnitsPerRound();
      int count = counts.merge(unit.chain(), 1, Integer::sum);
      current.add(unit);
      if (count >= cap) {
        chunks.add(current);
        current = new ArrayList<>();
        counts.clear();
      }
    }
    if (!current.isEmpty()) {
      chunks.add(current);
    }
    return chunks;
  }

  /**
   * Prepares units in order until one cannot be: its account's lease is elsewhere, its node is
   * unavailable, the pass is out of time, or the node refused it while an earlier unit of the same
   * account in this round holds coins or a nonce (then the refusal may be ours, and is tried again
   * first in a round of its own). A refusal with nothing of the account held is final.
   */
  Prepared prepare(List<Unit> units, Instant deadline) throws InterruptedException {
    return prepare(units, deadline, Set.of());
  }

  /**
   * As above, while units of the accounts in {@code busy} are journaled and in flight: an account
   * among them is prepared for only while its sender still remembers what it signed (else the round
   * stops, to read it again once they are mined), and a refusal for lack of funds is not final
   * while they may hold the coins (the round stops, {@link Stop#HELD}).
   */
  Prepared prepare(List<Unit> units, Instant deadline, Set<String> busy)
      throws InterruptedException {
    List<JournalEntry> toJournal = new ArrayList<>();
    List<JournalEntry> refused = new ArrayList<>();
    Set<String> signed = new HashSet<>();
    Set<String> ids = new HashSet<>();
    preview(units);
    for (Unit unit : units) {
      if (clock.instant().isAfter(deadline)) {
        log.info("round out of time; the rest is read again at once");
        return new Prepared(toJournal, refused, Stop.OUT_OF_TIME);
      }
      String account = Payout.accountKey(unit.chain(), unit.source());
      AccountGuard.Lease lease = guard.acquire(account);
      if (!lease.granted()) {
        log.warn("lease of {} is held elsewhere; its payouts wait", account);
        return new Prepared(toJournal, refused, Stop.WAIT);
      }
      if (lease == AccountGuard.Lease.NEW) {
        if (signed.contains(account)) {
          // Taken anew while this round holds nonces of it: what it knows of them must stay, and
          // what others did meanwhile is learned in a round of its own.
          log.warn("lease of {} was lost and taken anew mid-round; the round stops", account);
          return new Prepared(toJournal, refused, Stop.WAIT);
        }
        forget(unit.chain(), unit.source());
      }
      if (busy.contains(account) && !remembers(unit.chain(), unit.source())) {
        // Forgotten while its units are in flight: read from the chain now, the next nonce could
        // be one of theirs.
        log.info("{} has units in flight and is no longer known here; the round stops", account);
        return new Prepared(toJournal, refused, Stop.WAIT);
      }
      try {
        int before = toJournal.size();
        Stop stop =
            prepareUnit(
                unit, toJournal, ids, refused, signed.contains(account), busy.contains(account));
        if (stop != Stop.NONE) {
          return new Prepared(toJournal, refused, stop);
        }
        if (toJournal.size() > before) {
          signed.add(account);
        }
      } catch (NodeUnavailableException e) {
        log.warn("{} node unavailable, {} waits: {}", unit.chain(), unit.source(), e.getMessage());
        return new Prepared(toJournal, refused, Stop.WAIT);
      }
    }
    return new Prepared(toJournal, refused, Stop.NONE);
  }

  /** Tells each chain's sender the payouts it is about to prepare one per unit. */
  private void preview(List<Unit> units) throws InterruptedException {
    Map<Chain, List<Payout>> singles = new java.util.EnumMap<>(Chain.class);
    for (Unit unit : units) {
      if (unit.reads().size() == 1) {
        singles
            .computeIfAbsent(unit.chain(), c -> new ArrayList<>())
            .add(unit.reads().get(0).payout());
      }
    }
    // Every sender, those with no single payout this round too: what a sender learned in an
    // earlier round must not decide in this one.
    for (Map.Entry<Chain, ChainSender> e : senders.entrySet()) {
      e.getValue().preview(singles.getOrDefault(e.getKey(), List.of()));
    }
  }

  /**
   * Prepares one unit: signed, or refused for good ({@link Stop#NONE}); {@link Stop#WAIT} when a
   * refusal is not final because {@code holding} (an earlier unit of the account in this round
   * holds its coins or nonce), {@link Stop#HELD} when it is for lack of funds while {@code
   * inFlight} (units of earlier rounds not mined yet may hold them).
   */
  private Stop prepareUnit(
      Unit unit,
      List<JournalEntry> toJournal,
      Set<String> ids,
      List<JournalEntry> refused,
      boolean holding,
      boolean inFlight)
      throws NodeUnavailableException, InterruptedException {
    ChainSender sender = senders.get(unit.chain());
    if (sender == null) {
      // Another consumer may have the node; this one waits rather than fail the payouts.
      throw new NodeUnavailableException("no " + unit.chain() + " node is configured here", null);
    }
    List<Payout> payouts = unit.reads().stream().map(Read::payout).toList();
    Preparation preparation = sender.prepare(unit.source(), payouts);
    Instant now = clock.instant();
    if (preparation instanceof Preparation.Signed signed) {
      String unitId = unit.chain() + ":" + signed.txid();
      if (!ids.add(unitId)) {
        // The same bytes twice: a nonce handed out twice. Never journal one unit for two.
        throw new IllegalStateException("transaction " + signed.txid() + " signed twice");
      }
      List<JournalEntry.Item> items = new ArrayList<>();
      for (int i = 0; i < payouts.size(); i++) {
        Integer output = signed.outputIndexes().isEmpty() ? null : signed.outputIndexes().get(i);
        items.add(item(payouts.get(i), output, PayoutStatus.ACCEPTED, null));
      }
      toJournal.add(
          new JournalEntry(
              unitId,
              unit.chain(),
              unit.source(),
              signed.txid(),
              signed.rawTransaction(),
              signed.nonce(),
              JournalEntry.State.PREPARED,
              items,
              now,
              now,
              unit.firstOffset(),
              unit.lastOffset(),
              null,
              null,
              signed.feePerGas(),
              List.of()));
      return Stop.NONE;
    }
    Preparation.Refused refusal = (Preparation.Refused) preparation;
    String reason = refusal.reason();
    if (holding && !refusal.regardless()) {
      log.info(
          "{}:{} refused while this round holds its coins: {}",
          unit.chain(),
          unit.source(),
          reason);
      return Stop.WAIT;
    }
    if (payouts.size() > 1) {
      // One bad output (dust, say) must not fail its neighbours: find it by preparing singly.
      int before = toJournal.size();
      for (Read read : unit.reads()) {
        boolean held = toJournal.size() > before;
        Stop stop =
            prepareUnit(
                new Unit(unit.chain(), unit.source(), List.of(read)),
                toJournal,
                ids,
                refused,
                held,
                inFlight);
        if (stop != Stop.NONE) {
          return stop;
        }
      }
      return Stop.NONE;
    }
    if (inFlight && refusal.funds()) {
      log.info(
          "{}:{} short of funds while its units in flight may hold them: {}",
          unit.chain(),
          unit.source(),
          reason);
      return Stop.HELD;
    }
    refused.add(refusal(payouts.get(0), reason, unit.firstOffset(), unit.lastOffset(), now));
    return Stop.NONE;
  }

  /** A payout refused for good before anything was signed: recorded FAILED with the reason. */
  static JournalEntry refusal(
      Payout p, String reason, long firstOffset, long lastOffset, Instant now) {
    return new JournalEntry(
        p.chain() + ":refused:" + p.resultKey(),
        p.chain(),
        p.source(),
        null,
        null,
        null,
        JournalEntry.State.RECORDED,
        List.of(item(p, null, PayoutStatus.FAILED, reason)),
        now,
        now,
        firstOffset,
        lastOffset);
  }

  private static JournalEntry.Item item(
      Payout p, Integer output, PayoutStatus status, String error) {
    return new JournalEntry.Item(
        p.id(),
        p.batchId(),
        p.clientId(),
        p.to(),
        p.amount(),
        p.acceptedAt(),
        output,
        status,
        error);
  }

  /**
   * When a child may be signed and sent for a followed unit: as for any broadcast, under the
   * account's lease and while no pause may have moved the partitions.
   *
   * @param accountsOf the accounts whose leases go with each partition when it is revoked
   */
  Confirmations.Lifting lifting(
      java.util.function.BooleanSupplier mayBroadcast,
      java.util.function.Function<org.apache.kafka.common.TopicPartition, Set<String>> accountsOf) {
    return new Confirmations.Lifting() {
      @Override
      public boolean take(org.apache.kafka.common.TopicPartition p, JournalEntry unit)
          throws InterruptedException {
        if (!mayBroadcast.getAsBoolean()) {
          return false;
        }
        accountsOf.apply(p).add(unit.accountKey());
        return acquireAll(List.of(unit));
      }

      @Override
      public boolean holds(JournalEntry unit) {
        return mayBroadcast.getAsBoolean() && guard.holds(unit.accountKey());
      }
    };
  }

  /** Takes the leases of the accounts of journaled units before they are broadcast again. */
  boolean acquireAll(List<JournalEntry> units) throws InterruptedException {
    for (JournalEntry unit : units) {
      if (!take(unit.chain(), unit.source())) {
        return false;
      }
    }
    return true;
  }

  /**
   * Takes the account's lease. A lease taken anew means another consumer may have sent for the
   * account meanwhile, so what the sender remembers of it (the next nonce) is dropped.
   */
  private boolean take(Chain chain, String source) throws InterruptedException {
    AccountGuard.Lease lease = guard.acquire(Payout.accountKey(chain, source));
    if (lease == AccountGuard.Lease.NEW) {
      forget(chain, source);
    }
    return lease.granted();
  }

  private boolean remembers(Chain chain, String source) {
    ChainSender sender = senders.get(chain);
    return sender != null && sender.remembers(source);
  }

  /**
   * Tells each chain's sender the partition's units mined and followed to their depth, before its
   * payouts are prepared (see {@link ChainSender#following}).
   */
  void following(List<JournalEntry> followed) {
    Map<Chain, List<JournalEntry>> byChain = new java.util.EnumMap<>(Chain.class);
    for (JournalEntry unit : followed) {
      byChain.computeIfAbsent(unit.chain(), c -> new ArrayList<>()).add(unit);
    }
    senders.forEach((chain, sender) -> sender.following(byChain.getOrDefault(chain, List.of())));
  }

  private void forget(Chain chain, String source) {
    ChainSender sender = senders.get(chain);
    if (sender != null) {
      sender.forget(source);
    }
  }

  /**
   * Broadcasts journaled units in order and settles each from the chain. A unit not mined yet stays
   * journaled, and the account's later units are still sent: they queue behind it by nonce and are
   * mined with it. Once the node cannot be reached, or the account's lease is in doubt, nothing
   * more is sent in this round, but for the few sends a sender started ahead of their turn: their
   * bytes are journaled, and sending them early pays nothing twice.
   */
  Broadcast broadcast(
      List<JournalEntry> units, java.util.function.BooleanSupplier mayBroadcast, Instant deadline)
      throws InterruptedException {
    List<JournalEntry> settled = new ArrayList<>();
    List<JournalEntry> unsettled = new ArrayList<>();
    List<JournalEntry> replaced = new ArrayList<>();
    Ended ended;
    // Each chain's sender may start some of its units' sends ahead of their turn; every one has an
    // answer before the round ends.
    List<ChainSender.Round> rounds = new ArrayList<>();
    try {
      for (Map.Entry<Chain, ChainSender> e : senders.entrySet()) {
        List<JournalEntry> ofChain = units.stream().filter(u -> u.chain() == e.getKey()).toList();
        if (!ofChain.isEmpty()) {
          rounds.add(e.getValue().broadcasting(ofChain));
        }
      }
      ended = broadcastEach(units, mayBroadcast, deadline, settled, unsettled, replaced);
    } finally {
      for (ChainSender.Round round : rounds) {
        round.close();
      }
    }
    return new Broadcast(
        settled, unsettled, ended.stop(), replaced, ended.inFlight() && ended.stop() == Stop.NONE);
  }

  private record Ended(Stop stop, boolean inFlight) {}

  private Ended broadcastEach(
      List<JournalEntry> units,
      java.util.function.BooleanSupplier mayBroadcast,
      Instant deadline,
      List<JournalEntry> settled,
      List<JournalEntry> unsettled,
      List<JournalEntry> replaced)
      throws InterruptedException {
    Stop stop = Stop.NONE;
    boolean inFlight = true;
    for (JournalEntry unit : units) {
      if (stop == Stop.NONE && clock.instant().isAfter(deadline)) {
        // Left journaled, settled first thing in the next pass.
        stop = Stop.OUT_OF_TIME;
      }
      ChainSender sender = senders.get(unit.chain());
      if (stop == Stop.NONE
          && (sender == null || !mayBroadcast.getAsBoolean() || !guard.holds(unit.accountKey()))) {
        // Left journaled: whoever owns the account next broadcasts these same bytes.
        stop = Stop.WAIT;
      }
      if (stop != Stop.NONE) {
        unsettled.add(unit);
        forget(unit.chain(), unit.source());
        continue;
      }
      SendOutcome outcome;
      log.debug("broadcasting {} ({} payouts)", unit.unitId(), unit.payouts().size());
      try {
        outcome = sender.broadcast(unit);
      } catch (NodeUnavailableException e) {
        log.warn("unit {} waits for its node: {}", unit.unitId(), e.getMessage());
        stop = Stop.WAIT;
        unsettled.add(unit);
        forget(unit.chain(), unit.source());
        continue;
      }
      if (outcome.inFlight()) {
        // Just sent here: its account stays known, so that new work signs above its nonce.
        unsettled.add(unit);
        continue;
      }
      if (outcome.waits()) {
        inFlight = false;
        if (outcome.pending()) {
          log.info("unit {} is not settled yet: {}", unit.unitId(), outcome.error());
        } else {
          // Sent and waiting for a block, the usual state of many units at once.
          log.debug("unit {} is not settled yet: {}", unit.unitId(), outcome.error());
        }
        unsettled.add(unit);
        if (outcome.pending() && bumps.due(unit)) {
          JournalEntry again = replacement(sender, unit);
          if (again != null) {
            replaced.add(again);
          }
        }
        forget(unit.chain(), unit.source());
        continue;
      }
      bumps.settled(unit);
      if (outcome.txid() != null) {
        // Settled by the transaction the chain holds, which may be one the current replaced.
        unit = unit.withCurrent(outcome.txid());
      }
      if (outcome.replan()) {
        log.warn(
            "unit {} can never be mined ({}); its payouts are prepared anew",
            unit.unitId(),
            outcome.error());
        settled.add(unit.withState(JournalEntry.State.ABANDONED, unit.payouts(), clock.instant()));
        forget(unit.chain(), unit.source());
        continue;
      }
      if (outcome.status() != PayoutStatus.BROADCAST) {
        log.warn(
            "unit {} ({} payouts): {} ({})",
            unit.unitId(),
            unit.payouts().size(),
            outcome.status(),
            outcome.error());
      }
      List<JournalEntry.Item> items =
          unit.payouts().stream()
              .map(i -> i.withOutcome(outcome.status(), outcome.error()))
              .toList();
      Instant now = clock.instant();
      // Held by the chain, or reverted in a block (a FAILED outcome naming its transaction): either
      // can still be undone by a reorg, so it is followed to its depth with its bytes kept.
      // UNKNOWN is left to an operator as before.
      boolean follow =
          followed.test(unit.chain())
              && (outcome.status() == PayoutStatus.BROADCAST
                  || (outcome.status() == PayoutStatus.FAILED && outcome.txid() != null));
      if (follow) {
        BlockRef block = outcome.block();
        settled.add(
            unit.withState(JournalEntry.State.CONFIRMING, items, now)
                .inBlock(
                    block == null ? null : block.hash(),
                    block == null ? null : block.height(),
                    now));
      } else {
        settled.add(unit.withState(JournalEntry.State.RECORDED, items, now));
      }
    }
    return new Ended(stop, inFlight);
  }

  /**
   * The unit with its stuck transaction signed again at a higher fee, or null when it stays as it
   * is (at the ceiling, or the node cannot sign now). Only the signing happens here: the new bytes
   * are journaled before anything sends them, and the unit keeps every earlier transaction, so that
   * whichever is mined settles it.
   */
  private JournalEntry replacement(ChainSender sender, JournalEntry unit)
      throws InterruptedException {
    Replacement r;
    try {
      r = sender.replace(unit);
    } catch (NodeUnavailableException e) {
      log.warn("unit {} is not replaced now: {}", unit.unitId(), e.getMessage());
      return null;
    }
    if (r instanceof Replacement.Signed signed) {
      log.warn(
          "unit {}: {} not mined since {}; replaced by {} at {} wei per gas",
          unit.unitId(),
          unit.txid(),
          unit.updatedAt(),
          signed.txid(),
          signed.feePerGas());
      bumps.bumped(unit);
      return unit.replacedBy(
          signed.txid(), signed.rawTransaction(), signed.feePerGas(), clock.instant());
    }
    if (r instanceof Replacement.AtCeiling ceiling) {
      bumps.atCeiling(unit);
      log.warn(
          "unit {}: {} not mined and its fee, {} wei per gas, is at the ceiling: it waits",
          unit.unitId(),
          unit.txid(),
          ceiling.feePerGas());
      return null;
    }
    log.info("unit {} is not replaced now: {}", unit.unitId(), r);
    return null;
  }
}
