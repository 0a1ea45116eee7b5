package io.txgw.consumer;

import io.micrometer.core.instrument.MeterRegistry;
import io.txgw.common.model.JournalEntry;
import io.txgw.common.model.Payout;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sorts a partition's new records before anything is prepared: payouts to prepare, payouts refused
 * for good (recorded FAILED with the offset that passes them), records moved aside unpaid, payouts
 * already journaled (skipped), and the first record that cannot be decided yet, at which the
 * partition stops and waits.
 */
final class RecordTriage {
  private static final Logger log = LoggerFactory.getLogger(RecordTriage.class);

  private final RecordIntake intake;
  private final RecordWaits waits;
  private final Clock clock;
  private final MeterRegistry meters;

  RecordTriage(RecordIntake intake, RecordWaits waits, Clock clock, MeterRegistry meters) {
    this.intake = intake;
    this.waits = waits;
    this.clock = clock;
    this.meters = meters;
  }

  /**
   * @param fresh payouts to prepare, each with its offset
   * @param refused payouts refused before preparing, as recorded units
   * @param deadLetters records moved aside, to write with the round's transaction
   * @param waitAt the record the partition waits at, or null: nothing from it on was sorted
   */
  record Triaged(
      List<SendRound.Read> fresh,
      List<JournalEntry> refused,
      List<ProducerRecord<String, Object>> deadLetters,
      Long waitAt) {}

  /**
   * @param decidedBelow every record below this offset was decided before (journaled, recorded or
   *     moved aside: the committed offset passed it); read again only because a unit was abandoned,
   *     so only records of payouts whose unit was abandoned are sorted again, in full: one of them
   *     is the payout's own record, which may have to wait or be moved aside now. Any other record
   *     below it is not judged twice.
   */
  Triaged sort(
      TopicPartition p,
      List<ConsumerRecord<String, byte[]>> records,
      JournalIndex index,
      int partitions,
      long decidedBelow) {
    List<ProducerRecord<String, Object>> extra = new ArrayList<>();
    List<SendRound.Read> fresh = new ArrayList<>();
    List<JournalEntry> refusedHere = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    Long waitAt = null;
    for (ConsumerRecord<String, byte[]> record : records) {
      boolean decided = record.offset() < decidedBelow;
      if (decided) {
        Payout known = RecordIntake.readUnverified(record);
        if (known == null || !index.wasAbandoned(known.resultKey())) {
          continue;
        }
      }
      RecordIntake.Verdict verdict = intake.check(record, partitions);
      if (verdict instanceof RecordIntake.Verdict.Wait wait) {
        Payout known = RecordIntake.readUnverified(record);
        if (known != null && index.isTaken(known.resultKey())) {
          // Already journaled, whatever this copy is: skipping it never pays, and a copy must
          // not hold the partition. Counted, since a copy may be someone else's doing.
          meters.counter("txgw.sendto.skipped.copies").increment();
          continue;
        }
        RecordWaits.State state = waits.check(p, record.offset(), clock.instant(), wait.limit());
        if (state == RecordWaits.State.OVERDUE) {
          meters.counter("txgw.sendto.dead.letters").increment();
          extra.add(DeadLetters.of(record, wait.reason()));
          continue;
        }
        if (state == RecordWaits.State.STARTED) {
          // Once per record: it is read again every rest until it is decided.
          log.error("{}@{}: {}; the partition waits", p, record.offset(), wait.reason());
          meters.counter("txgw.sendto.waiting").increment();
        }
        // Nothing from here on is decided: the records before it are, and it is read again.
        waitAt = record.offset();
        break;
      }
      if (verdict instanceof RecordIntake.Verdict.Dead dead) {
        meters.counter("txgw.sendto.dead.letters").increment();
        extra.add(DeadLetters.of(record, dead.reason()));
        continue;
      }
      Payout payout =
          verdict instanceof RecordIntake.Verdict.Refuse r
              ? r.payout()
              : ((RecordIntake.Verdict.Pay) verdict).payout();
      if (index.isTaken(payout.resultKey()) || !seen.add(payout.resultKey())) {
        log.debug("payout {} is already in the journal; not prepared again", payout.resultKey());
        continue;
      }
      if (verdict instanceof RecordIntake.Verdict.Refuse r) {
        // Recorded with the offset that passes it, in one transaction: never signed, never lost.
        log.warn("payout {} refused before preparing: {}", payout.resultKey(), r.reason());
        refusedHere.add(
            SendRound.refusal(
                payout, r.reason(), record.offset(), record.offset(), clock.instant()));
        continue;
      }
      fresh.add(new SendRound.Read(payout, record.offset()));
    }
    return new Triaged(fresh, refusedHere, extra, waitAt);
  }
}
