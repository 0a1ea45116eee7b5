package io.txgw.gateway.approval;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.validation.BatchSubmission;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ApprovalFoldTest {
  private static final Instant T0 = Instant.parse("2026-11-29T12:00:00Z");
  private static final Duration KEEP = Duration.ofDays(7);

  private final ApprovalFold fold = new ApprovalFold(KEEP);
  private long offset;

  private static ApprovalRecord hold(String client, String batch, String person, String content) {
    return new ApprovalRecord(
        ApprovalRecord.Kind.HOLD,
        "hold-" + client + "-" + batch + "-" + content,
        client,
        batch,
        T0,
        person,
        "key-" + person,
        null,
        null,
        content,
        "ETH",
        "0xsource",
        2,
        Map.of("ETH", "12"),
        T0.plus(Duration.ofDays(1)),
        new BatchSubmission(batch, "ETH", "0xsource", List.of()),
        null,
        null);
  }

  private static ApprovalRecord hold(String batch, String person, String content) {
    return hold("acme", batch, person, content);
  }

  private static ApprovalRecord decide(
      ApprovalRecord.Kind kind, ApprovalState on, String person, String proposal) {
    return ApprovalRecord.decision(
        kind, proposal, on, T0, person, person == null ? null : "key-" + person, null);
  }

  private static ApprovalRecord write(
      ApprovalRecord.Kind kind, ApprovalState on, String proposal, String claim) {
    return ApprovalRecord.write(kind, proposal, on, T0, claim, kind.name().toLowerCase());
  }

  private ApprovalState apply(ApprovalRecord r, Instant at) {
    return fold.apply(r, offset++, at).orElse(null);
  }

  private ApprovalState apply(ApprovalRecord r) {
    return apply(r, T0.plusSeconds(offset));
  }

  @Test
  void theFirstDecisionOnAHoldIsTheOneThatCounts() {
    ApprovalState held = apply(hold("b1", "alice", "c1"));
    assertThat(apply(decide(ApprovalRecord.Kind.REJECT, held, "carol", "r1")).status())
        .isEqualTo(ApprovalState.Status.REJECTED);
    ApprovalState after = apply(decide(ApprovalRecord.Kind.APPROVE, held, "bob", "a1"));
    assertThat(after.status()).isEqualTo(ApprovalState.Status.REJECTED);
    assertThat(after.decisionProposal()).isEqualTo("r1");
    assertThat(after.decidedBy()).isEqualTo("carol");
  }

  @Test
  void thePosterCannotApproveTheirOwnBatchByAnyNameCaseOrWithTheirKey() {
    ApprovalState held = apply(hold("b1", "alice", "c1"));
    assertThat(apply(decide(ApprovalRecord.Kind.APPROVE, held, "Alice", "a1")).status())
        .isEqualTo(ApprovalState.Status.PENDING_APPROVAL);
    ApprovalRecord sameKey =
        ApprovalRecord.decision(
            ApprovalRecord.Kind.APPROVE, "a2", held, T0, "mallory", "key-alice", null);
    assertThat(apply(sameKey).status()).isEqualTo(ApprovalState.Status.PENDING_APPROVAL);
    ApprovalState other = apply(decide(ApprovalRecord.Kind.APPROVE, held, "bob", "a3"));
    assertThat(other.status()).isEqualTo(ApprovalState.Status.APPROVED);
    assertThat(other.decisionProposal()).isEqualTo("a3");
    assertThat(other.write().claim()).isEqualTo("a3");
  }

  @Test
  void anApprovalCountsOnlyForTheContentAndTheHoldItNames() {
    ApprovalState reviewed = apply(hold("b1", "alice", "c1"));
    ApprovalRecord approval = decide(ApprovalRecord.Kind.APPROVE, reviewed, "bob", "a1");
    ApprovalRecord otherContent =
        new ApprovalRecord(
            approval.kind(),
            "a0",
            approval.clientId(),
            approval.batchId(),
            approval.at(),
            approval.person(),
            approval.keyId(),
            approval.hold(),
            null,
            "c2",
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null);
    assertThat(apply(otherContent).status()).isEqualTo(ApprovalState.Status.PENDING_APPROVAL);
    // The batch is rejected and forgotten (a week later), then held again under its id with
    // other content: the approval given for the first content does not count on the second.
    apply(decide(ApprovalRecord.Kind.REJECT, reviewed, "carol", "r1"));
    Instant later = T0.plus(KEEP).plusSeconds(60);
    ApprovalState again = apply(hold("b1", "alice", "c2"), later);
    assertThat(again.pending()).isTrue();
    assertThat(again.fingerprint()).isEqualTo("c2");
    assertThat(apply(approval, later).status()).isEqualTo(ApprovalState.Status.PENDING_APPROVAL);
  }

  @Test
  void aSecondHoldOfOneBatchIdIsIgnoredWhateverItsContent() {
    apply(hold("b1", "alice", "c1"));
    ApprovalState again = apply(hold("b1", "bob", "c2"));
    assertThat(again.fingerprint()).isEqualTo("c1");
    assertThat(again.postedBy()).isEqualTo("alice");
  }

  @Test
  void anExpiryIsADecisionLikeTheOthersAndTheFirstCounts() {
    ApprovalState held = apply(hold("b1", "alice", "c1"));
    assertThat(apply(decide(ApprovalRecord.Kind.EXPIRE, held, null, "e1")).status())
        .isEqualTo(ApprovalState.Status.EXPIRED);
    assertThat(apply(decide(ApprovalRecord.Kind.APPROVE, held, "bob", "a1")).status())
        .isEqualTo(ApprovalState.Status.EXPIRED);
    ApprovalState second = apply(hold("b2", "alice", "c1"));
    apply(decide(ApprovalRecord.Kind.APPROVE, second, "bob", "a2"));
    assertThat(apply(decide(ApprovalRecord.Kind.EXPIRE, second, null, "e2")).status())
        .isEqualTo(ApprovalState.Status.APPROVED);
  }

  @Test
  void aDecisionOnABatchNeverHeldChangesNothing() {
    ApprovalState ghost = ApprovalState.held(hold("nope", "alice", "c1"), 99, T0);
    assertThat(apply(decide(ApprovalRecord.Kind.APPROVE, ghost, "bob", "a1"))).isNull();
    assertThat(fold.size()).isZero();
  }

  @Test
  void onlyTheCurrentClaimSaysAWriteWasRefusedAndAClaimTakesOverOnlyAfterTheLease() {
    ApprovalState held = apply(hold("b1", "alice", "c1"), T0);
    ApprovalState approved = apply(decide(ApprovalRecord.Kind.APPROVE, held, "bob", "a1"), T0);
    // Too early: the approver's gateway is still writing.
    Instant early = T0.plus(ApprovalFold.LEASE).minusSeconds(1);
    assertThat(
            apply(write(ApprovalRecord.Kind.CLAIM, approved, "c-early", null), early)
                .write()
                .claim())
        .isEqualTo("a1");
    Instant late = T0.plus(ApprovalFold.LEASE);
    ApprovalState taken = apply(write(ApprovalRecord.Kind.CLAIM, approved, "c2", null), late);
    assertThat(taken.write().claim()).isEqualTo("c2");
    // The first writer, late, says it was refused: not the current claim, so it does not count.
    assertThat(apply(write(ApprovalRecord.Kind.REFUSED, approved, "x1", "a1"), late).writeOpen())
        .isTrue();
    ApprovalState refused = apply(write(ApprovalRecord.Kind.REFUSED, approved, "x2", "c2"), late);
    assertThat(refused.write().outcome()).isEqualTo(ApprovalState.Outcome.REFUSED);
    // Ended: no later claim or outcome changes it.
    assertThat(
            apply(write(ApprovalRecord.Kind.WRITTEN, approved, "x3", "c2"), late.plusSeconds(1))
                .write()
                .outcome())
        .isEqualTo(ApprovalState.Outcome.REFUSED);
    ApprovalState other = apply(hold("b2", "alice", "c1"), late);
    apply(decide(ApprovalRecord.Kind.APPROVE, other, "bob", "a2"), late);
    // A write is true whoever made it: WRITTEN from an earlier claim counts.
    assertThat(
            apply(write(ApprovalRecord.Kind.WRITTEN, other, "w", "a-old"), late).write().outcome())
        .isEqualTo(ApprovalState.Outcome.WRITTEN);
  }

  @Test
  void aClientHoldsAtMostTheDailyCountOfBatchesInAny24Hours() {
    for (int i = 0; i < ApprovalFold.MAX_HOLDS_PER_DAY; i++) {
      assertThat(apply(hold("b" + i, "alice", "c"), T0)).isNotNull();
    }
    assertThat(apply(hold("one-more", "alice", "c"), T0.plusSeconds(60))).isNull();
    assertThat(apply(hold("other", "b", "alice", "c"), T0)).isNotNull();
    assertThat(apply(hold("next-day", "alice", "c"), T0.plus(Duration.ofDays(1)).plusSeconds(1)))
        .isNotNull();
    // Bounded by time alone: a week later everything held then is forgotten.
    apply(hold("week-later", "alice", "c"), T0.plus(KEEP).plus(Duration.ofDays(1)).plusSeconds(2));
    assertThat(fold.size()).isEqualTo(1);
  }

  /**
   * A gateway that kept running and one that started after retention deleted the oldest records
   * hold the same state once both have applied the same later record.
   */
  @Test
  void aFoldThatReadTheTopicFromItsStartAndOneThatKeptRunningAgree() {
    ApprovalFold running = new ApprovalFold(KEEP);
    ApprovalFold restarted = new ApprovalFold(KEEP);
    ApprovalState old = running.apply(hold("x", "alice", "c1"), 0, T0).orElseThrow();
    running.apply(decide(ApprovalRecord.Kind.REJECT, old, "bob", "r"), 1, T0.plusSeconds(1));
    // Eight days later the records above are deleted; the restarted fold never saw them.
    Instant later = T0.plus(Duration.ofDays(8));
    ApprovalState a = running.apply(hold("x", "alice", "c2"), 2, later).orElseThrow();
    ApprovalState b = restarted.apply(hold("x", "alice", "c2"), 2, later).orElseThrow();
    assertThat(a).isEqualTo(b);
    assertThat(a.fingerprint()).isEqualTo("c2");
  }

  /**
   * Folds that read one log agree on every batch's state, and of decisions racing on one hold the
   * first that may count is the one that counts, whatever order the log gives them.
   */
  @Test
  void ofRacingDecisionsTheFirstEligibleCountsWhateverTheirOrder() {
    Random random = new Random(7);
    for (int round = 0; round < 3_000; round++) {
      ApprovalFold a = new ApprovalFold(KEEP);
      ApprovalFold b = new ApprovalFold(KEEP);
      ApprovalRecord h = hold("x", "alice", "c1");
      ApprovalState held = ApprovalState.held(h, 0, T0);
      ApprovalState stale = ApprovalState.held(hold("x", "alice", "c0"), 0, T0);
      List<ApprovalRecord> log = new ArrayList<>();
      int decisions = 1 + random.nextInt(5);
      for (int d = 0; d < decisions; d++) {
        ApprovalRecord.Kind kind =
            List.of(
                    ApprovalRecord.Kind.APPROVE,
                    ApprovalRecord.Kind.REJECT,
                    ApprovalRecord.Kind.EXPIRE)
                .get(random.nextInt(3));
        String person =
            kind == ApprovalRecord.Kind.EXPIRE ? null : random.nextInt(3) == 0 ? "alice" : "p" + d;
        log.add(decide(kind, random.nextInt(4) == 0 ? stale : held, person, "d" + d));
      }
      Collections.shuffle(log, random);
      log.add(0, h);
      ApprovalState sa = null;
      ApprovalState sb = null;
      for (int i = 0; i < log.size(); i++) {
        Instant at = T0.plusMillis(i);
        sa = a.apply(log.get(i), i, at).orElseThrow();
        sb = b.apply(log.get(i), i, at).orElseThrow();
      }
      assertThat(sa).isEqualTo(sb);
      ApprovalRecord first =
          log.stream()
              .skip(1)
              .filter(r -> r.hold().equals(h.proposal()))
              .filter(
                  r ->
                      r.kind() != ApprovalRecord.Kind.APPROVE
                          || (r.fingerprint().equals("c1") && !r.person().equals("alice")))
              .findFirst()
              .orElse(null);
      if (first == null) {
        assertThat(sa.pending()).isTrue();
      } else {
        assertThat(sa.decisionProposal()).isEqualTo(first.proposal());
        assertThat(sa.status().name()).startsWith(first.kind().name().substring(0, 4));
      }
    }
  }
}
