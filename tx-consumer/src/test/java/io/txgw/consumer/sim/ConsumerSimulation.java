package io.txgw.consumer.sim;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.txgw.common.json.Json;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Address;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.common.model.Payout;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.model.PayoutStatus;
import io.txgw.common.security.ClientPolicy;
import io.txgw.common.security.RecordSeal;
import io.txgw.consumer.AccountGuard;
import io.txgw.consumer.ManualClock;
import io.txgw.consumer.RecordIntake;
import io.txgw.consumer.SimulatedProcess;
import io.txgw.consumer.TestTrust;
import io.txgw.consumer.chain.BcoinSender;
import io.txgw.consumer.chain.BitcoinCoreSender;
import io.txgw.consumer.chain.ChainSender;
import io.txgw.consumer.chain.EthereumSender;
import io.txgw.consumer.finality.ChainFollower;
import io.txgw.consumer.finality.Finality;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.utils.Utils;

/**
 * One seeded run of the consumer against simulated Kafka, ZooKeeper and an Ethereum node: payouts
 * arrive, consumer processes poll, crash at any node call, freeze past their session, lose their
 * leases; the group rebalances; commits fail or lose their answer; the node throttles, times out
 * before or after acting, refuses connections, evicts pool transactions, words its errors like one
 * of several real nodes; someone else spends from a source account. Then the faults stop and the
 * run drains. Every decision comes from one {@link Random}, so a seed replays the same run.
 *
 * <p>Checked after every step: no committed {@code sendto} offset passes a payout that has neither
 * a result nor a journaled unit. Checked at the end: every payout has exactly one result; the chain
 * paid each BROADCAST one exactly once, with the recorded txid, and each FAILED one not at all;
 * nothing is left journaled; every partition drained.
 */
final class ConsumerSimulation {
  /** What one run found; {@code failure} is null when every invariant held. */
  record Result(
      long seed, String failure, List<String> trace, int steps, Map<String, Integer> seen) {
    boolean ok() {
      return failure == null;
    }
  }

  private static final int FAULT_STEPS = 400;

  /**
   * Rounds of a second each for the run to settle once the faults stop, past which an account is
   * taken to wait forever. The slowest finite path: the Kafka faults armed before the stop (one of
   * each kind, five at most) each undo a conflict's record after its minute (CONFLICT_AFTER) of
   * waiting, about 300 s; a unit then mined below the follower's window is looked up 5 to 65 s
   * later; a thawed process waits out its quarantine, 10 s. Seed 8011632 takes 404 rounds so; the
   * rest is margin. A stall never settles, however many rounds.
   */
  private static final int DRAIN_ROUNDS = 600;

  private static final int MAX_TRACE = 50_000;

  private final long seed;
  private final Random random;

  /** Ethereum sends a round may have started and not settled. */
  private final int sendsInFlight;

  private final List<String> trace = new ArrayList<>();
  private final ManualClock clock = new ManualClock();
  private final SimKafka kafka;
  private final SimEthNode node;
  private final SimBtcNode btc;
  private final int btcOutputs;
  private final SimLeases leases = new SimLeases();
  private final boolean guarded;
  private final int horizon;
  private final ChainFollower.Settings following;
  private final Duration bumpAfter;
  private final BigInteger ethCeiling;
  private final long btcCeiling;
  private final boolean btcSlowBlocks;
  private final List<String> sources = new ArrayList<>();
  private final List<Payout> toPost = new ArrayList<>();
  private final Map<String, Payout> posted = new LinkedHashMap<>();

  /** The spending rights and seal every process checks records against. */
  private RecordIntake intake;

  /** Whether someone without the gateway's key writes records to sendto in this run. */
  private boolean forging;

  /** Recipients of forged records: the chain must never pay them. */
  private final Set<String> forgedRecipients = new HashSet<>();

  /** Where each payout was first posted: a re-post comes within the horizon of it. */
  private final Map<String, Posted> firstPosts = new LinkedHashMap<>();

  private record Posted(int partition, long offset) {}

  private final List<Proc> procs = new ArrayList<>();
  private int nextSession = 1;

  /** The process whose loop pass is running, for faults that strike whoever gets there. */
  private Proc stepping;

  private final Map<String, Integer> counts = new HashMap<>();
  private int step;

  /**
   * The threads a round's sends overlap on, as the simulation's choices: what is started waits
   * until an answer is awaited, and then the sends held run in a seeded order, so that a unit's
   * successors can reach the node before it, and some only as the round ends.
   */
  private final class DeferredSends implements io.txgw.consumer.chain.SendsAhead.Deferred {
    private final List<Runnable> held = new ArrayList<>();

    @Override
    public void execute(Runnable send) {
      count("eth sends in rounds that start them ahead");
      held.add(send);
    }

    @Override
    public void runUntilDone(java.util.concurrent.Future<?> call) {
      while (!call.isDone() && !held.isEmpty()) {
        int i = random.nextInt(held.size());
        if (i != 0) {
          count("eth sends reaching the node out of order");
        }
        held.remove(i).run();
      }
    }
  }

  /** One consumer process: what dies with it is everything here but the Kafka logs. */
  private final class Proc {
    final int slot;
    int session;
    SimConsumer consumer;
    SimProducer producer;
    SimulatedProcess process;
    boolean alive;
    int frozenFor;
    Instant quarantinedUntil = Instant.MIN;

