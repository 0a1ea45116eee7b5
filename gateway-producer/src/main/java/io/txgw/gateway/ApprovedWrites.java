package io.txgw.gateway;

import io.txgw.common.model.BatchRecord;
import io.txgw.common.validation.ValidatedBatch;
import io.txgw.common.validation.Violation;
import io.txgw.gateway.approval.ApprovalBook;
import io.txgw.gateway.approval.ApprovalRecord;
import io.txgw.gateway.approval.ApprovalState;
import io.txgw.gateway.kafka.BatchWriteException;
import io.txgw.gateway.kafka.FencedWriter;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.kafka.clients.producer.Producer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The writes of approved batches. An approved batch is written under a write claim (its approval,
 * or a later CLAIM when the one before lapsed), and every write of one batch goes through a
 * producer under the batch's own transactional id: a claimer first starts its producer, which ends
 * the previous claimer's transaction and stops it committing anything later; then reads the
 * approvals topic to its end (its claim must still be current) and the {@code batches} topic to its
 * end; then writes the batch, or records its write refused for good. So a batch is never called
 * refused while a write of it can still land, and a refused batch is never written.
 */
final class ApprovedWrites {
  private static final Logger log = LoggerFactory.getLogger(ApprovedWrites.class);
  private static final Duration WRITE_WITHIN = Duration.ofSeconds(60);

  private final BatchService service;
  private final ApprovalBook book;
  private final Clock clock;
  private final Duration wait;

  /** A fencing transactional producer for an id ({@link FencedWriter#fencing}). */
  private final Function<String, Producer<String, byte[]>> fencing;

  /**
   * How long a write claim of this gateway holds (carried in its records): above the longest a
   * write can take to be decided.
   */
  private volatile Duration lease = ApprovalBook.WRITE_LEASE;

  /** Where what the gateway decides on its own (expiries, writes) is audited. */
  private volatile Consumer<Map<String, Object>> audit;

  private volatile Function<ApprovalState, Map<String, Object>> auditFields;

  ApprovedWrites(
      BatchService service,
      ApprovalBook book,
      Function<String, Producer<String, byte[]>> fencing,
      Clock clock,
      Duration wait) {
    this.service = service;
    this.book = book;
    this.fencing = fencing;
    this.clock = clock;
    this.wait = wait;
  }

  void lease(Duration lease) {
    this.lease = lease;
  }

  Duration lease() {
    return lease;
  }

  void auditTo(
      Consumer<Map<String, Object>> sink, Function<ApprovalState, Map<String, Object>> fields) {
    this.auditFields = fields;
    this.audit = sink;
  }

  /**
   * An approved batch asked about again: written (answered as a re-post), refused for good, or
   * being written by the holder of its claim, or taken over when that claim has lapsed.
   */
  ApprovalDesk.Decision approvedAlready(ApprovalState state) throws InterruptedException {
    Optional<ApprovalDesk.Decision> known = writtenOrRefused(state);
    if (known.isPresent()) {
      return known.get();
    }
    if (clock.instant().isBefore(state.write().lapsesAt())) {
      return new ApprovalDesk.Decision.Refused(
          503,
          "write-under-way",
          "batch " + state.batchId() + " is approved and being written; its status shows when");
    }
    return takeOver(state);
  }

