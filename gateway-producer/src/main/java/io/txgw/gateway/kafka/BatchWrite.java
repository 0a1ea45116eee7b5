package io.txgw.gateway.kafka;

import java.util.concurrent.CompletableFuture;

/**
 * A batch handed to the {@link BatchWriter}.
 *
 * @param answer what its request is told, by the writer's deadline at the latest: completes when
 *     the batch is committed, fails with a {@link BatchWriteException} otherwise
 * @param fate what became of the batch, known later than the answer when the answer is "not
 *     confirmed" (it never fails, and never completes while the writer is closed with the batch's
 *     transaction open)
 */
public record BatchWrite(CompletableFuture<Void> answer, CompletableFuture<BatchFate> fate) {
  /** This batch was never sent, nor will be. */
  BatchWrite refused(Exception cause) {
    answer.completeExceptionally(cause);
    fate.complete(BatchFate.ABORTED);
    return this;
  }
}