    Proc(int slot) {
      this.slot = slot;
    }

    void boot() {
      countRounds();
      session = nextSession++;
      leases.open(session);
      consumer = kafka.newConsumer("c" + slot + "-" + session);
      producer = null;
      AccountGuard guard = guarded ? leases.guardFor(session) : AccountGuard.unguarded();
      Map<Chain, ChainSender> senders =
          Map.of(
              Chain.ETH,
              new EthereumSender(
                      node,
                      clock,
                      x -> false,
                      ethCeiling,
                      new io.txgw.consumer.signing.AccountSigners(
                          java.util.List.of(new SimNodeSigner(node))),
                      SimEthNode.CHAIN_ID)
                  .replacingUndecodedAsCoin()
                  // Sends ahead of their turn, at once on this thread: a unit's later units reach
                  // the node before it is settled, and a stopped round leaves some sent early.
                  .sendingAhead(new DeferredSends(), sendsInFlight),
              Chain.BTC,
              btc.dialect() == SimBtcNode.Dialect.BCOIN
                  ? new BcoinSender(btc, btc, btc.walletName(), btcOutputs, Duration.ZERO, clock)
                      .withFeeCeiling(btcCeiling)
                      .liftingStuck(bumpAfter != null)
                  : new BitcoinCoreSender(btc, btc, btc.walletName(), btcOutputs, clock)
                      .withFeeCeiling(btcCeiling)
                      .liftingStuck(bumpAfter != null));
      process =
          new SimulatedProcess(
              consumer,
              // A new producer with the slot's id at each call: the process replaces one left
              // unusable as a restart would.
              () -> {
                if (producer != null) {
                  count("producers replaced in a running process");
                }
                return producer = kafka.newProducer("txgw-c" + slot);
              },
              senders,
              intake,
              p -> journalOf(p),
              horizon,
              guard,
              clock,
              () -> clock.instant().isBefore(quarantinedUntil),
              Finality.of(
                      senders,
                      Map.of(Chain.ETH, following, Chain.BTC, following),
                      clock,
                      new SimpleMeterRegistry())
                  .withBumps(
                      bumpAfter == null
                          ? Map.of()
                          : Map.of(Chain.ETH, bumpAfter, Chain.BTC, bumpAfter)));
      process.start();
      alive = true;
      frozenFor = 0;
      quarantinedUntil = Instant.MIN;
      log("boot c" + slot + " session " + session);
    }

    /** Rounds this process took while units were in flight, counted once. */
    void countRounds() {
      if (process != null && process.roundsWhileInFlight() > 0) {
        counts.merge("rounds while units in flight", process.roundsWhileInFlight(), Integer::sum);
      }
      if (process != null && process.sendersKept() > 0) {
        counts.merge(
            "rebalances the senders kept their memory through",
            process.sendersKept(),
            Integer::sum);
      }
      process = null;
    }

    void crash(String why) {
      log("crash c" + slot + ": " + why);
      count(why.startsWith("process killed") ? "crashes at a node call" : "crashes " + why);
      alive = false;
      kafka.kill(consumer);
      leases.expire(session);
    }
  }

