package io.txgw.gateway;

import io.txgw.common.model.Amount;
import io.txgw.common.model.Payout;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.BatchValidator;
import io.txgw.common.validation.ValidatedBatch;
import io.txgw.common.validation.Violation;
import io.txgw.gateway.approval.ApprovalBook;
import io.txgw.gateway.approval.ApprovalRecord;
import io.txgw.gateway.approval.ApprovalState;
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
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
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

  /** Writes approved batches, under claims. */
  private final ApprovedWrites writes;

  /** Expires overdue holds and takes lapsed writes over. */
  private final ApprovalSweep sweep;

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
    this.writes = new ApprovedWrites(service, book, fencing, clock, wait);
    this.sweep = new ApprovalSweep(book, writes, clock, this::isReady);
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
    writes.lease(writeLease);
    sweep.start(every);
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
    writes.auditTo(sink, fields);
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
      return writes.approvedAlready(state);
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
      return settled(writes.expire(state));
    }
    // Checked before the approval is written: one that the rules or the daily maximum would
    // refuse now is not given, and the batch stays pending.
    ValidatedBatch validated = writes.revalidate(state);
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
            .withLease(writes.lease());
    ApprovalState after = propose(approval).orElse(state);
    if (after.status() != ApprovalState.Status.APPROVED
        || !after.holdProposal().equals(state.holdProposal())) {
      return settled(after);
    }
    if (!approval.proposal().equals(after.decisionProposal())) {
      // Another approver's counted first: its gateway writes the batch.
      return writes.approvedAlready(after);
    }
    log.info(
        "batch {}/{} approved by {} (posted by {})",
        state.clientId(),
        batchId,
        after.decidedBy(),
        state.postedBy());
    return writes.writeUnderClaim(after, validated, approval.proposal());
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
              ? writes.expire(state)
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

  private Optional<ApprovalState> propose(ApprovalRecord record) throws InterruptedException {
    return writes.propose(record);
  }

  /** Approved batches whose write has no outcome yet, as of the last sweep: for an alert. */
  public int openWrites() {
    return sweep.openWrites();
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
    sweep.close();
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
