package io.txgw.deploy;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
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

    /** Checked at the end of the hold, before the repair: the fault did what it should. */
    default void whileFaulty() throws Exception {}
  }

  /**
   * What a drill found. Losses and duplicates must be zero.
   *
   * @param sendtoWrong payouts missing from {@code sendto}, or on it more than once though their
   *     batch was never answered in doubt
   * @param sendtoCopies payouts on {@code sendto} more than once because their batch, answered
   *     {@code 503 write-unconfirmed} or not answered at all, was posted again while its first
   *     write was in doubt: a record, not a payment (the consumers pay a payout id of a source
   *     once)
   */
  record Report(
      String name,
      int payouts,
      int lost,
      int paidTwice,
      int resultsWrong,
      int sendtoWrong,
      int sendtoCopies,
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
          "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f",
          name,
          payouts,
          lost,
          paidTwice,
          resultsWrong,
          sendtoWrong,
          sendtoCopies,
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
  private final String ethSource;
  private final Map<String, GatewayClient> clients = new ConcurrentHashMap<>();

  /** Every payout this drill posted, by batch id: checked again after later drills. */
  private final Map<String, List<PayoutLine>> lines = new LinkedHashMap<>();

  /**
   * By batch id, the answers that left its write in doubt: each may have written it once more than
   * the one that was taken.
   */
  private final Map<String, Integer> batchesInDoubt = new ConcurrentHashMap<>();

  private final List<PayoutLine> eth = new ArrayList<>();
  private final List<PayoutLine> btc = new ArrayList<>();

  /**
   * @param gateways the gateways' base URLs now (a restarted gateway may listen elsewhere)
   * @param ethSource the account the ETH payouts are sent from, whose partition the fault hits
   */
  Drill(
      LocalStack stack,
      String name,
      int payouts,
      Supplier<List<String>> gateways,
      String ethSource) {
    this.stack = stack;
    this.name = name;
    this.payouts = payouts;
    this.gateways = gateways;
    this.ethSource = ethSource;
  }

  String name() {
    return name;
  }

  Report run(Fault fault) throws Exception {
    long start = System.nanoTime();
    PayoutFactory factory =
        new PayoutFactory(new AddressCodec(BitcoinNetwork.BCOIN_REGTEST), name.hashCode());
    Map<String, BatchSubmission> batches = new LinkedHashMap<>();
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
              ? new BatchSubmission(batchId, "ETH", ethSource, batch)
              : new BatchSubmission(batchId, "BTC", BcoinNode.WALLET, batch));
    }
    List<String> ids = new ArrayList<>(batches.keySet());
    int third = ids.size() / 3;
    Posting posting = new Posting();
    long faultAt;
    long repairedAt;
    double recover;
    int duringFault;
    boolean repaired = false;
    try {
      posting.awaitTaken(posting.post(ids.subList(0, third), batches));
      int before = posting.accepted.get();
      // The second third is on its way when the fault strikes: requests are in flight.
      List<Future<?>> second = posting.post(ids.subList(third, 2 * third), batches);
      faultAt = System.nanoTime();
      log.info("drill {}: fault", name);
      fault.inject();
      posting.awaitTaken(second);
      long struck = faultAt;
      await()
          .atMost(fault.hold().plusMinutes(1))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> System.nanoTime() - struck >= fault.hold().toNanos());
      fault.whileFaulty();
      duringFault = posting.accepted.get() - before;
      repaired = true;
      fault.repair();
      repairedAt = System.nanoTime();
      log.info("drill {}: repaired", name);
      await()
          .atMost(Duration.ofMinutes(3))
          .pollInterval(Duration.ofMillis(200))
          .ignoreExceptions()
          .until(fault::recovered);
      recover = (System.nanoTime() - repairedAt) / 1e9;
      posting.awaitTaken(posting.post(ids.subList(2 * third, ids.size()), batches));
    } catch (Exception | AssertionError e) {
      if (!repaired) {
        // The next drill starts from a whole cluster, whatever this one found.
        try {
          fault.repair();
        } catch (Exception again) {
          e.addSuppressed(again);
        }
      }
      throw e;
    } finally {
      posting.close();
    }

    GatewayClient client = client(stack.gatewayUrl());
    await()
        .atMost(Duration.ofMinutes(3).plusSeconds(payouts / 20))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> Pending.of(client, lines) == 0);
    double allFinal = (System.nanoTime() - start) / 1e9;

    int[] onChain = checkChain();
    Set<String> ours = ids();
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
    int wrong = wrongResults(perPayout);
    Sendto sendto = checkSendto();
    // The results' timestamps are wall-clock: the fault's moment on the same clock.
    long faultMillis = System.currentTimeMillis() - (System.nanoTime() - faultAt) / 1_000_000;
    Report report =
        new Report(
            name,
            ours.size(),
            onChain[0],
            onChain[1],
            wrong,
            sendto.wrong(),
            sendto.copies(),
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

  /** Every payout id this drill posted. */
  Set<String> ids() {
    Set<String> ours = new java.util.HashSet<>();
    lines.values().forEach(batch -> batch.forEach(l -> ours.add(l.id())));
    return ours;
  }

  /**
   * Each recipient's balance on chain, after a block on top: {lost, paid twice or wrongly}. A fresh
   * recipient per payout makes a second payment show as a second output or a doubled balance.
   */
  int[] checkChain() throws Exception {
    stack.bcoin().mine(1, stack.bcoin().newWalletAddress());
    OnChainCheck chain = new OnChainCheck(stack);
    List<OnChainCheck.Mismatch> mismatches = new ArrayList<>(chain.check(Chain.ETH, eth));
    mismatches.addAll(chain.check(Chain.BTC, btc));
    int lost = 0;
    int wrong = 0;
    for (OnChainCheck.Mismatch m : mismatches) {
      // ETH: the balance ("0.000000000000000000" when nothing came); BTC: the outputs ("[]").
      boolean none = m.found().equals("[]") || m.found().matches("0(\\.0*)?");
      if (none) {
        lost++;
      } else {
        wrong++;
      }
      log.error(
          "drill {}: payout {} to {}: expected {}, found {}",
          name,
          m.payoutId(),
          m.address(),
          m.expected(),
          m.found());
    }
    return new int[] {lost, wrong};
  }

  /** Payouts whose results are not BROADCAST then CONFIRMED once, with one txid. */
  int wrongResults() {
    Set<String> ours = ids();
    Map<String, List<PayoutResult>> perPayout = new HashMap<>();
    for (ConsumerRecord<String, PayoutResult> r :
        TopicReader.readAll(stack.kafkaBootstrap(), Topics.RESULTS, PayoutResult.class)) {
      if (ours.contains(r.value().payoutId())) {
        perPayout.computeIfAbsent(r.value().payoutId(), k -> new ArrayList<>()).add(r.value());
      }
    }
    return wrongResults(perPayout);
  }

  private int wrongResults(Map<String, List<PayoutResult>> perPayout) {
    int wrong = ids().size() - perPayout.size();
    for (List<PayoutResult> rs : perPayout.values()) {
      boolean right =
          rs.size() == 2
              && rs.get(0).status() == PayoutStatus.BROADCAST
              && rs.get(1).status() == PayoutStatus.CONFIRMED
              && rs.get(0).txid().equals(rs.get(1).txid());
      wrong += right ? 0 : 1;
    }
    return wrong;
  }

  /** Payouts on {@code sendto}, as {@link Report#sendtoWrong} and {@link Report#sendtoCopies}. */
  record Sendto(int wrong, int copies) {}

  /**
   * Payouts on {@code sendto} as its consumers read it. Each must be there; more than once only
   * when its batch was answered in doubt and posted again, since the gateway writes a batch whose
   * first write it cannot confirm again rather than keep the client waiting (see {@link Report}).
   */
  Sendto checkSendto() {
    Set<String> ours = ids();
    Map<String, Integer> mayBeCopied = new HashMap<>();
    batchesInDoubt.forEach(
        (b, doubts) -> lines.get(b).forEach(l -> mayBeCopied.put(l.id(), doubts)));
    Map<String, Integer> seen = new HashMap<>();
    for (ConsumerRecord<String, JsonNode> r :
        TopicReader.readAll(stack.kafkaBootstrap(), Topics.SENDTO, JsonNode.class)) {
      String id = r.value().path("id").asText();
      if (ours.contains(id)) {
        seen.merge(id, 1, Integer::sum);
      }
    }
    int wrong = ours.size() - seen.size();
    int copies = 0;
    for (Map.Entry<String, Integer> e : seen.entrySet()) {
      int extra = e.getValue() - 1;
      if (extra > mayBeCopied.getOrDefault(e.getKey(), 0)) {
        wrong++;
      } else if (extra > 0) {
        copies++;
      }
    }
    return new Sendto(wrong, copies);
  }

  /** One client per gateway URL: each holds an HTTP client and its threads. */
  private GatewayClient client(String url) {
    return clients.computeIfAbsent(url, u -> new GatewayClient(u, stack.apiKey()));
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

    /** Starts posting these batches, four at a time, each until answered 202. */
    List<Future<?>> post(List<String> batchIds, Map<String, BatchSubmission> batches) {
      List<Future<?>> running = new ArrayList<>();
      for (String id : batchIds) {
        running.add(threads.submit(() -> postUntilTaken(batches.get(id))));
      }
      return running;
    }

    /** Returns once each was answered 202; one given up on fails the drill here. */
    void awaitTaken(List<Future<?>> running) throws Exception {
      for (Future<?> f : running) {
        f.get();
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
                  GatewayClient.Answer answer = client(url).postBatch(batch);
                  status = answer.status();
                  if (status == 503
                      && answer.body() != null
                      && answer.body().path("type").asText().endsWith(":write-unconfirmed")) {
                    batchesInDoubt.merge(batch.batchId(), 1, Integer::sum);
                  }
                } catch (java.net.ConnectException | java.net.http.HttpConnectTimeoutException e) {
                  status = -1; // not connected: nothing was sent
                } catch (IOException e) {
                  // No answer: the gateway is gone, or the answer was lost after a write.
                  status = -1;
                  batchesInDoubt.merge(batch.batchId(), 1, Integer::sum);
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
      threads.shutdownNow();
      log.info("drill {}: answers {}", name, answers);
    }
  }
}