  ConsumerSimulation(long seed) {
    this.seed = seed;
    this.random = new Random(seed);
    this.kafka = new SimKafka(1 + random.nextInt(3));
    kafka.strictCommitTimeouts(true);
    // Brokers of either transaction protocol; drawn apart from the run's own stream, so that a
    // seed's other choices stay what they were.
    boolean fatalTimeouts = new Random(~seed).nextBoolean();
    kafka.fatalTimeouts(fatalTimeouts);
    SimEthNode.Dialect[] dialects = SimEthNode.Dialect.values();
    SimEthNode.Dialect dialect = dialects[random.nextInt(dialects.length)];
    boolean automine = random.nextBoolean();
    this.node = new SimEthNode(random, dialect, automine, this::log, clock::instant);
    SimBtcNode.Dialect btcDialect =
        random.nextBoolean() ? SimBtcNode.Dialect.BCOIN : SimBtcNode.Dialect.CORE;
    // A wallet of a few coins, sometimes too few for every payout asked of it.
    long walletSats = random.nextInt(5) == 0 ? 150_000_000L : 50_000_000_000L;
    // Sometimes in many coins: transactions then seldom spend each other's change, which a child
    // lifting a stuck one spends.
    int coins = random.nextInt(3) == 0 ? 40 : 4;
    this.btc = new SimBtcNode(random, btcDialect, walletSats, coins, this::log, clock::instant);
    this.btcOutputs = 1 + random.nextInt(5);
    this.guarded = random.nextInt(4) != 0;
    // Small horizons make journal generations roll, and their tombstones fall, within a run.
    this.horizon = 1 + random.nextInt(12);
    // Shallow depths and short windows. A reorganisation takes fewer blocks than the depth: what
    // CONFIRMED promises, and nothing more.
    int depth = 2 + random.nextInt(3);
    // Stuck transactions replaced after a wait of a few seconds, in most runs; sometimes under a
    // fee ceiling the base fee rises past.
    this.bumpAfter = random.nextInt(4) == 0 ? null : Duration.ofSeconds(1 + random.nextInt(6));
    this.ethCeiling = random.nextInt(3) == 0 ? BigInteger.valueOf(2 + random.nextInt(20)) : null;
    // Bitcoin transactions pay 1.9 to 4.2 sat/vB when signed: children lift them a step or two.
    this.btcCeiling = 5 + random.nextInt(30);
    // Blocks far apart in some runs: transactions wait in the mempool long enough to be lifted.
    this.btcSlowBlocks = random.nextInt(3) == 0;
    // One send at a time in some runs, up to four in others.
    this.sendsInFlight = 1 + random.nextInt(4);
    this.following =
        new ChainFollower.Settings(
            depth,
            depth + 1 + random.nextInt(5),
            Duration.ofMillis(random.nextInt(2000)),
            Duration.ofSeconds(5 + random.nextInt(60)));
    log(
        "seed "
            + seed
            + ": "
            + kafka.partitions()
            + " partitions, "
            + dialect
            + ", automine "
            + automine
            + ", leases "
            + guarded
            + ", sends in flight "
            + sendsInFlight
            + ", transaction timeouts "
            + (fatalTimeouts ? "fatal" : "abortable"));
    int accounts = 1 + random.nextInt(4);
    for (int i = 0; i < accounts; i++) {
      String source = address(0xa0 + i);
      sources.add(source);
      // Some accounts can pay only part of what they are asked to.
      BigInteger ether = BigInteger.TEN.pow(18);
      node.fund(
          source,
          random.nextInt(5) == 0
              ? ether.multiply(BigInteger.valueOf(6))
              : ether.multiply(BigInteger.valueOf(1_000_000)));
    }
    int payouts = 3 + random.nextInt(30);
    int chains = random.nextInt(3); // 0: ETH only, 1: BTC only, 2: both
    for (int i = 0; i < payouts; i++) {
      if (chains == 1 || (chains == 2 && random.nextBoolean())) {
        toPost.add(btcPayout(i));
        continue;
      }
      String source = sources.get(random.nextInt(sources.size()));
      String amount =
          switch (random.nextInt(4)) {
            case 0 -> "0.000000000000000001";
            case 1 -> "1";
            case 2 -> "2.5";
            default -> "0." + (1 + random.nextInt(999_999));
          };
      if (random.nextInt(12) == 0) {
        // The recipient is a contract: never paid with a native transfer (acme may not).
        node.deployContractAt(address(0x1000 + i));
      }
      toPost.add(
          new Payout(
              "p" + i,
              "b" + (i / 10),
              "acme",
              Chain.ETH,
              Chain.ETH.nativeAsset(),
              source,
              new Address(address(0x1000 + i)),
              Amount.parse(amount),
              null,
              Instant.EPOCH));
    }
    Set<String> rights = new HashSet<>();
    sources.forEach(source -> rights.add(ClientPolicy.right(Chain.ETH, source)));
    rights.add(ClientPolicy.right(Chain.BTC, btc.walletName()));
    if (sources.size() > 1 && random.nextInt(4) == 0) {
      // The client lost its right to one account after its payouts were accepted: none is paid.
      String withdrawn = sources.get(random.nextInt(sources.size()));
      rights.remove(ClientPolicy.right(Chain.ETH, withdrawn));
      log("acme may not spend from " + withdrawn);
    }
    intake = TestTrust.intake("acme", rights);
    forging = random.nextInt(3) == 0;
    int processes = 1 + random.nextInt(3);
    for (int i = 0; i < processes; i++) {
      procs.add(new Proc(i));
    }
  }

  private Payout btcPayout(int i) {
    String amount =
        switch (random.nextInt(4)) {
          case 0 -> "0.00000100"; // dust: the wallet refuses it
          case 1 -> "0.5";
          case 2 -> "0.00012345";
          default -> "0.0" + (1 + random.nextInt(9_999));
        };
    return new Payout(
        "p" + i,
        "b" + (i / 10),
        "acme",
        Chain.BTC,
        Chain.BTC.nativeAsset(),
        btc.walletName(),
        TestTrust.btcAddress(i),
        Amount.parse(amount),
        null,
        Instant.EPOCH);
  }

  static Result run(long seed) {
    ConsumerSimulation sim = new ConsumerSimulation(seed);
    String failure;
    try {
      failure = sim.runAll();
    } catch (RuntimeException | AssertionError | InterruptedException e) {
      failure = "simulation error: " + e;
      sim.log(stackOf(e));
    }
    return new Result(seed, failure, sim.trace, sim.step, sim.seen());
  }

  private String runAll() throws InterruptedException {
    procs.forEach(Proc::boot);
    kafka.rebalance(random);
    node.faults(new SimEthNode.Faults(0.02, 0.03, 0.02, 0.03, 0.01, 0.01, 0.2));
    btc.faults(new SimEthNode.Faults(0.02, 0.03, 0.02, 0.03, 0.01, 0.01, 0.2));
    for (step = 0; step < FAULT_STEPS; step++) {
      faultStep();
      String broken = checkOffsets();
      if (broken != null) {
        return broken;
      }
    }
    return drain();
  }

