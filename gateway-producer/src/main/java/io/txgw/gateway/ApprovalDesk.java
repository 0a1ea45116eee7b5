package io.txgw.gateway;

import io.txgw.common.model.Amount;
import io.txgw.common.model.BatchRecord;
import io.txgw.common.model.Payout;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.BatchValidator;
import io.txgw.common.validation.ValidatedBatch;
import io.txgw.common.validation.Violation;
import io.txgw.gateway.approval.ApprovalBook;
import io.txgw.gateway.approval.ApprovalRecord;
import io.txgw.gateway.approval.ApprovalState;
import io.txgw.gateway.kafka.BatchWriteException;
import io.txgw.gateway.kafka.BatchWriter;
import java.io.Closeable;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.Producer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Four eyes on large batches: a batch whose total is above its client's threshold ({@code
 * approveAbove}) is held on the approvals topic, and nothing of it reaches {@code sendto} until
 * another person of the same client approves exactly that content; a rejection, or its expiry, ends
 * it unpaid.
 *
 * <p>Every decision is first written to the approvals topic and counts only if it is the first on
 * the hold it names (see {@link ApprovalBook}): an approval, a rejection and an expiry at once on
 * several gateways end with exactly one of them, and the batch is written only after an approval
 * that counted. The write follows the decision: a gateway that stops in between leaves the batch
 * approved and unwritten, and every gateway's sweep writes such batches (a second write of one
 * batch is answered as a re-post, by its batch id, and consumers recognise a second copy of a
 * payout).
 */
