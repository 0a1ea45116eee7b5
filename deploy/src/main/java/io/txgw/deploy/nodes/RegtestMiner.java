package io.txgw.deploy.nodes;

import io.txgw.common.concurrent.Daemons;
import io.txgw.consumer.rpc.RpcException;
import java.io.Closeable;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mines a regtest block at a fixed interval, as the network would. Confirming often keeps the
 * wallet's chains of unconfirmed change short: bcoin's mempool rejects a transaction with 25
 * unconfirmed ancestors while its wallet still answers with a txid.
 */
public final class RegtestMiner implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(RegtestMiner.class);

  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(Daemons.named("regtest-miner"));

  public RegtestMiner(BcoinNode node, String address, Duration interval) {
    this(() -> List.of(node), address, interval);
  }

  /** Mines on the first of {@code nodes} that answers: a peered network goes on when one dies. */
  public RegtestMiner(Supplier<List<BcoinNode>> nodes, String address, Duration interval) {
    timer.scheduleWithFixedDelay(
        () -> {
          RpcException last = null;
          for (BcoinNode node : nodes.get()) {
            try {
              node.mine(1, address);
              return;
            } catch (RpcException e) {
              last = e;
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              return;
            }
          }
          log.warn("regtest block not mined: {}", last == null ? "no node" : last.getMessage());
        },
        interval.toMillis(),
        interval.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    timer.shutdownNow();
    try {
      timer.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