  private void faultStep() throws InterruptedException {
    int roll = random.nextInt(100);
    if (roll < 50) {
      stepOne(procs.get(random.nextInt(procs.size())));
    } else if (roll < 62) {
      postSome();
    } else if (roll < 72) {
      advanceClock();
    } else if (roll < 76) {
      log("rebalance");
      kafka.rebalance(random);
    } else if (roll < 79) {
      Proc p = procs.get(random.nextInt(procs.size()));
      if (p.alive) {
        p.crash("killed");
      } else {
        p.boot();
      }
      if (random.nextBoolean()) {
        kafka.rebalance(random);
      }
    } else if (roll < 82) {
      freeze(procs.get(random.nextInt(procs.size())));
    } else if (roll < 84) {
      Proc p = procs.get(random.nextInt(procs.size()));
      if (p.alive) {
        // Curator reconnects with a new session: every lease is gone and must be taken anew.
        log("zookeeper session of c" + p.slot + " expired");
        leases.expire(p.session);
        leases.open(p.session);
      }
    } else if (roll < 88) {
      armKafkaFault();
    } else if (roll < 91) {
      node.evictOne();
    } else if (roll < 93) {
      String source = sources.get(random.nextInt(sources.size()));
      log("someone else spends from " + source);
      count("foreign spends");
      node.foreignSpend(source);
    } else if (roll < 95) {
      log("transaction timeouts");
      kafka.timeOutTransactions();
    } else if (roll < 97) {
      armFreezeInsideTransaction();
    } else if (roll < 98) {
      switch (random.nextInt(5)) {
        case 0 -> ethReorg();
        case 1 -> {
          // The base fee rises past what pooled transactions pay, or falls back.
          node.setFloor(
              random.nextBoolean()
                  ? BigInteger.ONE
                  : node.floor().multiply(BigInteger.valueOf(2 + random.nextInt(8))));
          count("base fee changes");
        }
        default -> node.mine(1 + random.nextInt(20));
      }
    } else {
      switch (random.nextInt(5)) {
        case 3 -> btcReorg();
        case 0 -> btc.mine(1 + random.nextInt(20));
        case 1 -> btc.evictOne();
        case 4 -> {
          count("btc wallet restarts");
          btc.restartWallet();
        }
        default -> {
          log("someone else spends a wallet coin");
          if (btc.foreignSpend()) {
            count("foreign wallet spends");
          }
        }
      }
    }
  }

  private void freeze(Proc p) {
    if (!p.alive || p.frozenFor > 0) {
      return;
    }
    p.frozenFor = 5 + random.nextInt(40);
    log("freeze c" + p.slot + " for " + p.frozenFor + " steps");
    if (random.nextBoolean() && kafka.liveMembers().contains(p.consumer)) {
      // Frozen past its session timeout: the group moves on without it.
      kafka.expire(p.consumer);
      if (guarded) {
        leases.expire(p.session);
      }
      kafka.rebalance(random);
    }
  }

  /**
   * The next process to reach the chosen point of a transaction stands still there (a GC pause, a
   * SIGSTOP) while the group moves its partitions to others, who poll meanwhile; then it carries on
   * into whatever happened, and notices the pause afterwards.
   */
  private void armFreezeInsideTransaction() {
    SimKafka.Call at = random.nextBoolean() ? SimKafka.Call.SEND_OFFSETS : SimKafka.Call.COMMIT;
    int others = 1 + random.nextInt(6);
    boolean timeout = random.nextInt(3) == 0;
    log("next transaction freezes before " + at);
    kafka.pauseBeforeNext(
        at,
        () -> {
          Proc frozen = stepping;
          log("c" + (frozen == null ? "?" : frozen.slot) + " frozen before " + at);
          if (frozen != null && kafka.liveMembers().contains(frozen.consumer)) {
            kafka.expire(frozen.consumer);
            if (guarded) {
              leases.expire(frozen.session);
            }
          }
          kafka.rebalance(random);
          if (timeout && frozen != null) {
            log("its transaction times out");
            kafka.timeOutTransaction(frozen.producer);
          }
          for (int i = 0; i < others; i++) {
            Proc other = procs.get(random.nextInt(procs.size()));
            if (other != frozen) {
              stepOne(other);
            }
          }
          if (frozen != null) {
            frozen.quarantinedUntil = clock.instant().plusSeconds(10);
            leases.open(frozen.session);
            log("c" + frozen.slot + " carries on");
          }
        });
  }

  private void armKafkaFault() {
    switch (random.nextInt(5)) {
      case 0 -> {
        log("next commit times out, committed");
        kafka.failNextCommit(new TimeoutException("commit answer lost"), true);
      }
      case 1 -> {
        log("next commit times out, not committed");
        kafka.failNextCommit(new TimeoutException("commit not answered"), false);
      }
      case 4 -> {
        // Past the loop's three asks: the outcome stays unknown, and the producer is replaced.
        boolean applied = random.nextBoolean();
        log("next commit times out three times, " + (applied ? "committed" : "not committed"));
        kafka.failNextCommits(new TimeoutException("commit never answered"), applied, 3);
      }
      case 2 -> {
        log("next send fails");
        kafka.failNextSend(new KafkaException("broker unavailable"));
      }
      default -> {
        log("next committed-offset read fails");
        kafka.failNextCommittedRead(new TimeoutException("offsets not answered"));
      }
    }
  }

