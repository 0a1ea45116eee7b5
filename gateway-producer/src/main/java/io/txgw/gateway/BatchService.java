package io.txgw.gateway;

import io.txgw.common.model.BatchRecord;
import io.txgw.common.model.Payout;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.model.PayoutStatus;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.BatchValidator;
import io.txgw.common.validation.ValidatedBatch;
import io.txgw.gateway.kafka.BatchLedger;
import io.txgw.gateway.kafka.BatchWriter;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumMap;
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
  private final BatchLedger ledger;
  private final Clock clock;
  private final Map<String, CompletableFuture<BatchRecord>> inFlight = new ConcurrentHashMap<>();

  public BatchService(
      BatchValidator validator, BatchWriter writer, BatchLedger ledger, Clock clock) {
    this.validator = validator;
    this.writer = writer;
    this.ledger = ledger;
    this.clock = clock;
  }

  public boolean isReady() {
    return ledger.isCaughtUp() && writer.isOpen();
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
    Optional<BatchRecord> known = ledger.batch(clientId, record.batchId());
    if (known.isPresent()) {
      return CompletableFuture.completedFuture(compare(known.get(), record));
    }
    CompletableFuture<BatchRecord> mine = new CompletableFuture<>();
    CompletableFuture<BatchRecord> earlier = inFlight.putIfAbsent(record.key(), mine);
    if (earlier != null) {
      return earlier.thenApply(existing -> compare(existing, record));
    }
    // The write that held the slot may have finished between the ledger check and the reserve.
    known = ledger.batch(clientId, record.batchId());
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
                ledger.remember(record);
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

  /** The batch's progress, or empty when this client has no batch of that id. */
  public Optional<BatchStatus> status(String clientId, String batchId) {
    return ledger.batch(clientId, batchId).map(batch -> statusOf(clientId, batch));
  }

  private BatchStatus statusOf(String clientId, BatchRecord batch) {
    Map<PayoutStatus, Integer> counts = new EnumMap<>(PayoutStatus.class);
    List<BatchStatus.Item> items = new ArrayList<>(batch.payoutIds().size());
    for (String id : batch.payoutIds()) {
      Optional<PayoutResult> result = ledger.result(clientId, id);
      BatchStatus.Item item =
          result
              .map(
                  r ->
                      new BatchStatus.Item(
                          id, r.status(), r.txid(), r.node(), r.error(), r.updatedAt()))
              .orElseGet(
                  () ->
                      new BatchStatus.Item(
                          id, PayoutStatus.ACCEPTED, null, null, null, batch.acceptedAt()));
      counts.merge(item.status(), 1, Integer::sum);
      items.add(item);
    }
    return new BatchStatus(
        batch.batchId(),
        batch.chain(),
        batch.source(),
        batch.acceptedAt(),
        items.size(),
        counts,
        items);
  }

  /** Kafka did not take the batch; nothing of it was written, and a retry is safe. */
  public static final class BatchNotWrittenException extends RuntimeException {
    BatchNotWrittenException(Throwable cause) {
      super("batch not written: " + cause.getMessage(), cause);
    }
  }
}
