package io.txgw.gateway;

import io.txgw.common.model.BatchRecord;
import io.txgw.common.model.Payout;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.BatchValidator;
import io.txgw.common.validation.ValidatedBatch;
import io.txgw.gateway.kafka.BatchWriter;
import io.txgw.gateway.status.BatchView;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Accepts batches and answers their status; the HTTP layer only translates. A batch id is the
 * client's idempotency key: concurrent and later re-posts of the same content get the first answer
 * and write nothing.
 */
public final class BatchService {
  private final BatchValidator validator;
  private final BatchWriter writer;
  private final BatchView view;
  private final Clock clock;
  private final Map<String, CompletableFuture<BatchRecord>> inFlight = new ConcurrentHashMap<>();

  public BatchService(BatchValidator validator, BatchWriter writer, BatchView view, Clock clock) {
    this.validator = validator;
    this.writer = writer;
    this.view = view;
    this.clock = clock;
  }

  public boolean isReady() {
    return view.isCaughtUp() && writer.isOpen();
  }

  /** Validates and writes a batch; the future fails only when Kafka did not take it. */
  public CompletableFuture<SubmitOutcome> submit(String clientId, BatchSubmission submission) {
    ValidatedBatch validated = validator.validate(submission, clientId, clock.instant());
    if (!validated.valid()) {
      return CompletableFuture.completedFuture(new SubmitOutcome.Rejected(validated.violations()));
    }
    List<Payout> payouts = validated.payouts();
    Payout first = payouts.get(0);
    BatchRecord record =
        new BatchRecord(
            clientId,
            submission.batchId(),
            first.chain(),
            first.source(),
            validated.fingerprint(),
            payouts.stream().map(Payout::id).toList(),
            first.acceptedAt());
    Optional<BatchRecord> known = view.batch(clientId, record.batchId());
    if (known.isPresent()) {
      return CompletableFuture.completedFuture(compare(known.get(), record));
    }
    CompletableFuture<BatchRecord> mine = new CompletableFuture<>();
    CompletableFuture<BatchRecord> earlier = inFlight.putIfAbsent(record.key(), mine);
    if (earlier != null) {
      return earlier.thenApply(existing -> compare(existing, record));
    }
    // The write that held the slot may have finished between the ledger check and the reserve.
    known = view.batch(clientId, record.batchId());
    if (known.isPresent()) {
      inFlight.remove(record.key(), mine);
      mine.complete(known.get());
      return CompletableFuture.completedFuture(compare(known.get(), record));
    }
    return writer
        .write(record, payouts)
        .handle(
            (ok, error) -> {
              if (error == null) {
                view.remember(record);
              }
              inFlight.remove(record.key(), mine);
              if (error != null) {
                mine.completeExceptionally(error);
                throw new BatchNotWrittenException(error);
              }
              mine.complete(record);
              return new SubmitOutcome.Accepted(record, false);
            });
  }

  private static SubmitOutcome compare(BatchRecord existing, BatchRecord posted) {
    return existing.fingerprint().equals(posted.fingerprint())
        ? new SubmitOutcome.Accepted(existing, true)
        : new SubmitOutcome.Conflict(existing);
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

  /** Kafka did not take the batch; nothing of it was written, and a retry is safe. */
  public static final class BatchNotWrittenException extends RuntimeException {
    BatchNotWrittenException(Throwable cause) {
      super("batch not written: " + cause.getMessage(), cause);
    }
  }
}