  private void stepOne(Proc p) {
    if (!p.alive) {
      return;
    }
    if (p.frozenFor > 0) {
      p.frozenFor--;
      if (p.frozenFor == 0) {
        // The pause detector notices the gap and holds broadcasts back for a while.
        p.quarantinedUntil = clock.instant().plusSeconds(10);
        leases.open(p.session);
        log("c" + p.slot + " wakes up, quarantined");
      }
      return;
    }
    Proc outer = stepping;
    stepping = p;
    try {
      if (!p.process.pollOnce()) {
        p.crash("loop stopped on a fatal error");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (SimCrash e) {
      p.crash(e.getMessage());
    } catch (RuntimeException e) {
      // The loop's own handler would log this and stop; a supervisor restarts the process.
      String message = String.valueOf(e.getMessage());
      p.crash(
          "loop failed: "
              + e.getClass().getSimpleName()
              + " "
              + message.substring(0, Math.min(40, message.length())).replaceAll("[0-9]", "#"));
    } finally {
      stepping = outer;
    }
  }

  private void postSome() {
    if (forging && !posted.isEmpty() && random.nextInt(6) == 0) {
      forge(new ArrayList<>(posted.values()).get(random.nextInt(posted.size())));
    }
    if (toPost.isEmpty()) {
      if (!posted.isEmpty() && random.nextInt(4) == 0) {
        // A client posts a payout it posted before, as the gateway lets through only within its
        // own races (a retried write whose outcome was unknown, two instances at once): soon
        // after the first, within the consumer's deduplication horizon.
        int partition = random.nextInt(kafka.partitions());
        long end = kafka.committed(Topics.SENDTO, partition).size();
        List<Payout> recent = new ArrayList<>();
        for (var e : firstPosts.entrySet()) {
          if (e.getValue().partition() == partition && e.getValue().offset() >= end - horizon) {
            recent.add(posted.get(e.getKey()));
          }
        }
        if (!recent.isEmpty()) {
          post(recent.get(random.nextInt(recent.size())));
        }
      }
      return;
    }
    int n = 1 + random.nextInt(Math.min(8, toPost.size()));
    for (int i = 0; i < n; i++) {
      post(toPost.remove(0));
    }
  }

  /**
   * Someone who can write sendto but holds no gateway key posts the payout again to their own
   * address: unsealed, sealed by another key, or with the gateway's seal of the real record.
   */
  private void forge(Payout real) {
    String realKey = real.accountKey();
    if (kafka.partitions() > 1 && random.nextInt(4) == 0) {
      // The gateway's own sealed record, copied into a partition that is not its account's.
      int other =
          (partitionOf(realKey) + 1 + random.nextInt(kafka.partitions() - 1)) % kafka.partitions();
      byte[] realBytes = bytes(real);
      kafka.append(
          Topics.SENDTO,
          other,
          realKey,
          new SealedValue(realBytes, TestTrust.SEAL.seal(realKey, realBytes)));
      count("sealed records copied to another partition");
      log("copied " + real.id() + " into partition " + other);
      return;
    }
    Address thief =
        real.chain() == Chain.ETH
            ? new Address(address(0xbad000 + forgedRecipients.size()))
            : TestTrust.btcAddress(0xbad000 + forgedRecipients.size());
    forgedRecipients.add(thief.value().toLowerCase(Locale.ROOT));
    Payout forged =
        new Payout(
            real.id(),
            real.batchId(),
            real.clientId(),
            real.chain(),
            real.asset(),
            real.source(),
            thief,
            real.amount(),
            real.memo(),
            real.acceptedAt());
    String key = forged.accountKey();
    byte[] bytes = bytes(forged);
    byte[] seal =
        switch (random.nextInt(3)) {
          case 0 -> null;
          case 1 -> TestTrust.FORGER.seal(key, bytes);
          default -> TestTrust.SEAL.seal(key, bytes(real));
        };
    kafka.append(Topics.SENDTO, partitionOf(key), key, new SealedValue(bytes, seal));
    count("forged records");
    log("forged " + real.id() + " to " + thief);
  }

  private static byte[] bytes(Payout payout) {
    try {
      return Json.mapper().writeValueAsBytes(payout);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private int partitionOf(String key) {
    return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8)))
        % kafka.partitions();
  }

  private void post(Payout payout) {
    String key = payout.accountKey();
    int partition = partitionOf(key);
    byte[] bytes = bytes(payout);
    kafka.append(
        Topics.SENDTO, partition, key, new SealedValue(bytes, TestTrust.SEAL.seal(key, bytes)));
    long offset = kafka.committed(Topics.SENDTO, partition).size() - 1;
    firstPosts.putIfAbsent(payout.resultKey(), new Posted(partition, offset));
    posted.put(payout.resultKey(), payout);
    log(
        "post "
            + payout.id()
            + " "
            + payout.amount()
            + " from "
            + payout.source()
            + " to p"
            + partition);
  }

  private void advanceClock() {
    clock.advance(Duration.ofMillis(500 + random.nextInt(2500)));
    if (random.nextInt(3) == 0) {
      // The base fee moves: pooled transactions priced under it stick until replaced or until it
      // falls again, maybe after their replacement was journaled and before it was sent.
      node.setFloor(
          random.nextInt(3) == 0
              ? BigInteger.ONE
              : node.floor().multiply(BigInteger.valueOf(2 + random.nextInt(3))));
      count("base fee changes");
    }
    int eth = random.nextInt(6);
    if (eth < 2) {
      node.mine(1 + random.nextInt(50));
    } else if (eth == 2) {
      // A block holding what the pool had, soon taken back: the payouts in it are reorganised.
      node.mine(1);
      ethReorg();
    }
    int bitcoin = random.nextInt(btcSlowBlocks ? 18 : 6);
    if (bitcoin < 2) {
      btc.mine(1 + random.nextInt(50));
    } else if (bitcoin == 2) {
      btc.mine(1);
      btcReorg();
    }
  }

  /**
   * Takes blocks off the Ethereum chain, their transactions back in the pool (geth) or gone
   * (anvil); never one that has been the confirmation depth deep at any time, since that breaks
   * what CONFIRMED promises. Heights fall only here, so the highest seen so far is the height at
   * this call or an earlier one.
   */
  private void ethReorg() {
    ethHighest = Math.max(ethHighest, node.height());
    int depth = reorgDepth(node.height(), ethHighest, 1);
    if (depth > 0) {
      boolean back = random.nextBoolean();
      log("eth: reorganisation of " + depth + " blocks, transactions back to the pool " + back);
      count("eth reorgs");
      node.reorg(depth, back);
    }
  }

  private long ethHighest;
  private long btcHighest;

  /**
   * A random depth that leaves every block that ever had {@code following.depth()} blocks on top
   * (itself included) in the chain, and the first {@code keep} blocks; 0 when none can go.
   */
  private int reorgDepth(long height, long highest, long keep) {
    long lowestAllowed = Math.max(keep + 1, highest - following.depth() + 2);
    long most = height - lowestAllowed + 1;
    return most < 1 ? 0 : 1 + random.nextInt((int) most);
  }

  /** The same on the Bitcoin chain, whose first two blocks (genesis, funding) stay. */
  private void btcReorg() {
    btcHighest = Math.max(btcHighest, btc.height());
    int depth = reorgDepth(btc.height(), btcHighest, 2);
    if (depth > 0) {
      boolean back = random.nextBoolean();
      log("btc: reorganisation of " + depth + " blocks, transactions back to the pool " + back);
      count("btc reorgs");
      btc.reorg(depth, back);
    }
  }

  /** Faults off, everyone up, and every process polls until all is settled. */
  private String drain() throws InterruptedException {
    log("drain");
    node.faults(SimEthNode.Faults.NONE);
    btc.faults(SimEthNode.Faults.NONE);
    while (!toPost.isEmpty()) {
      post(toPost.remove(0));
    }
    for (Proc p : procs) {
      if (p.alive && p.frozenFor > 0) {
        p.frozenFor = 1;
        stepOne(p);
      }
      if (!p.alive) {
        p.boot();
      }
    }
    kafka.timeOutTransactions();
    kafka.rebalance(random);
    for (int round = 0; round < DRAIN_ROUNDS; round++, step++) {
      for (Proc p : procs) {
        stepOne(p);
        if (!p.alive) {
          p.boot();
          kafka.rebalance(random);
        }
      }
      String broken = checkOffsets();
      if (broken != null) {
        return broken;
      }
      int owned = kafka.assignments().values().stream().mapToInt(List::size).sum();
      if (owned < kafka.partitions()) {
        // A member that rejoined after its session expired waits for the next rebalance.
        kafka.rebalance(random);
      }
      clock.advance(Duration.ofSeconds(1));
      if (round == 0) {
        // The base fee falls back: every stuck transaction can be mined, at the price it has.
        node.setFloor(BigInteger.ONE);
      }
      node.foreignResend();
      node.mine(Integer.MAX_VALUE);
      // What the wallet does on its own (bcoin on reconnecting, Core every few hours): send its
      // transactions again. Until confirmations are tracked, a Bitcoin payout recorded BROADCAST
      // and then evicted from every mempool is paid only so.
      btc.walletResend();
      btc.mine(Integer.MAX_VALUE);
      if (settled()) {
        return checkFinal();
      }
    }
    return "did not drain within "
        + DRAIN_ROUNDS
        + " rounds: an account waits forever? "
        + progress();
  }

  private boolean settled() {
    for (int p = 0; p < kafka.partitions(); p++) {
      long end = kafka.committed(Topics.SENDTO, p).size();
      Long committed = kafka.groupOffsets().get(new TopicPartition(Topics.SENDTO, p));
      if (end > 0 && (committed == null || committed < end)) {
        return false;
      }
    }
    // Units followed to their depth count as pending until RECORDED.
    return pendingUnits().isEmpty() && resultsByKey().keySet().containsAll(posted.keySet());
  }

  /** What the run went through, to show which paths the seeds reach. */
  private Map<String, Integer> seen() {
    procs.forEach(Proc::countRounds);
    Map<String, Integer> seen = new java.util.TreeMap<>(counts);
    for (SimRecord r : kafka.committed(Topics.JOURNAL)) {
      JournalEntry e = (JournalEntry) r.value();
      String what =
          e == null ? "journal tombstones" : "journal " + e.state().name().toLowerCase(Locale.ROOT);
      seen.merge(what, 1, Integer::sum);
      if (e != null && !e.children().isEmpty()) {
        seen.merge("journal with children", 1, Integer::sum);
      }
    }
    if (node.minedFoundInBlockReceipts() > 0) {
      seen.merge(
          "eth receipts read a block at a time", node.minedFoundInBlockReceipts(), Integer::sum);
    }
    long[] highest = btc.highestChain();
    if (highest[0] > 3 * highest[1]) {
      seen.merge("btc packages lifted past 3 sat/vB", 1, Integer::sum);
    }
    for (SimRecord r : kafka.committed(Topics.RESULTS)) {
      seen.merge("results " + ((PayoutResult) r.value()).status(), 1, Integer::sum);
    }
    return seen;
  }

  private void count(String what) {
    counts.merge(what, 1, Integer::sum);
  }

  private String progress() {
    return "offsets "
        + kafka.groupOffsets()
        + ", pending units "
        + latestUnits().values().stream()
            .filter(
                u ->
                    u.state() == JournalEntry.State.PREPARED
                        || u.state() == JournalEntry.State.CONFIRMING)
            .map(
                u ->
                    u.unitId()
                        + " "
                        + u.state()
                        + " nonce "
                        + u.nonce()
                        + " block "
                        + u.blockHeight()
                        + " "
                        + u.payouts().stream().map(JournalEntry.Item::status).toList())
            .toList()
        + ", results "
        + resultsByKey().size()
        + " of "
        + posted.size()
        + ", owners "
        + kafka.assignments()
        + ", "
        + procs.stream()
            .filter(p -> p.alive)
            .map(
                p ->
                    "c"
                        + p.slot
                        + " paused "
                        + p.consumer.paused()
                        + " at "
                        + p.consumer.assignment().stream()
                            .map(tp -> tp.partition() + ":" + p.consumer.position(tp))
                            .toList())
            .toList();
  }

  /** No committed offset passes a payout with neither a result nor a journaled unit. */
  private String checkOffsets() {
    Set<String> covered = new HashSet<>(resultsByKey().keySet());
    for (JournalEntry unit : latestUnits().values()) {
      if (unit.state() != JournalEntry.State.ABANDONED) {
        unit.payouts().forEach(i -> covered.add(i.resultKey()));
      }
    }
    for (var e : kafka.groupOffsets().entrySet()) {
      List<SimRecord> records = kafka.committed(Topics.SENDTO, e.getKey().partition());
      for (SimRecord r : records) {
        if (r.offset() >= e.getValue()) {
          break;
        }
        String key = keyOf(r, e.getKey().partition());
        if (key != null && !covered.contains(key)) {
          return "committed offset "
              + e.getValue()
              + " of "
              + e.getKey()
              + " passes payout "
              + key
              + " at "
              + r.offset()
              + ", which has neither a result nor a journaled unit";
        }
      }
    }
    return null;
  }

  private String checkFinal() {
    Map<String, List<PayoutResult>> results = resultsByKey();
    Map<String, List<SimEthNode.Transfer>> paid = new HashMap<>();
    for (SimEthNode.Transfer t : node.transfers()) {
      paid.computeIfAbsent(t.to(), k -> new ArrayList<>()).add(t);
    }
    for (Payout payout : posted.values()) {
      List<PayoutResult> rs = results.getOrDefault(payout.resultKey(), List.of());
      List<PayoutResult> finals = rs.stream().filter(r -> r.status().isFinal()).toList();
      if (finals.size() != 1 || !rs.get(rs.size() - 1).status().isFinal()) {
        return payout.resultKey()
            + " has "
            + finals.size()
            + " final results, or a final one not last: "
            + rs;
      }
      for (int i = 1; i < rs.size(); i++) {
        PayoutStatus before = rs.get(i - 1).status();
        PayoutStatus now = rs.get(i).status();
        if (now == PayoutStatus.CONFIRMED && before != PayoutStatus.BROADCAST) {
          return payout.resultKey() + " CONFIRMED without BROADCAST before it: " + rs;
        }
        if (now == PayoutStatus.REPLACED && before.isFinal()) {
          return payout.resultKey() + " REPLACED after a final result: " + rs;
        }
        if (now == PayoutStatus.REORGED && before != PayoutStatus.BROADCAST) {
          return payout.resultKey() + " REORGED without BROADCAST before it: " + rs;
        }
      }
      PayoutResult result = finals.get(0);
      if (payout.chain() == Chain.BTC) {
        String broken = checkBitcoin(payout, result);
        if (broken != null) {
          return broken;
        }
        continue;
      }
      List<SimEthNode.Transfer> transfers =
          paid.getOrDefault(payout.to().value().toLowerCase(Locale.ROOT), List.of());
      if (result.status() == PayoutStatus.CONFIRMED && node.isContract(payout.to().value())) {
        return payout.resultKey() + " paid a contract: " + result;
      }
      if (result.status() == PayoutStatus.CONFIRMED) {
        if (transfers.size() != 1) {
          return payout.resultKey()
              + " is CONFIRMED and the chain paid it "
              + transfers.size()
              + " times";
        }
        SimEthNode.Transfer t = transfers.get(0);
        if (!t.value().equals(payout.amount().toUnits(18)) || !t.txid().equals(result.txid())) {
          return payout.resultKey() + " paid " + t + " but recorded " + result;
        }
      } else if (result.status() == PayoutStatus.FAILED) {
        if (!transfers.isEmpty()) {
          return payout.resultKey() + " is FAILED and the chain paid it: " + transfers;
        }
        if (String.valueOf(result.error()).startsWith("not-permitted: the recipient is a contract")
            && !node.isContract(payout.to().value())) {
          return payout.resultKey() + " refused as a contract, which it is not";
        }
      } else {
        return payout.resultKey() + " ended " + result.status();
      }
    }
    if (!pendingUnits().isEmpty()) {
      return "units left journaled: " + pendingUnits();
    }
    if (ethCeiling != null && node.highestMinedPrice().compareTo(ethCeiling) > 0) {
      return "a transaction was mined at gas price "
          + node.highestMinedPrice()
          + ", above the ceiling "
          + ethCeiling;
    }
    if (!btc.spentByChildAndPayout().isEmpty()) {
      return "a child and a payout transaction spent the same outputs: "
          + btc.spentByChildAndPayout();
    }
    long[] highest = btc.highestChain();
    if (highest[0] > btcCeiling * highest[1]) {
      return "a Bitcoin transaction and its children paid "
          + highest[0]
          + " sats for "
          + highest[1]
          + " vbytes, above the ceiling of "
          + btcCeiling
          + " sat/vB";
    }
    for (String thief : forgedRecipients) {
      if (paid.containsKey(thief)
          || btc.transfers().stream().anyMatch(t -> t.address().equalsIgnoreCase(thief))) {
        return "a forged record was paid, to " + thief;
      }
    }
    return null;
  }

  private String checkBitcoin(Payout payout, PayoutResult result) {
    List<SimBtcNode.Transfer> transfers =
        btc.transfers().stream().filter(t -> t.address().equals(payout.to().value())).toList();
    long sats = payout.amount().toUnits(8).longValueExact();
    if (result.status() == PayoutStatus.CONFIRMED) {
      if (transfers.size() != 1) {
        return payout.resultKey()
            + " is CONFIRMED and the chain paid it "
            + transfers.size()
            + " times: "
            + transfers;
      }
      SimBtcNode.Transfer t = transfers.get(0);
      if (t.sats() != sats || !t.txid().equals(result.txid())) {
        return payout.resultKey() + " paid " + t + " but recorded " + result;
      }
      return null;
    }
    if (result.status() == PayoutStatus.FAILED) {
      return transfers.isEmpty()
          ? null
          : payout.resultKey() + " is FAILED and the chain paid it: " + transfers;
    }
    return payout.resultKey() + " ended " + result.status();
  }

  private Map<String, List<PayoutResult>> resultsByKey() {
    Map<String, List<PayoutResult>> byKey = new HashMap<>();
    for (SimRecord r : kafka.committed(Topics.RESULTS)) {
      PayoutResult result = (PayoutResult) r.value();
      byKey.computeIfAbsent(result.resultKey(), k -> new ArrayList<>()).add(result);
    }
    return byKey;
  }

  private Map<String, JournalEntry> latestUnits() {
    Map<String, JournalEntry> latest = new LinkedHashMap<>();
    for (SimRecord r : kafka.committed(Topics.JOURNAL)) {
      JournalEntry e = (JournalEntry) r.value();
      if (e == null) {
        // A tombstone: the unit was settled long ago and forgotten; its result stays.
        latest.remove(r.key());
      } else {
        latest.put(e.unitId(), e);
      }
    }
    return latest;
  }

  private List<String> pendingUnits() {
    return latestUnits().values().stream()
        .filter(
            u ->
                u.state() == JournalEntry.State.PREPARED
                    || u.state() == JournalEntry.State.CONFIRMING)
        .map(JournalEntry::unitId)
        .toList();
  }

  private List<SimulatedProcess.Logged> journalOf(int partition) {
    if (kafka.hasOpenTransaction(Topics.JOURNAL, partition)) {
      // The real reader waits for the transaction to end; here the read fails and is retried.
      throw new KafkaException("journal partition " + partition + " has an open transaction");
    }
    return kafka.committed(Topics.JOURNAL, partition).stream()
        .map(r -> new SimulatedProcess.Logged(r.offset(), (JournalEntry) r.value()))
        .toList();
  }

  private String keyOf(SimRecord r, int partition) {
    if (!(r.value() instanceof SealedValue v)
        || TestTrust.SEAL.verify(r.key(), v.bytes(), v.seal()) != RecordSeal.Verdict.VALID
        || partitionOf(r.key()) != partition) {
      // Not a gateway's record: passing it without a result is right.
      return null;
    }
    try {
      return Json.mapper().readValue(v.bytes(), Payout.class).resultKey();
    } catch (java.io.IOException e) {
      return null;
    }
  }

  private void log(String line) {
    if (trace.size() < MAX_TRACE) {
      trace.add(step + " " + line);
    }
  }

  private static String address(int n) {
    return TestTrust.ethAddress(n);
  }

  private static String stackOf(Throwable e) {
    java.io.StringWriter out = new java.io.StringWriter();
    e.printStackTrace(new java.io.PrintWriter(out));
    return out.toString();
  }
}
