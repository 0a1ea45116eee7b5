package io.txgw.deploy;

import static org.awaitility.Awaitility.await;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Chain;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.model.PayoutStatus;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.PayoutLine;
import io.txgw.deploy.nodes.BcoinNode;
import io.txgw.loadgen.GatewayClient;
import io.txgw.loadgen.PayoutFactory;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One fault drill on the local cluster. Payouts (half ETH, half BTC, a fresh recipient each) are
 * posted in batches, in three parts: the first before the fault, the second while it lasts, the
 * third after its repair. Clients post to the gateways in turn and post a batch that was not
 * answered 202 again under its {@code batchId}, to the next gateway, as the API says is safe. Once
 * every payout is final, the chain is read for each recipient's balance (a payout lost or paid
 * twice shows there) and the results topic for each payout's results (BROADCAST once, then
 * CONFIRMED once).
 */
final class Drill {
  private static final Logger log = LoggerFactory.getLogger(Drill.class);

  /** Payouts per posted batch. */
  static final int PER_BATCH = 50;

  /** Where each drill's report line is appended, for {@code run-drills.sh}. */
  static final Path REPORT = Path.of("target", "drills", "report.tsv");

  /** What is done to the cluster, and how to tell that it is whole again. */
  interface Fault {
    void inject() throws Exception;

    void repair() throws Exception;

    /** Whether the part the fault hit serves again as before it. */
    boolean recovered() throws Exception;

    /** The least time the fault lasts (a cut longer than a session, say). */
    default Duration hold() {
      return Duration.ZERO;
    }
  }

  /** What a drill found. Losses and duplicates must be zero. */
  record Report(
      String name,
      int payouts,
      int lost,
      int paidTwice,
      int resultsWrong,
      int batchesTakenDuringFault,
      int retries,
      double longestBatchWaitSeconds,
      double faultSeconds,
      double recoverSeconds,
      double firstPaidSeconds,
      double allFinalSeconds) {
    String line() {
      return String.format(
          Locale.ROOT,
          "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f",
          name,
          payouts,
          lost,
          paidTwice,
          resultsWrong,
          batchesTakenDuringFault,
          retries,
          longestBatchWaitSeconds,
          faultSeconds,
          recoverSeconds,
          firstPaidSeconds,
          allFinalSeconds);
    }
  }

  private final LocalStack stack;
  private final String name;
  private final int payouts;
  private final Supplier<List<String>> gateways;

  /**
   * @param gateways the gateways' base URLs now (a restarted gateway may listen elsewhere)
   */
  Drill(LocalStack stack, String name, int payouts, Supplier<List<String>> gateways) {
    this.stack = stack;
    this.name = name;
    this.payouts = payouts;
    this.gateways = gateways;
  }

