package io.txgw.gateway;

import io.txgw.common.model.Amount;
import io.txgw.common.model.BatchRecord;
import io.txgw.common.model.Payout;
import io.txgw.common.security.ClientPolicies;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.BatchValidator;
import io.txgw.common.validation.ValidatedBatch;
import io.txgw.common.validation.Violation;
import io.txgw.gateway.kafka.BatchFate;
import io.txgw.gateway.kafka.BatchWrite;
import io.txgw.gateway.kafka.BatchWriteException;
import io.txgw.gateway.kafka.BatchWriter;
import io.txgw.gateway.kafka.FencedWriter;
import io.txgw.gateway.policy.DailySpend;
import io.txgw.gateway.status.BatchView;
import io.txgw.gateway.status.PayoutIndex;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts batches and answers their status; the HTTP layer only translates. A batch id is the
 * client's idempotency key: concurrent and later re-posts of the same content get the first answer
 * and write nothing. A payout id is the client's forever: posted again in another batch it is
 * either the same payout, answered as the earlier batch's and not written again, or the whole batch
 * is refused.
 *
 * <p>A batch whose write is not confirmed may be in Kafka: until its fate is known, its batch id
 * answers as a written batch's does (other content is a conflict, the same content may be written
 * again), and its payout ids are nobody else's, nor accepted earlier by it.
 */
public final class BatchService {
  private static final Logger log = LoggerFactory.getLogger(BatchService.class);

  private final BatchValidator validator;
  private final BatchWriter writer;
  private final BatchView view;
  private final PayoutIndex payoutIds;
  private final Clock clock;
  private final Supplier<ClientPolicies> policies;
  private final DailySpend dailySpend;

  /** Batches being accepted, by key: the batch written, or empty when it was refused. */
  private final Map<String, CompletableFuture<Optional<BatchRecord>>> inFlight =
      new ConcurrentHashMap<>();

  /**
   * @param policies each client's spending rights and limits, read anew when their file changes
   */
  public BatchService(
      BatchValidator validator,
      BatchWriter writer,
      BatchView view,
      Clock clock,
      Supplier<ClientPolicies> policies) {
    this(validator, writer, view, clock, policies, null);
  }

  /**
   * @param dailySpend what each client paid in the last 24 hours; null refuses every batch of a
   *     client that has a daily maximum, since it cannot be checked
   */
  public BatchService(
      BatchValidator validator,
      BatchWriter writer,
      BatchView view,
      Clock clock,
      Supplier<ClientPolicies> policies,
      DailySpend dailySpend) {
    this.policies = policies;
    this.dailySpend = dailySpend;
    this.validator = validator;
    this.writer = writer;
    this.view = view;
    this.payoutIds = view.payoutIndex();
    this.clock = clock;
  }

  /** The most payouts a batch may hold here. */
  public int maxBatchPayouts() {
    return validator.rules().maxPayouts();
  }

  public boolean isReady() {
    return view.isCaughtUp() && writer.isOpen() && (dailySpend == null || dailySpend.isCaughtUp());
  }

  /**
   * Validates and writes a batch; the future fails only when Kafka did not take it. A batch that
   * needs a second person's approval is refused here: only {@link
   * io.txgw.gateway.approval.ApprovalDesk} holds batches, and writes them once approved.
   */
  public CompletableFuture<SubmitOutcome> submit(String clientId, BatchSubmission submission) {
    ValidatedBatch validated = validate(clientId, submission);
    if (!validated.valid()) {
      return CompletableFuture.completedFuture(new SubmitOutcome.Rejected(validated.violations()));
    }
    Optional<Amount> threshold = approvalThreshold(clientId, validated.payouts());
    if (threshold.isPresent()) {
      return CompletableFuture.completedFuture(
          new SubmitOutcome.Rejected(
              List.of(
                  Violation.ofBatch(
                      "payouts",
                      "the batch needs approval (its total is above "
                          + threshold.get()
                          + "), which this gateway cannot hold"))));
    }
    return write(clientId, validated);
  }

  /** The batch checked against the rules and the client's policy as its file says now. */
  public ValidatedBatch validate(String clientId, BatchSubmission submission) {
    return validator.validate(submission, policies.get().of(clientId), clock.instant());
  }

  /**
   * The total above which the client's batch of these payouts waits for approval, if it is above.
   */
  public Optional<Amount> approvalThreshold(String clientId, List<Payout> payouts) {
    return policies
        .get()
        .of(clientId)
        .approvalThreshold(payouts.get(0).asset().symbol(), total(payouts));
  }