public final class ApprovalDesk implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(ApprovalDesk.class);
  private static final Duration WRITE_WITHIN = Duration.ofSeconds(60);

  /** Batches one client may hold in any 24 hours: bounds what a client can put on the topic. */
  public static final int MAX_HOLDS_PER_DAY = ApprovalBook.MAX_HOLDS_PER_DAY;

  /** The outcome of an approval or a rejection. */
  public sealed interface Decision {
    /**
     * It counted (or had counted before, for a repeated call). {@code written} is the approved
     * batch's write; null for a rejection.
     */
    record Done(ApprovalState state, SubmitOutcome written) implements Decision {}

    /** Not done, with the HTTP status and problem type that say why. */
    record Refused(int status, String type, String detail) implements Decision {}

    /** The batch breaks the rules or the client's policy as they are now; not written. */
    record Invalid(List<Violation> violations) implements Decision {}
  }

  private final BatchService service;
  private final ApprovalBook book;
  private final Clock clock;
  private final Duration wait;
  private final int maxPending;

  /** A fencing transactional producer for an id ({@link BatchWriter#fencing}). */
  private final java.util.function.Function<String, Producer<String, byte[]>> fencing;

  /**
   * How long a write claim of this gateway holds (carried in its records): above the longest a
   * write can take to be decided.
   */
  private volatile Duration lease = ApprovalBook.WRITE_LEASE;

  /**
   * Runs the blocking approval work (reading held content back, deciding, writing): a few threads
   * of its own, so that approvals never take the threads other requests need.
   */
  private final ThreadPoolExecutor work =
      new ThreadPoolExecutor(
          2,
          2,
          0,
          TimeUnit.SECONDS,
          new ArrayBlockingQueue<>(32),
          task -> {
            Thread t = new Thread(task, "approvals-work");
            t.setDaemon(true);
            return t;
          });

  private final ScheduledExecutorService sweeper =
      Executors.newSingleThreadScheduledExecutor(
          task -> {
            Thread t = new Thread(task, "approvals-sweep");
            t.setDaemon(true);
            return t;
          });

  /** Where decisions made without a caller (expiries, writes taken over) are audited. */
  private volatile java.util.function.Consumer<Map<String, Object>> audit;

  private volatile java.util.function.Function<ApprovalState, Map<String, Object>> auditFields;

  /**
   * @param wait how long a held batch may wait for a decision
   * @param maxPending batches one client may have waiting at once
   */
  public ApprovalDesk(
      BatchService service,
      ApprovalBook book,
      java.util.function.Function<String, Producer<String, byte[]>> fencing,
      Clock clock,
      Duration wait,
      int maxPending) {
    this.fencing = fencing;
    if (wait.compareTo(ApprovalBook.KEEP.dividedBy(2)) > 0) {
      throw new IllegalArgumentException(
          "a batch may wait at most half as long as held batches are remembered");
    }
    this.service = service;
    this.book = book;
    this.clock = clock;
    this.wait = wait;
    this.maxPending = maxPending;
  }

  /**
   * Starts the sweep, every {@code every}: overdue holds expired, approved batches not written
   * written (an approval is left to its own caller's write for three sweeps).
   */
  public ApprovalDesk start(Duration every, Duration writeLease) {
    this.lease = writeLease;
    sweeper.scheduleWithFixedDelay(
        this::sweepSafely, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  /**
   * Audits what the desk decides on its own: expiries, writes and refused writes.
   *
   * @param fields what an audit line says of a held batch
   */
  public ApprovalDesk auditTo(
      java.util.function.Consumer<Map<String, Object>> sink,
      java.util.function.Function<ApprovalState, Map<String, Object>> fields) {
    this.auditFields = fields;
    this.audit = sink;
    return this;
  }

  public boolean isReady() {
    return service.isReady() && book.isCaughtUp();
  }

  /** Holds and decisions go by the approvals topic as read: not while it is not read. */
  public boolean decides() {
    return book.isCaughtUp();
  }

  /**
   * Runs blocking approval work on the desk's own threads.
   *
   * @throws RejectedExecutionException when they are all busy and enough work waits
   */
  public <T> CompletableFuture<T> run(Callable<T> task) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return task.call();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompletionException(e);
          } catch (Exception e) {
            throw e instanceof RuntimeException r ? r : new CompletionException(e);
          }
        },
        work);
  }

  /**
   * Accepts a batch as {@link BatchService#submit} does, or holds it when its total needs approval.
   * A batch id held earlier is answered from its hold: the same content as held (or written, once
   * approved), other content a conflict.
   */
  public CompletableFuture<SubmitOutcome> submit(
      ApiKeys.Caller caller, BatchSubmission submission) {
    String client = caller.client();
    ValidatedBatch validated = service.validate(client, submission);
    if (!validated.valid()) {
      return done(new SubmitOutcome.Rejected(validated.violations()));
    }
    List<Payout> payouts = validated.payouts();
    String batchId = payouts.get(0).batchId();
    Optional<ApprovalState> held = book.state(client, batchId);
    if (held.isPresent()) {
      return againstHeld(held.get(), validated);
    }
    Optional<Amount> threshold = service.approvalThreshold(client, payouts);
    // A batch written already (approved, and its hold since forgotten) is answered by its write.
    if (threshold.isEmpty() || service.written(client, batchId).isPresent()) {
      return service.write(client, validated);
    }
    if (caller.person() == null) {
      return refuse(
          "the batch pays "
              + describeTotal(payouts)
              + ", above this client's approval threshold of "
              + threshold.get()
              + ": it waits for another person's approval, so it must be posted with a key that"
              + " names its person");
    }
    Optional<String> shortfall = service.dailyShortfall(client, payouts);
    if (shortfall.isPresent()) {
      return refuse(shortfall.get());
    }
    Instant now = clock.instant();
    if (book.pendingCount(client) >= maxPending
        || book.holdsInDayBefore(client, now) >= MAX_HOLDS_PER_DAY) {
      return done(new SubmitOutcome.ApprovalsFull(maxPending, MAX_HOLDS_PER_DAY));
    }
    Payout first = payouts.get(0);
    ApprovalRecord hold =
        new ApprovalRecord(
            ApprovalRecord.Kind.HOLD,
            UUID.randomUUID().toString(),
            client,
            batchId,
            now,
            caller.person(),
            caller.keyId(),
            null,
            null,
            validated.fingerprint(),
            first.chain().name(),
            first.source(),
            payouts.size(),
            totals(payouts),
            now.plus(wait),
            submission,
            null,
            null);
    return book.propose(hold)
        .handleAsync(
            (after, error) -> {
              if (error != null) {
                Throwable cause = error instanceof CompletionException ? error.getCause() : error;
                if (cause instanceof ApprovalBook.ProposalNotWrittenException refused
                    && refused.tooLarge()) {
                  return refuse(refused.getMessage());
                }
                return CompletableFuture.<SubmitOutcome>failedFuture(
                    cause instanceof ApprovalBook.ProposalNotWrittenException
                        ? cause
                        : new DecisionNotConfirmedException(cause));
              }
              if (after.isEmpty()) {
                // Others of the client's batches were held first, up to the fold's count.
                return done(new SubmitOutcome.ApprovalsFull(maxPending, MAX_HOLDS_PER_DAY));
              }
              ApprovalState state = after.get();
              if (state.holdProposal().equals(hold.proposal()) && state.pending()) {
                log.info(
                    "batch {}/{} held for approval, posted by {}",
                    client,
                    batchId,
                    caller.person());
                return done(new SubmitOutcome.Held(state, false));
              }
              return againstHeld(state, validated);
            })
        .thenCompose(outcome -> outcome);
  }

  /** A post of a batch id that is held, or was. */
  private CompletableFuture<SubmitOutcome> againstHeld(ApprovalState state, ValidatedBatch posted) {
    if (!state.fingerprint().equals(posted.fingerprint())) {
      return done(new SubmitOutcome.HeldConflict(state));
    }
    if (state.status() == ApprovalState.Status.APPROVED
        && service
            .written(state.clientId(), state.batchId())
            .filter(b -> b.fingerprint().equals(state.fingerprint()))
            .isPresent()) {
      // Approved and written with this content: answered as a re-post, nothing written.
      return service.write(state.clientId(), posted);
    }
    // Pending, or decided: an approved batch is written by the holder of its write claim only.
    return done(new SubmitOutcome.Held(state, true));
  }

  /**
   * Approves a held batch for {@code caller}, another person of its client than the poster, and
   * writes it. Blocking: call it through {@link #run}.
   *
   * @param content the content digest ({@code contentSha256}) the approver looked at: an approval
   *     is of that content only
   */
  public Decision approve(ApiKeys.Caller caller, String batchId, String content)
      throws InterruptedException {
    Optional<ApprovalState> found = heldState(caller.client(), batchId);
    if (found.isEmpty()) {
      return notHeld(caller.client(), batchId);
    }
    ApprovalState state = found.get();
    if (state.status() == ApprovalState.Status.APPROVED) {
      return approvedAlready(state);
    }
    if (!state.pending()) {
      return settled(state);
    }
    if (caller.person() == null
        || caller.person().equalsIgnoreCase(state.postedBy())
        || caller.keyId().equals(state.postedKey())) {
      return new Decision.Refused(
          403,
          "approval-by-poster",
          "batch "
              + batchId
              + " was posted by "
              + state.postedBy()
              + "; another person of the client approves it");
    }
    if (content == null) {
      return new Decision.Refused(
          400,
          "content-missing",
          "name the content approved: contentSha256 as GET /v1/approvals/" + batchId + " shows it");
    }
    if (!content.equals(state.fingerprint())) {
      return new Decision.Refused(
          409,
          "content-mismatch",
          "batch "
              + batchId
              + " holds content "
              + state.fingerprint()
              + ", not "
              + content
              + ": an approval is of the content looked at");
    }
    if (state.overdue(clock.instant())) {
      return settled(expire(state));
    }
    // Checked before the approval is written: one that the rules or the daily maximum would
    // refuse now is not given, and the batch stays pending.
    ValidatedBatch validated = revalidate(state);
    if (!validated.valid()) {
      return new Decision.Invalid(validated.violations());
    }
    Optional<String> shortfall = service.dailyShortfall(state.clientId(), validated.payouts());
    if (shortfall.isPresent()) {
      return new Decision.Invalid(List.of(Violation.ofBatch("payouts", shortfall.get())));
    }
    ApprovalRecord approval =
        ApprovalRecord.decision(
                ApprovalRecord.Kind.APPROVE,
                UUID.randomUUID().toString(),
                state,
                clock.instant(),
                caller.person(),
                caller.keyId(),
                null)
            .withLease(lease);
    ApprovalState after = propose(approval).orElse(state);
    if (after.status() != ApprovalState.Status.APPROVED
        || !after.holdProposal().equals(state.holdProposal())) {
      return settled(after);
    }
    if (!approval.proposal().equals(after.decisionProposal())) {
      // Another approver's counted first: its gateway writes the batch.
      return approvedAlready(after);
    }
    log.info(
        "batch {}/{} approved by {} (posted by {})",
        state.clientId(),
        batchId,
        after.decidedBy(),
        state.postedBy());
    return writeUnderClaim(after, validated, approval.proposal());
  }

  /**
   * An approved batch asked about again: written (answered as a re-post), refused for good, or
   * being written by the holder of its claim, or taken over when that claim has lapsed.
   */
  private Decision approvedAlready(ApprovalState state) throws InterruptedException {
    Optional<Decision> known = writtenOrRefused(state);
    if (known.isPresent()) {
      return known.get();
    }
    if (clock.instant().isBefore(state.write().lapsesAt())) {
      return new Decision.Refused(
          503,
          "write-under-way",
          "batch " + state.batchId() + " is approved and being written; its status shows when");
    }
    return takeOver(state);
  }

  /** The answer for an approved batch whose write has ended, if it has. */
  private Optional<Decision> writtenOrRefused(ApprovalState state) {
    Optional<BatchRecord> written = service.written(state.clientId(), state.batchId());
    if (written.isPresent() && written.get().fingerprint().equals(state.fingerprint())) {
      return Optional.of(new Decision.Done(state, new SubmitOutcome.Accepted(written.get(), true)));
    }
    ApprovalState.Write w = state.write();
    if (w != null && w.outcome() == ApprovalState.Outcome.REFUSED) {
      return Optional.of(
          new Decision.Refused(
              409,
              "approved-not-written",
              "batch "
                  + state.batchId()
                  + " was approved and its write refused ("
                  + w.reason()
                  + "); nothing of it was written, nor will be: post it again under a new"
                  + " batchId"));
    }
    return Optional.empty();
  }

  /**
   * Claims the write of an approved batch whose claim has lapsed, and writes it if the claim
   * counts.
   */
  private Decision takeOver(ApprovalState state) throws InterruptedException {
    ApprovalRecord claim =
        ApprovalRecord.write(
                ApprovalRecord.Kind.CLAIM,
                UUID.randomUUID().toString(),
                state,
                clock.instant(),
                null,
                null)
            .withLease(lease);
    ApprovalState after = propose(claim).orElse(state);
    if (after.write() == null || !claim.proposal().equals(after.write().claim())) {
      return writtenOrRefused(after)
          .orElse(
              new Decision.Refused(
                  503,
                  "write-under-way",
                  "batch " + state.batchId() + " is approved and being written"));
    }
    return writeUnderClaim(after, null, claim.proposal());
  }

  /**
   * Writes an approved batch under a claim that counted, fenced: the producer is initialized under
   * the batch's own transactional id first, which ends whatever an earlier claim's write had open
   * (committed if its commit was asked for, aborted otherwise) and stops it writing any more. Then
   * the view, read to now, shows whether an earlier claim wrote it; if not, the batch is written
   * (revalidated when {@code validated} is null) and the outcome recorded: WRITTEN, or REFUSED when
   * it was refused for good. A write whose outcome is unknown records nothing: the claim lapses and
   * a later one finds out.
   */
  private Decision writeUnderClaim(ApprovalState state, ValidatedBatch validated, String claim)
      throws InterruptedException {
    String id = transactionalId(state);
    // Cheap, before anything is fenced: a claim already taken over is not this one's to write.
    Optional<ApprovalState> before = book.state(state.clientId(), state.batchId());
    if (before.isEmpty() || !stillMine(before.get(), claim)) {
      return before.flatMap(this::writtenOrRefused).orElse(underWay(state));
    }
    Producer<String, byte[]> producer;
    try {
      producer = fencing.apply(id);
    } catch (RuntimeException e) {
      // Kafka not reached: nothing written by this claim; it lapses, and a later one writes.
      log.warn("batch {}: its write's producer did not start: {}", state.batchId(), e.toString());
      throw new WriteNotConfirmedException();
    }
    try {
      // A later claim's record is on the topic before its claimer initializes its producer: not
      // seen now, that claimer initializes after this one, and fences it before it reads. Seen,
      // this one stops (whichever producer came up first).
      Optional<ApprovalState> now;
      try {
        now = book.stateAsOfNow(state.clientId(), state.batchId());
      } catch (RuntimeException e) {
        throw new DecisionNotConfirmedException(e);
      }
      if (now.isEmpty()) {
        // Forgotten (held too long ago): not this claim's to write any more.
        return underWay(state);
      }
      if (!stillMine(now.get(), claim)) {
        return writtenOrRefused(now.get()).orElse(underWay(state));
      }
      Optional<BatchRecord> earlier = writtenAsOfNow(state);
      if (earlier.isPresent()) {
        return earlier.get().fingerprint().equals(state.fingerprint())
            ? written(state, claim, earlier.get())
            : refuseWrite(state, claim, "the batch id was accepted with other content");
      }
      if (validated == null) {
        if (clock.instant().isAfter(state.decidedAt().plus(wait))) {
          return refuseWrite(state, claim, "not written within " + wait + " of its approval");
        }
        try {
          validated = revalidate(state);
        } catch (ContentChangedException e) {
          return refuseWrite(state, claim, e.getMessage());
        } catch (ApprovalBook.HeldContentUnavailableException e) {
          if (!e.gone()) {
            throw e;
          }
          return refuseWrite(state, claim, "its held content is no longer kept");
        }
        if (!validated.valid()) {
          return refuseWrite(
              state, claim, "it breaks the rules or its client's policy as they are now");
        }
      }
      SubmitOutcome outcome;
      try {
        outcome =
            service
                .write(
                    state.clientId(),
                    validated,
                    new BatchWriter.Fenced(
                        producer, () -> fencing.apply(id).close(Duration.ofSeconds(5))))
                .get(WRITE_WITHIN.toSeconds(), TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof BatchService.BatchNotWrittenException notWritten
            && notWritten.getCause() instanceof BatchWriteException tooLarge
            && tooLarge.reason() == BatchWriteException.Reason.TOO_LARGE) {
          return refuseWrite(state, claim, "a record of it is larger than Kafka takes");
        }
        throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e);
      } catch (TimeoutException e) {
        throw new WriteNotConfirmedException();
      }
      if (outcome instanceof SubmitOutcome.Accepted accepted) {
        return written(state, claim, accepted.batch());
      }
      String why = refusedForGood(outcome);
      if (why == null) {
        // Held back for now (ids in doubt, a bound): the claim lapses, and a later one writes it.
        return new Decision.Done(state, outcome);
      }
      return refuseWrite(state, claim, why);
    } finally {
      // Bounded: whatever it left open, the next claim's producer ends.
      producer.close(Duration.ofSeconds(5));
    }
  }

  private static boolean stillMine(ApprovalState s, String claim) {
    return s.writeOpen() && claim.equals(s.write().claim());
  }

  private static Decision underWay(ApprovalState state) {
    return new Decision.Refused(
        503, "write-under-way", "batch " + state.batchId() + " is approved and being written");
  }

  private Optional<BatchRecord> writtenAsOfNow(ApprovalState state) throws InterruptedException {
    try {
      return service.writtenAsOfNow(state.clientId(), state.batchId(), Duration.ofSeconds(30));
    } catch (TimeoutException e) {
      throw new WriteNotConfirmedException();
    }
  }

  /** The approved batch is written: recorded (a courtesy: the view shows it too) and answered. */
  private Decision written(ApprovalState state, String claim, BatchRecord batch)
      throws InterruptedException {
    try {
      propose(
          ApprovalRecord.write(
              ApprovalRecord.Kind.WRITTEN,
              UUID.randomUUID().toString(),
              state,
              clock.instant(),
              claim,
              null));
      audit("WRITTEN", state, null);
    } catch (RuntimeException e) {
      log.warn(
          "batch {}/{}: WRITTEN not recorded: {}", state.clientId(), state.batchId(), e.toString());
    }
    return new Decision.Done(state, new SubmitOutcome.Accepted(batch, false));
  }

  /**
   * Records that the approved batch will never be written, and says so only once that record has
   * counted: the caller holds the current claim, its producer has fenced every earlier writer, and
   * the view read to now does not show the batch. Otherwise (a claim taken over meanwhile, the
   * record not confirmed) the answer is that its status will tell.
   */
  private Decision refuseWrite(ApprovalState state, String claim, String why)
      throws InterruptedException {
    ApprovalState after =
        propose(
                ApprovalRecord.write(
                    ApprovalRecord.Kind.REFUSED,
                    UUID.randomUUID().toString(),
                    state,
                    clock.instant(),
                    claim,
                    why))
            .orElse(state);
    ApprovalState.Write w = after.write();
    if (w != null && w.outcome() == ApprovalState.Outcome.REFUSED && claim.equals(w.claim())) {
      audit("NOT_WRITTEN", after, why);
      log.warn(
          "batch {}/{} approved, its write refused: {}", state.clientId(), state.batchId(), why);
      return new Decision.Refused(
          why.startsWith("it breaks the rules") ? 422 : 409,
          "approved-not-written",
          "batch "
              + state.batchId()
              + " was approved by "
              + state.decidedBy()
              + " and its write refused: "
              + why
              + "; nothing of it was written, nor will be: post it again under a new batchId"
              + " (with the same payout ids, so that nothing can be paid twice)");
    }
    Optional<Decision> known = writtenOrRefused(after);
    if (known.isPresent()) {
      return known.get();
    }
    throw new DecisionNotConfirmedException(
        new IllegalStateException("the refusal of the approved batch's write did not count"));
  }

  /** Why a write's outcome means it never will be written, or null when it may yet be. */
  private static String refusedForGood(SubmitOutcome outcome) {
    if (outcome instanceof SubmitOutcome.Rejected rejected) {
      return "it breaks the rules or its client's policy as they are now: "
          + String.join(
              "; ", rejected.violations().stream().limit(3).map(Violation::reason).toList());
    }
    if (outcome instanceof SubmitOutcome.PayoutIdsTaken taken) {
      return taken.conflicts().size() + " payout id(s) were accepted meanwhile in other batches";
    }
    if (outcome instanceof SubmitOutcome.Conflict conflict && !conflict.unconfirmed()) {
      return "the batch id was accepted with other content";
    }
    return null;
  }

  /**
   * The transactional id every write of one approved batch uses, on whichever gateway: the next
   * claim's producer fences the last one's. Under a prefix of their own, which the gateway's Kafka
   * ACLs grant.
   */
  static String transactionalId(ApprovalState state) {
    try {
      byte[] digest =
          java.security.MessageDigest.getInstance("SHA-256")
              .digest(
                  (state.clientId() + "/" + state.batchId() + "/" + state.holdProposal())
                      .getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return io.txgw.common.kafka.KafkaAcls.APPROVAL_TRANSACTIONS
          + java.util.HexFormat.of().formatHex(digest, 0, 16);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java runtime", e);
    }
  }

  /**
   * Rejects a held batch; nothing of it is written, ever. Blocking: call it through {@link #run}.
   */
  public Decision reject(ApiKeys.Caller caller, String batchId, String reason)
      throws InterruptedException {
    Optional<ApprovalState> found = heldState(caller.client(), batchId);
    if (found.isEmpty()) {
      return notHeld(caller.client(), batchId);
    }
    ApprovalState state = found.get();
    if (state.pending()) {
      state =
          state.overdue(clock.instant())
              ? expire(state)
              : propose(
                      ApprovalRecord.decision(
                          ApprovalRecord.Kind.REJECT,
                          UUID.randomUUID().toString(),
                          state,
                          clock.instant(),
                          caller.person(),
                          caller.keyId(),
                          reason))
                  .orElse(state);
    }
    if (state.status() == ApprovalState.Status.REJECTED) {
      log.info("batch {}/{} rejected by {}", state.clientId(), batchId, state.decidedBy());
      return new Decision.Done(state, null);
    }
    return settled(state);
  }

  private Optional<ApprovalState> heldState(String client, String batchId) {
    return BatchValidator.isValidId(batchId) ? book.state(client, batchId) : Optional.empty();
  }

  /** Not held here: never held (or forgotten), or written without approval. */
  private Decision notHeld(String client, String batchId) {
    if (BatchValidator.isValidId(batchId) && service.written(client, batchId).isPresent()) {
      return new Decision.Refused(
          409, "not-held", "batch " + batchId + " was accepted; it waits for no approval");
    }
    // Another client's batch is answered like a missing one, so ids do not leak.
    return new Decision.Refused(404, "batch-not-found", "no batch " + batchId + " is held");
  }

  private Decision settled(ApprovalState state) {
    return switch (state.status()) {
      case APPROVED ->
          new Decision.Refused(
              409,
              "batch-approved",
              "batch " + state.batchId() + " was approved by " + state.decidedBy());
      case REJECTED ->
          new Decision.Refused(
              409,
              "batch-rejected",
              "batch "
                  + state.batchId()
                  + " was rejected by "
                  + state.decidedBy()
                  + " at "
                  + state.decidedAt());
      case EXPIRED ->
          new Decision.Refused(
              409,
              "approval-expired",
              "batch " + state.batchId() + " waited for approval until " + state.expiresAt());
      case PENDING_APPROVAL ->
          new Decision.Refused(
              409, "not-decided", "batch " + state.batchId() + " is still waiting; try again");
    };
  }

  /** The held content, validated as the rules and the client's policy are now. */
  private ValidatedBatch revalidate(ApprovalState state) {
    ApprovalRecord hold = book.held(state);
    ValidatedBatch validated = service.validate(state.clientId(), hold.submission());
    if (validated.valid() && !validated.fingerprint().equals(state.fingerprint())) {
      // The rules read it otherwise than when it was held (another release): not what was
      // approved.
      throw new ContentChangedException(
          "the held content no longer reads as the content approved (" + state.fingerprint() + ")");
    }
    return validated;
  }

  /** Proposes a record; the batch's state once it is read back, whoever's record counted. */
  private Optional<ApprovalState> propose(ApprovalRecord record) throws InterruptedException {
    try {
      return book.propose(record).get();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof ApprovalBook.ProposalNotWrittenException refused
          ? refused
          : new DecisionNotConfirmedException(e.getCause());
    }
  }

  private ApprovalState expire(ApprovalState state) throws InterruptedException {
    ApprovalState after =
        propose(
                ApprovalRecord.decision(
                    ApprovalRecord.Kind.EXPIRE,
                    UUID.randomUUID().toString(),
                    state,
                    clock.instant(),
                    null,
                    null,
                    null))
            .orElse(state);
    if (after.status() == ApprovalState.Status.EXPIRED) {
      audit("EXPIRED", after, null);
    }
    return after;
  }

  private void sweepSafely() {
    try {
      sweep();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      log.warn("approvals sweep: {}", e.toString());
    }
  }

  /**
   * Expires overdue holds and takes over the writes of approved batches whose claim has lapsed
   * without an outcome (a gateway stopped between approval and write, or its write is in doubt).
   * Every gateway sweeps: of its records only the first that may count does.
   */
  void sweep() throws InterruptedException {
    if (!isReady()) {
      return;
    }
    int open = 0;
    for (ApprovalState s : book.open()) {
      Instant now = clock.instant();
      try {
        if (s.overdue(now)) {
          expire(s);
        } else if (s.writeOpen()) {
          open++;
          // The log's time against this clock: a little late rather than early.
          if (now.isAfter(s.write().lapsesAt().plus(s.write().lease().dividedBy(6)))) {
            Decision d = writtenOrRefused(s).isPresent() ? null : takeOver(s);
            if (d != null) {
              log.info("batch {}/{}: write taken over: {}", s.clientId(), s.batchId(), describe(d));
            }
          }
        }
      } catch (RuntimeException e) {
        log.warn("approvals sweep, batch {}/{}: {}", s.clientId(), s.batchId(), e.toString());
      }
    }
    openWrites = open;
  }

  private volatile int openWrites;

  /** Approved batches whose write has no outcome yet, as of the last sweep: for an alert. */
  public int openWrites() {
    return openWrites;
  }

  private static String describe(Decision d) {
    return d instanceof Decision.Done done && done.written() != null
        ? done.written().getClass().getSimpleName()
        : d.getClass().getSimpleName();
  }

  private void audit(String event, ApprovalState state, String reason) {
    if (audit == null) {
      return;
    }
    Map<String, Object> entry = new LinkedHashMap<>();
    entry.put("event", event);
    entry.put("client", state.clientId());
    entry.put("by", "gateway");
    if (reason != null) {
      entry.put("reason", reason);
    }
    entry.putAll(auditFields.apply(state));
    audit.accept(entry);
  }

  public Optional<ApprovalState> state(String client, String batchId) {
    return book.state(client, batchId);
  }

  /** The client's batches waiting for approval, the oldest first. */
  public List<ApprovalState> pending(String client) {
    return book.pending(client);
  }

  /** The batch as held, its payouts read back from the approvals topic. Blocking. */
  public BatchSubmission content(ApprovalState state) {
    return book.held(state).submission();
  }

  /** A held batch as answered to clients. */
  public Map<String, Object> describe(ApprovalState s) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("batchId", s.batchId());
    body.put("status", s.status());
    body.put("chain", s.chain());
    body.put("source", s.source());
    body.put("payouts", s.payouts());
    body.put("totals", s.totals());
    body.put("contentSha256", s.fingerprint());
    body.put("postedBy", s.postedBy());
    body.put("postedAt", s.postedAt());
    body.put("expiresAt", s.expiresAt());
    if (s.decidedAt() != null) {
      if (s.decidedBy() != null) {
        body.put("decidedBy", s.decidedBy());
      }
      body.put("decidedAt", s.decidedAt());
    }
    if (s.reason() != null) {
      body.put("reason", s.reason());
    }
    if (s.status() == ApprovalState.Status.APPROVED) {
      boolean written =
          service
              .written(s.clientId(), s.batchId())
              .filter(b -> b.fingerprint().equals(s.fingerprint()))
              .isPresent();
      Map<String, Object> write = new LinkedHashMap<>();
      ApprovalState.Write w = s.write();
      write.put(
          "state",
          written
              ? "WRITTEN"
              : w != null && w.outcome() == ApprovalState.Outcome.REFUSED
                  ? "REFUSED"
                  : "UNDER_WAY");
      if (!written && w != null && w.reason() != null) {
        write.put("reason", w.reason());
      }
      body.put("write", write);
    }
    return body;
  }

  private static Map<String, String> totals(List<Payout> payouts) {
    Map<String, Amount> sums = new TreeMap<>();
    for (Payout p : payouts) {
      sums.merge(p.asset().symbol(), p.amount(), Amount::plus);
    }
    Map<String, String> out = new TreeMap<>();
    sums.forEach((asset, sum) -> out.put(asset, sum.toString()));
    return out;
  }

  private static String describeTotal(List<Payout> payouts) {
    return String.join(
        ", ",
        totals(payouts).entrySet().stream().map(e -> e.getValue() + " " + e.getKey()).toList());
  }

  private static CompletableFuture<SubmitOutcome> done(SubmitOutcome outcome) {
    return CompletableFuture.completedFuture(outcome);
  }

  private static CompletableFuture<SubmitOutcome> refuse(String why) {
    return done(new SubmitOutcome.Rejected(List.of(Violation.ofBatch("payouts", why))));
  }

  @Override
  public void close() {
    sweeper.shutdownNow();
    work.shutdownNow();
  }

  /** The held content reads otherwise than the content approved: it is not written. */
  static final class ContentChangedException extends RuntimeException {
    ContentChangedException(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * A hold or a decision was not confirmed in time: it may have been written, and counts then. The
   * batch's state says; asking again is safe.
   */
  public static final class DecisionNotConfirmedException extends RuntimeException {
    DecisionNotConfirmedException(Throwable cause) {
      super("approvals record not confirmed: " + cause, cause);
    }
  }

  /** An approved batch's write was not confirmed in time; the approval stands. */
  public static final class WriteNotConfirmedException extends RuntimeException {
    WriteNotConfirmedException() {
      super("the approved batch's write was not confirmed in time", null, false, false);
    }
  }
}