  /** The answer for an approved batch whose write has ended, if it has. */
  Optional<ApprovalDesk.Decision> writtenOrRefused(ApprovalState state) {
    Optional<BatchRecord> written = service.written(state.clientId(), state.batchId());
    if (written.isPresent() && written.get().fingerprint().equals(state.fingerprint())) {
      return Optional.of(
          new ApprovalDesk.Decision.Done(state, new SubmitOutcome.Accepted(written.get(), true)));
    }
    ApprovalState.Write w = state.write();
    if (w != null && w.outcome() == ApprovalState.Outcome.REFUSED) {
      return Optional.of(
          new ApprovalDesk.Decision.Refused(
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
  ApprovalDesk.Decision takeOver(ApprovalState state) throws InterruptedException {
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
              new ApprovalDesk.Decision.Refused(
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
  ApprovalDesk.Decision writeUnderClaim(ApprovalState state, ValidatedBatch validated, String claim)
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
      throw new ApprovalDesk.WriteNotConfirmedException();
    }
    try {
      // A later claim's record is on the topic before its claimer initializes its producer: not
      // seen now, that claimer initializes after this one, and fences it before it reads. Seen,
      // this one stops (whichever producer came up first).
      Optional<ApprovalState> now;
      try {
        now = book.stateAsOfNow(state.clientId(), state.batchId());
      } catch (RuntimeException e) {
        throw new ApprovalDesk.DecisionNotConfirmedException(e);
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
        } catch (ApprovalDesk.ContentChangedException e) {
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
                    new FencedWriter.Fenced(
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
        throw new ApprovalDesk.WriteNotConfirmedException();
      }
      if (outcome instanceof SubmitOutcome.Accepted accepted) {
        return written(state, claim, accepted.batch());
      }
      String why = refusedForGood(outcome);
      if (why == null) {
        // Held back for now (ids in doubt, a bound): the claim lapses, and a later one writes it.
        return new ApprovalDesk.Decision.Done(state, outcome);
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

  private static ApprovalDesk.Decision underWay(ApprovalState state) {
    return new ApprovalDesk.Decision.Refused(
        503, "write-under-way", "batch " + state.batchId() + " is approved and being written");
  }

  private Optional<BatchRecord> writtenAsOfNow(ApprovalState state) throws InterruptedException {
    try {
      return service.writtenAsOfNow(state.clientId(), state.batchId(), Duration.ofSeconds(30));
    } catch (TimeoutException e) {
      throw new ApprovalDesk.WriteNotConfirmedException();
    }
  }

  /** The approved batch is written: recorded (a courtesy: the view shows it too) and answered. */
  private ApprovalDesk.Decision written(ApprovalState state, String claim, BatchRecord batch)
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
    return new ApprovalDesk.Decision.Done(state, new SubmitOutcome.Accepted(batch, false));
  }

  /**
   * Records that the approved batch will never be written, and says so only once that record has
   * counted: the caller holds the current claim, its producer has fenced every earlier writer, and
   * the view read to now does not show the batch. Otherwise (a claim taken over meanwhile, the
   * record not confirmed) the answer is that its status will tell.
   */
  private ApprovalDesk.Decision refuseWrite(ApprovalState state, String claim, String why)
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
      return new ApprovalDesk.Decision.Refused(
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
    Optional<ApprovalDesk.Decision> known = writtenOrRefused(after);
    if (known.isPresent()) {
      return known.get();
    }
    throw new ApprovalDesk.DecisionNotConfirmedException(
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

  /** The held content, validated as the rules and the client's policy are now. */
  ValidatedBatch revalidate(ApprovalState state) {
    ApprovalRecord hold = book.held(state);
    ValidatedBatch validated = service.validate(state.clientId(), hold.submission());
    if (validated.valid() && !validated.fingerprint().equals(state.fingerprint())) {
      // The rules read it otherwise than when it was held (another release): not what was
      // approved.
      throw new ApprovalDesk.ContentChangedException(
          "the held content no longer reads as the content approved (" + state.fingerprint() + ")");
    }
    return validated;
  }

  /** Proposes a record; the batch's state once it is read back, whoever's record counted. */
  Optional<ApprovalState> propose(ApprovalRecord record) throws InterruptedException {
    try {
      return book.propose(record).get();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof ApprovalBook.ProposalNotWrittenException refused
          ? refused
          : new ApprovalDesk.DecisionNotConfirmedException(e.getCause());
    }
  }

  void audit(String event, ApprovalState state, String reason) {
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

  /** Proposes the hold's expiry; its state once read back, whoever's record counted. */
  ApprovalState expire(ApprovalState state) throws InterruptedException {
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
}