  private static Amount total(List<Payout> payouts) {
    return payouts.stream().map(Payout::amount).reduce(Amount::plus).orElseThrow();
  }

  /**
   * Why the payouts would take the client past its daily maximum as counted now, if they would;
   * reserves nothing (the write does, and decides).
   */
  public Optional<String> dailyShortfall(String clientId, List<Payout> payouts) {
    String asset = payouts.get(0).asset().symbol();
    Amount max = policies.get().of(clientId).maxDailyTotal().get(asset);
    if (max == null || dailySpend == null) {
      return Optional.empty();
    }
    java.math.BigDecimal after =
        dailySpend.total(clientId, asset, clock.instant()).add(total(payouts).toBigDecimal());
    return after.compareTo(max.toBigDecimal()) > 0
        ? Optional.of(
            "this batch would take client "
                + clientId
                + "'s payouts of the last 24 hours to "
                + after.stripTrailingZeros().toPlainString()
                + " "
                + asset
                + ", above its daily maximum of "
                + max)
        : Optional.empty();
  }

  /** The batch written under this id, if the view has it. */
  public Optional<BatchRecord> written(String clientId, String batchId) {
    return view.batch(clientId, batchId);
  }

  /**
   * The batch written under this id once the view has read everything written before this call:
   * empty then means no write of it is committed.
   *
   * @throws java.util.concurrent.TimeoutException when the view does not read that far in time
   */
  public Optional<BatchRecord> writtenAsOfNow(String clientId, String batchId, Duration within)
      throws InterruptedException, java.util.concurrent.TimeoutException {
    try {
      view.readPastEnd().get(within.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new java.util.concurrent.TimeoutException("the view did not read on: " + e.getCause());
    }
    return view.batch(clientId, batchId);
  }

  /**
   * Writes a validated batch, approval or not: the caller has decided that it may be written (under
   * its threshold, or approved).
   */
  public CompletableFuture<SubmitOutcome> write(String clientId, ValidatedBatch validated) {
    return write(clientId, validated, null);
  }

  /**
   * Writes a validated batch as {@link #write(String, ValidatedBatch)} does, in a transaction of
   * {@code fenced}'s own when given (a producer from {@link FencedWriter#fencing}): a later writer
   * of the same transactional id stops this write from committing.
   */
  public CompletableFuture<SubmitOutcome> write(
      String clientId, ValidatedBatch validated, FencedWriter.Fenced fenced) {
    List<Payout> payouts = validated.payouts();
    Payout first = payouts.get(0);
    BatchRecord record =
        new BatchRecord(
            clientId,
            first.batchId(),
            first.chain(),
            first.source(),
            validated.fingerprint(),
            payouts.stream().map(Payout::id).toList(),
            first.acceptedAt(),
            payouts.stream().map(BatchRecord.Line::of).toList(),
            Map.of());
    return accept(record, payouts, fenced);
  }

  private CompletableFuture<SubmitOutcome> accept(
      BatchRecord record, List<Payout> payouts, FencedWriter.Fenced fenced) {
    Optional<BatchRecord> known = view.batch(record.clientId(), record.batchId());
    if (known.isPresent()) {
      return CompletableFuture.completedFuture(compare(known.get(), record));
    }
    CompletableFuture<Optional<BatchRecord>> mine = new CompletableFuture<>();
    CompletableFuture<Optional<BatchRecord>> earlier = inFlight.putIfAbsent(record.key(), mine);
    if (earlier != null) {
      // Its answer is this post's too; refused, it leaves the batch id free for this one to try.
      // Off the thread that settles it, which may be a writer lane's.
      return earlier.thenComposeAsync(
          written ->
              written.isPresent()
                  ? CompletableFuture.completedFuture(compare(written.get(), record))
                  : accept(record, payouts, fenced),
          executorFor(fenced));
    }
    CompletableFuture<SubmitOutcome> outcome;
    try {
      outcome = acceptHolding(record, payouts, fenced);
    } catch (RuntimeException e) {
      // Whatever happens, the slot is settled: later posts of this batch id wait on it.
      outcome = CompletableFuture.failedFuture(e);
    }
    return outcome.whenComplete(
        (answer, error) -> {
          inFlight.remove(record.key(), mine);
          if (error != null) {
            mine.completeExceptionally(error);
          } else {
            mine.complete(batchOf(answer));
          }
        });
  }

  /** Decides a batch while it holds the slot of its batch id. */
  private CompletableFuture<SubmitOutcome> acceptHolding(
      BatchRecord record, List<Payout> payouts, FencedWriter.Fenced fenced) {
    // Before the view: a write in doubt ends either in the view, or released after the view has
    // read past it; read in the other order, a batch could slip between the two.
    Optional<BatchRecord> unsure = payoutIds.unconfirmed(record.clientId(), record.batchId());
    if (unsure.isPresent()) {
      // The same content may be written again: a second copy of a payout from the same source
      // is one the consumers recognise. Other content could be a second payment.
      return unsure.get().fingerprint().equals(record.fingerprint())
          ? admit(record, payouts, fenced)
          : CompletableFuture.completedFuture(new SubmitOutcome.Conflict(unsure.get(), true));
    }
    // The write that held the slot may have finished between the ledger check and the reserve.
    Optional<BatchRecord> known = view.batch(record.clientId(), record.batchId());
    return known.isPresent()
        ? CompletableFuture.completedFuture(compare(known.get(), record))
        : admit(record, payouts, fenced);
  }

  /**
   * Checks the batch's payout ids and writes what is new of it. Its ids are taken before the write
   * and for the time of it: a batch racing it on this gateway with one of them waits for its
   * outcome.
   */
  private CompletableFuture<SubmitOutcome> admit(
      BatchRecord record, List<Payout> payouts, FencedWriter.Fenced fenced) {
    PayoutIndex.Check check = payoutIds.reserve(record, payouts);
    if (check instanceof PayoutIndex.Busy busy) {
      // Off the writer lane that settles it: checking reads the view's stores.
      return busy.settled()
          .thenComposeAsync(settled -> admit(record, payouts, fenced), executorFor(fenced));
    }
    if (check instanceof PayoutIndex.Taken taken) {
      return CompletableFuture.completedFuture(new SubmitOutcome.PayoutIdsTaken(taken.conflicts()));
    }
    if (check instanceof PayoutIndex.Unconfirmed unconfirmed) {
      return CompletableFuture.completedFuture(
          new SubmitOutcome.PayoutIdsUnconfirmed(unconfirmed.ids()));
    }
    if (check instanceof PayoutIndex.Full full) {
      return CompletableFuture.completedFuture(new SubmitOutcome.HeldLimit(full));
    }
    PayoutIndex.Reserved reserved = (PayoutIndex.Reserved) check;
    Map<String, String> earlier = reserved.acceptedEarlier();
    BatchRecord batch = record.withAcceptedEarlier(earlier);
    // The same payout accepted earlier is that batch's: written twice, it could be paid twice.
    List<Payout> fresh =
        earlier.isEmpty()
            ? payouts
            : payouts.stream().filter(p -> !earlier.containsKey(p.id())).toList();
    Optional<DailySpend.Reservation> spent;
    try {
      spent = spendToday(batch, fresh, fenced != null);
    } catch (DailyMaximumException e) {
      reserved.release();
      return CompletableFuture.completedFuture(
          new SubmitOutcome.Rejected(List.of(Violation.ofBatch("payouts", e.getMessage()))));
    }
    BatchWrite write;
    try {
      write =
          fenced == null ? writer.submit(batch, fresh) : writer.submitFenced(fenced, batch, fresh);
    } catch (RuntimeException e) {
      reserved.release();
      spent.ifPresent(DailySpend.Reservation::release);
      throw e;
    }
    return write
        .answer()
        .handle(
            (ok, error) -> {
              if (error == null) {
                reserved.keep();
                view.remember(batch);
                return new SubmitOutcome.Accepted(batch, false);
              }
              Throwable cause = error instanceof CompletionException ? error.getCause() : error;
              if (cause instanceof BatchWriteException unknown && unknown.mayBeWritten()) {
                // The batch may be in Kafka after all: its ids are held until its fate is known.
                reserved.doubt();
                write
                    .fate()
                    .thenAccept(
                        fate -> {
                          if (fate == BatchFate.ABORTED) {
                            spent.ifPresent(DailySpend.Reservation::release);
                          }
                          settle(batch, reserved, fate);
                        });
              } else {
                reserved.release();
                spent.ifPresent(DailySpend.Reservation::release);
              }
              throw new BatchNotWrittenException(error);
            });
  }

  /**
   * Reserves what the batch pays against its client's daily maximum, if it has one. A batch whose
   * write is in doubt keeps its reservation until the daily ledger reads it or a day passes: a
   * maximum is kept by counting too much, never too little.
   */
  private Optional<DailySpend.Reservation> spendToday(
      BatchRecord batch, List<Payout> fresh, boolean replacing) {
    if (fresh.isEmpty()) {
      return Optional.empty();
    }
    String asset = fresh.get(0).asset().symbol();
    Amount max = policies.get().of(batch.clientId()).maxDailyTotal().get(asset);
    if (max == null) {
      return Optional.empty();
    }
    if (dailySpend == null) {
      throw new DailyMaximumException(
          "client " + batch.clientId() + " has a daily maximum this gateway cannot check");
    }
    Amount total = fresh.stream().map(Payout::amount).reduce(Amount::plus).orElseThrow();
    String[] why = new String[1];
    Optional<DailySpend.Reservation> r =
        dailySpend.reserve(batch.clientId(), asset, total, max, batch.key(), why, replacing);
    if (r.isEmpty()) {
      throw new DailyMaximumException(why[0]);
    }
    return r;
  }

  /**
   * What the client may spend from and how much: its sources, its per-batch maxima and, per asset
   * with a daily maximum, what its batches paid in the last 24 hours and what is left.
   */
  public Map<String, Object> limits(String clientId) {
    return io.txgw.gateway.policy.ClientLimits.of(
        policies.get().of(clientId), dailySpend, clock.instant());
  }

  private static final class DailyMaximumException extends RuntimeException {
    DailyMaximumException(String message) {
      super(message, null, false, false);
    }
  }

  /** Ends the doubt over a batch whose write was not confirmed, once its fate is known. */
  private void settle(BatchRecord batch, PayoutIndex.Reserved reserved, BatchFate fate) {
    log.info("batch {}, answered 'not confirmed', ended {}", batch.key(), fate);
    switch (fate) {
      case COMMITTED -> {
        // Before its ids count as written: a re-post must then find the batch.
        view.remember(batch);
        reserved.keep();
      }
      case ABORTED -> reserved.release();
      case UNKNOWN ->
          // Over at the coordinator: once the view has read past it, a committed batch is in the
          // view's index (which answers for its ids) and one that is not there never will be.
          view.readPastEnd()
              .whenComplete(
                  (read, error) -> {
                    if (error == null) {
                      reserved.release();
                    } else {
                      log.warn(
                          "batch {}: the view did not read past its write ({}); its payout ids"
                              + " stay held",
                          batch.key(),
                          error.toString());
                    }
                  });
    }
  }

  private static SubmitOutcome compare(BatchRecord existing, BatchRecord posted) {
    return existing.fingerprint().equals(posted.fingerprint())
        ? new SubmitOutcome.Accepted(existing, true)
        : new SubmitOutcome.Conflict(existing);
  }

  /**
   * The batch an outcome leaves under its id, if any: not one whose write is in doubt, which posts
   * waiting for this one must not take for written.
   */
  private static Optional<BatchRecord> batchOf(SubmitOutcome outcome) {
    if (outcome instanceof SubmitOutcome.Accepted accepted) {
      return Optional.of(accepted.batch());
    }
    if (outcome instanceof SubmitOutcome.Conflict conflict && !conflict.unconfirmed()) {
      return Optional.of(conflict.existing());
    }
    return Optional.empty();
  }

  /**
   * The batch's progress, or empty when this client has no batch of that id: with every payout's
   * state, or only the counts (cheap for any batch size).
   */
  public Optional<BatchStatus> status(String clientId, String batchId, boolean withPayouts) {
    return withPayouts ? view.status(clientId, batchId) : view.summary(clientId, batchId);
  }

  /** The view behind the status answers, for the live and dashboard routes. */
  public BatchView view() {
    return view;
  }

  /**
   * Where a continuation of a write runs: a fenced write blocks its thread while it sends and
   * commits, so it gets threads of its own rather than the common pool's.
   */
  private static java.util.concurrent.Executor executorFor(FencedWriter.Fenced fenced) {
    return fenced == null ? java.util.concurrent.ForkJoinPool.commonPool() : FENCED_CONTINUATIONS;
  }

  private static final java.util.concurrent.ExecutorService FENCED_CONTINUATIONS =
      java.util.concurrent.Executors.newCachedThreadPool(
          task -> {
            Thread t = new Thread(task, "fenced-write");
            t.setDaemon(true);
            return t;
          });

  /** Kafka did not take the batch; nothing of it was written, and a retry is safe. */
  public static final class BatchNotWrittenException extends RuntimeException {
    BatchNotWrittenException(Throwable cause) {
      super("batch not written: " + cause.getMessage(), cause);
    }
  }
}
