package io.txgw.consumer.chain;

import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.common.model.Payout;
import java.util.List;

/**
 * Pays payouts on one chain through one node, in two steps so that a signed transaction can be
 * journaled between them: {@link #prepare} builds and signs without broadcasting (the txid is then
 * known), {@link #broadcast} sends exactly the journaled bytes and establishes that the node holds
 * them. Broadcasting the same bytes twice never pays twice. Calls for one sending account arrive in
 * order from one thread (a round's sends may overlap on the node: {@link #broadcasting}).
 */
public interface ChainSender extends AutoCloseable {
  Chain chain();

  /** The node's name, recorded with each result. */
  String nodeName();

  /** The most payouts one transaction may carry: 1 for account chains, many for Bitcoin. */
  int maxPayoutsPerUnit();

  /**
   * The most transactions to prepare before broadcasting them: each holds wallet inputs or a nonce
   * until it is broadcast.
   */
  int maxUnitsPerRound();

  /**
   * Builds and signs one transaction paying {@code payouts} from {@code source}.
   *
   * @throws NodeUnavailableException when the node could not be reached; nothing was signed
   */
  Preparation prepare(String source, List<Payout> payouts)
      throws NodeUnavailableException, InterruptedException;

  /**
   * Broadcasts a journaled unit's bytes and checks the node holds the transaction and can mine it:
   * BROADCAST, FAILED (the node refused them, and they can never be mined), UNKNOWN, a conflict
   * (prepare anew) or wait (broadcast the same bytes again later).
   *
   * @throws NodeUnavailableException when the node could not be reached; the unit stays as it was
   */
  SendOutcome broadcast(JournalEntry unit) throws NodeUnavailableException, InterruptedException;

  /**
   * Told the journaled units a round is about to {@link #broadcast}, in that order, before the
   * first of them: a sender may start some sends ahead of their turn, each unit still settled at
   * its turn. The round closes what this returns once it is over, whether or not every unit had its
   * turn; by then nothing it started is still on its way.
   */
  default Round broadcasting(List<JournalEntry> units) {
    return Round.NONE;
  }

  /** A round of broadcasts, closed when it ends. */
  interface Round extends AutoCloseable {
    Round NONE = () -> {};

    @Override
    void close() throws InterruptedException;
  }

  /** The chain's blocks through the same node rotation and budget, for the confirmation tracker. */
  ChainBlocks blocks();

  /** Forgets what this sender cached about accounts (nonces): their owner may have changed. */
  void reset();

  /**
   * After a rebalance that left this consumer only partitions it held throughout (no other consumer
   * owned them meanwhile): what the sender saw of transactions may stay, but a timer that counts
   * how long a unit has looked wrong must start over, since nothing was looked at while the group
   * rebalanced. Forgets everything ({@link #reset}) unless a sender knows better.
   */
  default void rebalanced() {
    reset();
  }

  /**
   * Forgets what this sender cached about one account: another consumer may have sent for it since,
   * or transactions this one signed for it were left unbroadcast.
   */
  default void forget(String account) {}

  /**
   * Told, before a partition's payouts are prepared, its units mined and followed to their depth: a
   * reorganisation may yet take their blocks, and then they are mined again, so what they cost is
   * not the balance's to spend while their blocks are gone. Replaces what it was told before.
   */
  default void following(List<JournalEntry> units) {}

  /**
   * True while this sender still knows what it signed for the account and not seen mined: the next
   * transaction it signs for it cannot take the nonce or coins of one in flight. Only a sender that
   * answers {@link SendOutcome#inFlight} answers true.
   */
  default boolean remembers(String account) {
    return false;
  }

  /**
   * Told the payouts a round is about to prepare one per unit, before any is (none, every round it
   * has none): a sender may read in one call what each would otherwise ask of the node alone. What
   * it learns holds for this round only; a failure here decides nothing (each asks alone then).
   */
  default void preview(List<Payout> singles) throws InterruptedException {}

  /**
   * A replacement of the unit's transaction at a higher fee: same nonce, same payment, so that at
   * most one of them is ever mined. Not sent: the caller journals it first.
   *
   * @throws NodeUnavailableException when the node could not be reached; nothing was signed
   */
  default Replacement replace(JournalEntry unit)
      throws NodeUnavailableException, InterruptedException {
    return new Replacement.NotNow(chain() + " transactions are not replaced here");
  }

  /**
   * Bitcoin: a child transaction lifting a unit's transaction, sent and not mined, to a higher fee
   * per vbyte by spending its change back to the wallet (child pays for parent). The unit's own
   * transaction, and so what it pays whom, stays as it is. Not sent: the caller journals it first
   * and then calls {@link #sendChild}.
   *
   * @throws NodeUnavailableException when the node could not be reached; nothing was signed
   */
  default Replacement bumpByChild(JournalEntry unit)
      throws NodeUnavailableException, InterruptedException {
    return new Replacement.NotNow(chain() + " transactions are not lifted by children here");
  }

  /**
   * Broadcasts the unit's newest child, just journaled. What the node answers changes nothing: a
   * child pays no payout, and the next lift finds out from the chain which children stand.
   */
  default void sendChild(JournalEntry unit) throws InterruptedException {}

  @Override
  default void close() {}
}