  Report run(Fault fault) throws Exception {
    long start = System.nanoTime();
    PayoutFactory factory =
        new PayoutFactory(new AddressCodec(BitcoinNetwork.BCOIN_REGTEST), name.hashCode());
    Map<String, BatchSubmission> batches = new LinkedHashMap<>();
    Map<String, List<PayoutLine>> lines = new LinkedHashMap<>();
    List<PayoutLine> eth = new ArrayList<>();
    List<PayoutLine> btc = new ArrayList<>();
    int batchCount = Math.max(3, payouts / PER_BATCH);
    for (int b = 0; b < batchCount; b++) {
      boolean isEth = b % 2 == 0;
      String batchId = name + "-" + b;
      List<PayoutLine> batch =
          isEth
              // At most 0.001 ETH and 0.001 BTC each: ten thousand fit the funded accounts well.
              ? factory.payouts(
                  Chain.ETH, batchId, PER_BATCH, BigInteger.ONE, new BigInteger("1000000000000000"))
              : factory.payouts(
                  Chain.BTC,
                  batchId,
                  PER_BATCH,
                  BigInteger.valueOf(1_000),
                  BigInteger.valueOf(100_000));
      (isEth ? eth : btc).addAll(batch);
      lines.put(batchId, batch);
      batches.put(
          batchId,
          isEth
              ? new BatchSubmission(batchId, "ETH", stack.ethSource(), batch)
              : new BatchSubmission(batchId, "BTC", BcoinNode.WALLET, batch));
    }
    List<String> ids = new ArrayList<>(batches.keySet());
    int third = ids.size() / 3;
    Posting posting = new Posting();

    posting.post(ids.subList(0, third), batches);
    long faultAt = System.nanoTime();
    log.info("drill {}: fault", name);
    fault.inject();
    AtomicInteger before = new AtomicInteger(posting.accepted.get());
    posting.post(ids.subList(third, 2 * third), batches);
    await()
        .atMost(fault.hold().plusMinutes(1))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> System.nanoTime() - faultAt >= fault.hold().toNanos());
    int duringFault = posting.accepted.get() - before.get();
    fault.repair();
    long repairedAt = System.nanoTime();
    log.info("drill {}: repaired", name);
    await()
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofMillis(200))
        .ignoreExceptions()
        .until(fault::recovered);
    double recover = (System.nanoTime() - repairedAt) / 1e9;
    posting.post(ids.subList(2 * third, ids.size()), batches);
    posting.close();

    GatewayClient client = new GatewayClient(stack.gatewayUrl(), stack.apiKey());
    await()
        .atMost(Duration.ofMinutes(3).plusSeconds(payouts / 20))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> Pending.of(client, lines) == 0);
    double allFinal = (System.nanoTime() - start) / 1e9;

    // A block on top, so the wallet's last payments are in a block the check reads.
    stack.bcoin().mine(1, stack.bcoin().newWalletAddress());
    OnChainCheck chain = new OnChainCheck(stack);
    List<OnChainCheck.Mismatch> mismatches = new ArrayList<>(chain.check(Chain.ETH, eth));
    mismatches.addAll(chain.check(Chain.BTC, btc));
    int lost = 0;
    int twice = 0;
    for (OnChainCheck.Mismatch m : mismatches) {
      BigInteger found = new BigInteger(m.found());
      if (found.signum() == 0) {
        lost++;
      } else {
        twice++;
      }
      log.error(
          "drill {}: payout {} to {}: expected {}, found {}",
          name,
          m.payoutId(),
          m.address(),
          m.expected(),
          m.found());
    }

    Set<String> ours = new java.util.HashSet<>();
    lines.values().forEach(batch -> batch.forEach(l -> ours.add(l.id())));
    Set<String> postedDuringFault = new java.util.HashSet<>();
    ids.subList(third, 2 * third)
        .forEach(id -> lines.get(id).forEach(l -> postedDuringFault.add(l.id())));
    Map<String, List<PayoutResult>> perPayout = new HashMap<>();
    long firstPaid = Long.MAX_VALUE;
    for (ConsumerRecord<String, PayoutResult> r :
        TopicReader.readAll(stack.kafkaBootstrap(), Topics.RESULTS, PayoutResult.class)) {
      if (ours.contains(r.value().payoutId())) {
        perPayout.computeIfAbsent(r.value().payoutId(), k -> new ArrayList<>()).add(r.value());
        if (postedDuringFault.contains(r.value().payoutId())) {
          firstPaid = Math.min(firstPaid, r.timestamp());
        }
      }
    }
    int wrong = ours.size() - perPayout.size();
    for (List<PayoutResult> rs : perPayout.values()) {
      boolean right =
          rs.size() == 2
              && rs.get(0).status() == PayoutStatus.BROADCAST
              && rs.get(1).status() == PayoutStatus.CONFIRMED
              && rs.get(0).txid().equals(rs.get(1).txid());
      wrong += right ? 0 : 1;
    }
    // The results' timestamps are wall-clock: the fault's moment on the same clock.
    long faultMillis = System.currentTimeMillis() - (System.nanoTime() - faultAt) / 1_000_000;
    Report report =
        new Report(
            name,
            ours.size(),
            lost,
            twice,
            wrong,
            duringFault,
            posting.retries.get(),
            posting.longestMillis.get() / 1000.0,
            (repairedAt - faultAt) / 1e9,
            recover,
            firstPaid == Long.MAX_VALUE ? -1 : (firstPaid - faultMillis) / 1000.0,
            allFinal);
    write(report);
    return report;
  }

  private static void write(Report report) throws IOException {
    Files.createDirectories(REPORT.getParent());
    Files.writeString(
        REPORT, report.line() + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    System.out.println("drill report: " + report);
  }

  /** Clients posting batches, each until taken, round the gateways. */
  private final class Posting implements AutoCloseable {
    final ExecutorService threads = Executors.newFixedThreadPool(4);
    final AtomicInteger accepted = new AtomicInteger();
    final AtomicInteger retries = new AtomicInteger();
    final AtomicLong longestMillis = new AtomicLong();
    final AtomicInteger turn = new AtomicInteger();
    final Map<Integer, Integer> answers = new ConcurrentHashMap<>();

    /** Posts these batches, four at a time, and returns once each was answered 202. */
    void post(List<String> batchIds, Map<String, BatchSubmission> batches) throws Exception {
      List<Future<?>> running = new ArrayList<>();
      for (String id : batchIds) {
        running.add(threads.submit(() -> postUntilTaken(batches.get(id))));
      }
      for (Future<?> f : running) {
        f.get(); // one given up on fails the drill here
      }
    }

    private Void postUntilTaken(BatchSubmission batch) {
      long started = System.nanoTime();
      await()
          .atMost(Duration.ofMinutes(3))
          .pollInterval(Duration.ofMillis(250))
          .until(
              () -> {
                List<String> urls = gateways.get();
                String url = urls.get(Math.floorMod(turn.getAndIncrement(), urls.size()));
                int status;
                try {
                  status = new GatewayClient(url, stack.apiKey()).postBatch(batch).status();
                } catch (IOException e) {
                  status = -1; // no answer: the gateway is gone, or the answer was lost
                }
                answers.merge(status, 1, Integer::sum);
                if (status != 202) {
                  retries.incrementAndGet();
                }
                return status == 202;
              });
      longestMillis.accumulateAndGet((System.nanoTime() - started) / 1_000_000, Math::max);
      accepted.incrementAndGet();
      return null;
    }

    @Override
    public void close() {
      threads.shutdown();
      log.info("drill {}: answers {}", name, answers);
    }
  }
}
