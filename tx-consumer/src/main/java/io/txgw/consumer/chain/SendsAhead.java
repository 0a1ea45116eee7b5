package io.txgw.consumer.chain;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.model.JournalEntry;
import io.txgw.consumer.rpc.RpcException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.function.Predicate;

/**
 * One round's sends of journaled bytes, a few of them started ahead of their turn so that the node
 * works on several at once. Called one at a time, a node that answers a send in 7 ms takes about
 * 140 a second whatever its budget; started {@code width} at a time, in the round's order, it takes
 * as many as the budget allows.
 *
 * <p>Only the calls overlap. Each unit is still settled at its turn, on the round's thread, from
 * its own send's answer, as if it had been sent then. A unit is started ahead only while its turn
 * would send it at once: signed here and not sent yet, so nothing asked of the chain comes before
 * its send. Its bytes are journaled (the round broadcasts journaled units only), so a unit sent
 * ahead whose turn never comes (the round stopped: the node, a lease, the pass's time) is one sent
 * early: once the node took it, it is followed through the blocks like any sent unit, else sent
 * again at its next turn. Nothing is paid twice.
 *
 * <p>Transactions of one account may reach the node a few nonces out of order. A node that mines in
 * blocks holds a transaction above the account's next nonce until the gap fills (geth's and
 * Erigon's queued transactions, Besu's and Nethermind's future ones, anvil's pending), and {@code
 * width} keeps the gap well inside their limits. The sender uses this only on such a chain.
 *
 * <p>Bounded: at most {@code width} sends started and not yet taken at any time; the round waits
 * for all of them before it ends ({@link #close}).
 */
public final class SendsAhead implements AutoCloseable {
  /** Sends one transaction's bytes: the node's answer, or why it has none. */
  interface Send {
    JsonNode send(String rawTransaction) throws RpcException, InterruptedException;
  }

  /**
   * An executor that runs what it holds only when asked: the simulation's, which chooses in which
   * order the sends reach its node.
   */
  public interface Deferred extends Executor {
    /**
     * Runs some of what it holds, in an order of its choosing, at least until {@code call} is done.
     */
    void runUntilDone(java.util.concurrent.Future<?> call);
  }

  private final List<JournalEntry> units;
  private final Map<String, Integer> positions = new HashMap<>();
  private final Predicate<JournalEntry> sendsAtOnce;
  private final java.util.function.Consumer<JournalEntry> started;
  private final java.util.function.Consumer<JournalEntry> sentEarly;
  private final Send send;
  private final Executor executor;
  private final int width;
  private final Map<String, CompletableFuture<JsonNode>> ahead = new HashMap<>();

  /** Set once a send failed while sends overlapped: the rest of the round goes one at a time. */
  private boolean refused;

  /** The first unit of the round not yet looked at for a start. */
  private int next;

  /**
   * @param units the round's units in the order their turns come
   * @param sendsAtOnce whether a unit's turn would send it before anything else is asked
   * @param started told each unit as its send starts ahead of its turn, on the round's thread
   * @param sentEarly told, as the round ends, each unit whose turn never came though the node took
   *     its send
   * @param width the most sends started and not yet taken, the unit whose turn it is included
   */
  SendsAhead(
      List<JournalEntry> units,
      Predicate<JournalEntry> sendsAtOnce,
      java.util.function.Consumer<JournalEntry> started,
      java.util.function.Consumer<JournalEntry> sentEarly,
      Send send,
      Executor executor,
      int width) {
    this.units = List.copyOf(units);
    for (int i = 0; i < this.units.size(); i++) {
      positions.putIfAbsent(this.units.get(i).txid(), i);
    }
    this.sendsAtOnce = sendsAtOnce;
    this.started = started;
    this.sentEarly = sentEarly;
    this.send = send;
    this.executor = executor;
    this.width = Math.max(1, width);
  }

  /**
   * Sends the unit's journaled bytes at its turn, or takes the answer to its send started ahead;
   * then starts the next units' sends, up to the width.
   */
  JsonNode send(JournalEntry unit) throws RpcException, InterruptedException {
    CompletableFuture<JsonNode> own = ahead.remove(unit.txid());
    boolean wasAhead = own != null;
    Integer at = positions.get(unit.txid());
    if (own == null) {
      // Not started ahead: first of the round, or not of it. Started before the ones after it, so
      // that the node sees the account's nonces in order as far as the calls allow.
      own = start(unit.rawTransaction());
    }
    if (at == null) {
      return answer(own);
    }
    next = Math.max(next, at + 1);
    refused |= wasAhead && own.isCompletedExceptionally();
    for (CompletableFuture<JsonNode> call : ahead.values()) {
      refused |= call.isCompletedExceptionally();
    }
    while (!refused && next < units.size() && ahead.size() < width - 1) {
      JournalEntry later = units.get(next++);
      if (!ahead.containsKey(later.txid()) && sendsAtOnce.test(later)) {
        started.accept(later);
        ahead.put(later.txid(), start(later.rawTransaction()));
      }
    }
    try {
      return answer(own);
    } catch (RpcException e) {
      if (!wasAhead) {
        throw e;
      }
      // Refused or unanswered after it started ahead of its turn, maybe for arriving before its
      // predecessor, or at a node that takes fewer at once: the rest of the round goes one at a
      // time.
      refused = true;
      if (e.kind().outcomeUnknown() || e.kind() == RpcException.Kind.NODE_ERROR) {
        throw e;
      }
      // The node never saw it (held back by the budget it competed for, refused a connection):
      // sent once more at its turn, as it would have been, though later ones may be on their way.
      return send.send(unit.rawTransaction());
    }
  }

  /** Whether a send started ahead of its turn failed. */
  boolean refused() {
    return refused;
  }

  private CompletableFuture<JsonNode> start(String raw) {
    CompletableFuture<JsonNode> call;
    try {
      call = supply(raw);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // The threads are gone (the consumer closes): sent here, on the round's thread.
      CompletableFuture<JsonNode> inline = new CompletableFuture<>();
      try {
        inline.complete(send.send(raw));
      } catch (RpcException ex) {
        inline.completeExceptionally(ex);
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        inline.completeExceptionally(ex);
      }
      return inline;
    }
    return call;
  }

  private CompletableFuture<JsonNode> supply(String raw) {
    CompletableFuture<JsonNode> call =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return send.send(raw);
              } catch (RpcException e) {
                throw new CompletionException(e);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CompletionException(e);
              }
            },
            executor);
    // Run on the calling thread (an executor that runs at once): an error there is the round's
    // own, at this moment, not an answer for later.
    rethrowError(call);
    return call;
  }

  private static void rethrowError(CompletableFuture<JsonNode> call) {
    if (call.isCompletedExceptionally()) {
      try {
        call.getNow(null);
      } catch (CompletionException e) {
        if (e.getCause() instanceof Error error) {
          throw error;
        }
      } catch (java.util.concurrent.CancellationException e) {
        // Nothing to rethrow.
      }
    }
  }

  private JsonNode answer(CompletableFuture<JsonNode> call)
      throws RpcException, InterruptedException {
    if (executor instanceof Deferred deferred) {
      deferred.runUntilDone(call);
      ahead.values().forEach(SendsAhead::rethrowError);
    }
    try {
      return call.get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RpcException rpc) {
        throw rpc;
      }
      if (cause instanceof InterruptedException) {
        // The sending thread was stopped: the consumer closes. The unit stays journaled, and is
        // settled from the chain by whoever takes it next.
        throw new InterruptedException("the send was interrupted before an answer");
      }
      if (cause instanceof RuntimeException runtime) {
        throw runtime;
      }
      if (cause instanceof Error error) {
        throw error;
      }
      throw new IllegalStateException(cause);
    }
  }

  /**
   * Waits for every send started ahead and not taken: when the round ends, nothing it started is
   * still on its way to the node (unless the wait is interrupted: the consumer closes). A unit the
   * node took is told {@code sentEarly}; any other is sent again at its next turn.
   */
  @Override
  public void close() throws InterruptedException {
    Map<String, CompletableFuture<JsonNode>> left = new HashMap<>(ahead);
    ahead.clear();
    for (Map.Entry<String, CompletableFuture<JsonNode>> e : left.entrySet()) {
      CompletableFuture<JsonNode> call = e.getValue();
      if (executor instanceof Deferred deferred) {
        deferred.runUntilDone(call);
        left.values().forEach(SendsAhead::rethrowError);
      }
      try {
        call.get();
        // Taken by the node: its unit is sent, and its next turn follows it rather than sending
        // the same bytes again.
        sentEarly.accept(units.get(positions.get(e.getKey())));
      } catch (ExecutionException failed) {
        // Not taken, or not known to be: the unit's next turn sends it again. An error is no
        // answer.
        if (failed.getCause() instanceof Error error) {
          throw error;
        }
      }
    }
  }
}
