package io.txgw.gateway.kafka;

import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.BatchRecord;
import io.txgw.common.model.Payout;
import io.txgw.common.security.RecordSeal;
import java.io.Closeable;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Writes each accepted batch (its batch record and one {@code sendto} record per payout) in one
 * Kafka transaction, so a batch is either wholly visible to read_committed consumers or not at all.
 * Batches that arrive together share a transaction (group commit): one transaction per request
 * would cap the gateway at the ~100 transactions/s a broker manages.
 *
 * <p>Several lanes ({@link WriterLane}), each a transactional producer of its own, take groups from
 * one queue: while one lane waits for its commit (most of a transaction's time), another gathers
 * and sends the next group, so a request waits for about one commit rather than for the one before
 * it too. A lane survives every failure, replacing its producer when Kafka requires; and every
 * request has a deadline, so it is answered even while its lane is stuck.
 */
public final class BatchWriter implements Closeable {
  /** Bounds one transaction so that a burst cannot build one larger than the broker accepts. */
  private static final int MAX_RECORDS_PER_TRANSACTION = 50_000;

  /**
   * How long one producer call may block (max.block.ms), a commit included. Below the 60 s default
   * so that a lane learns of a stuck commit while its requests still wait for an answer.
   */
  static final Duration MAX_BLOCK = Duration.ofSeconds(10);

  /** Makes a lane's transactional producer: at start, and whenever the lane replaces one. */
  @FunctionalInterface
  public interface ProducerFactory {
    Producer<String, byte[]> create(int lane);
  }

  /**
   * How long things may take.
   *
   * @param deadline from {@link #write} to the request's answer, whatever the lane is doing
   * @param firstBackoff the wait before a lane's second producer rebuild without a commit between;
   *     doubled for each further one (a lane that keeps being fenced, or cannot reach Kafka)
   * @param idleProbe how long a lane whose last transaction failed waits for work before it checks
   *     with a fresh producer that it can write
   * @param stuckAfter how long a lane may hold a batch (from its queueing) before readiness names
   *     the lane: well above a commit's time, below the request's deadline (10 s unless given)
   */
  public record Timing(
      Duration deadline,
      Duration firstBackoff,
      Duration maxBackoff,
      Duration idleProbe,
      Duration stuckAfter,
      Clock clock) {
    /** A send, the lane's commit and the commit's one retry, each bounded by max.block.ms. */
    public static final Timing DEFAULT =
        new Timing(
            MAX_BLOCK.multipliedBy(3),
            Duration.ofMillis(200),
            MAX_BLOCK,
            Duration.ofSeconds(5),
            Duration.ofSeconds(10),
            Clock.systemUTC());

    public Timing(
        Duration deadline,
        Duration firstBackoff,
        Duration maxBackoff,
        Duration idleProbe,
        Clock clock) {
      this(deadline, firstBackoff, maxBackoff, idleProbe, Duration.ofSeconds(10), clock);
    }

    /** The same, with another deadline. */
    public Timing withDeadline(Duration deadline) {
      return new Timing(deadline, firstBackoff, maxBackoff, idleProbe, stuckAfter, clock);
    }
  }

  private final BlockingQueue<PendingBatch> queue = new LinkedBlockingQueue<>();
  private final List<WriterLane> lanes = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private final Object gathering = new Object();
  private final ScheduledThreadPoolExecutor deadlines;

  private final CountDownLatch closing = new CountDownLatch(1);
  private final Timing timing;
  private final BatchRecords batchRecords;
  private final FencedWriter fencedWriter;
  private volatile boolean closed;

  /**
   * @param factory see {@link #transactional}; each lane's producer is made and initialized here,
   *     so that a gateway that cannot reach Kafka fails at start
   */
  public BatchWriter(ProducerFactory factory, int lanes) {
    this(factory, lanes, Timing.DEFAULT);
  }

  /**
   * For tests with {@code MockProducer}s: one lane per producer. A lane that must replace its
   * producer finds no other, and stays unable to write.
   */
  public BatchWriter(List<? extends Producer<String, byte[]>> producers) {
    this(given(producers), producers.size());
  }

  private static ProducerFactory given(List<? extends Producer<String, byte[]>> producers) {
    Set<Integer> handedOut = ConcurrentHashMap.newKeySet();
    return lane -> {
      if (!handedOut.add(lane)) {
        throw new IllegalStateException("no producer to replace lane " + lane + "'s with");
      }
      return producers.get(lane);
    };
  }

  /**
   * @param factory see {@link #transactional}; each lane's producer is made and initialized here
   * @param timing see {@link Timing#DEFAULT}
   */
  public BatchWriter(ProducerFactory factory, int laneCount, Timing timing) {
    this(factory, laneCount, timing, null);
  }

  /**
   * @param seal seals every {@code sendto} record so that consumers pay it; null writes them
   *     unsealed (writer tests), and consumers then refuse them
   */
  public BatchWriter(ProducerFactory factory, int laneCount, Timing timing, RecordSeal seal) {
    this.batchRecords = new BatchRecords(seal);
    this.fencedWriter = new FencedWriter(batchRecords);
    this.timing = timing;
    this.deadlines =
        new ScheduledThreadPoolExecutor(
            1,
            task -> {
              Thread t = new Thread(task, "batch-writer-deadlines");
              t.setDaemon(true);
              return t;
            });
    // An answered request's timer goes at once, rather than holding its batch until its deadline.
    deadlines.setRemoveOnCancelPolicy(true);
    try {
      for (int i = 0; i < laneCount; i++) {
        lanes.add(new WriterLane(i, factory, this, timing));
      }
    } catch (RuntimeException e) {
      lanes.forEach(lane -> lane.closeProducer(Duration.ZERO));
      deadlines.shutdownNow();
      throw e;
    }
    for (WriterLane lane : lanes) {
      Thread thread = new Thread(lane, lane.name());
      thread.setDaemon(true);
      threads.add(thread);
    }
    threads.forEach(Thread::start);
  }

  /**
   * The gateway's producers: lane i uses {@code transactionalId-i}, so a restart with the same id
   * and lane count fences every lane of its predecessor.
   */
  public static ProducerFactory transactional(KafkaConnection kafka, String transactionalId) {
    return lane -> createProducer(kafka, transactionalId + "-" + lane);
  }

  /**
   * How the gateway's producers write, transactions aside: durable (acks=all, idempotent) and in
   * large batches. Public so that a benchmark's bare producer writes exactly as the gateway does.
   */
  public static Map<String, Object> writeSettings(KafkaConnection kafka) {
    Map<String, Object> props = kafka.clientProperties();
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    props.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.MAX_MESSAGE_BYTES);
    return props;
  }

  static Producer<String, byte[]> createProducer(KafkaConnection kafka, String transactionalId) {
    Map<String, Object> props = writeSettings(kafka);
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    // Back-to-back transactions meet CONCURRENT_TRANSACTIONS; the 100 ms default backoff
    // makes small transactions several times slower.
    props.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 10);
    props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 60_000);
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) MAX_BLOCK.toMillis());
    return new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
  }

  /** The answer of {@link #submit}, for callers that need not know a batch's later fate. */
  public CompletableFuture<Void> write(BatchRecord batch, List<Payout> payouts) {
    return submit(batch, payouts).answer();
  }

  /**
   * Hands a batch to the lanes. Its answer completes when the batch is committed, or fails with a
   * {@link BatchWriteException} that says whether the batch may be written all the same, by the
   * writer's deadline at the latest; its fate follows. The records are serialized here, on the
   * caller's thread: the writer lanes would otherwise spend most of their time in JSON and cap the
   * gateway at what one core serializes.
   */
  public BatchWrite submit(BatchRecord batch, List<Payout> payouts) {
    BatchWrite write = new BatchWrite(new CompletableFuture<>(), new CompletableFuture<>());
    if (closed) {
      return refused(write, closedException());
    }
    List<ProducerRecord<String, byte[]>> records;
    try {
      records = batchRecords.of(batch, payouts);
    } catch (SerializationException | BatchWriteException e) {
      return refused(write, e);
    }
    PendingBatch pending = new PendingBatch(records, write, timing.clock().instant());
    String deadline = timing.deadline().toMillis() + " ms";
    ScheduledFuture<?> timer;
    try {
      timer =
          deadlines.schedule(
              () -> pending.expire(deadline), timing.deadline().toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // close() stopped the timers between the check above and here.
      return refused(write, closedException());
    }
    write.answer().whenComplete((ok, error) -> timer.cancel(false));
    queue.add(pending);
    if (closed) {
      // close() may have drained the queue just before this batch joined it.
      failQueued();
    }
    return write;
  }

  /**
   * Writes a batch in a transaction of its own under a fencing producer: see {@link FencedWriter}.
   */
  public BatchWrite submitFenced(
      FencedWriter.Fenced fenced, BatchRecord batch, List<Payout> payouts) {
    return fencedWriter.submit(fenced, batch, payouts);
  }

  private static BatchWrite refused(BatchWrite write, Exception cause) {
    return write.refused(cause);
  }

  /**
   * The next transaction's batches: whatever is queued and not past its deadline, up to the size
   * bound. One lane gathers at a time, so that the others find the queue as it left it and the
   * bound holds.
   */
  List<PendingBatch> nextGroup() throws InterruptedException {
    synchronized (gathering) {
      List<PendingBatch> group = new ArrayList<>();
      PendingBatch first;
      do {
        first = queue.poll(200, TimeUnit.MILLISECONDS);
        if (first == null) {
          return group;
        }
      } while (!first.take());
      group.add(first);
      int records = first.size();
      PendingBatch next;
      while ((next = queue.peek()) != null) {
        if (!next.isExpired() && records + next.size() > MAX_RECORDS_PER_TRANSACTION) {
          break;
        }
        queue.remove();
        if (next.take()) {
          group.add(next);
          records += next.size();
        }
      }
      return group;
    }
  }

  boolean isClosed() {
    return closed;
  }

  /**
   * Waits, for a lane's backoff, until the writer closes.
   *
   * @return true when it has
   */
  boolean awaitClosing(Duration wait) throws InterruptedException {
    return closing.await(wait.toNanos(), TimeUnit.NANOSECONDS);
  }

  private void failQueued() {
    PendingBatch p;
    while ((p = queue.poll()) != null) {
      if (p.take()) {
        p.fail(closedException());
      }
    }
  }

  private static BatchWriteException closedException() {
    return new BatchWriteException(
        BatchWriteException.Reason.CLOSED, "batch writer is closed", null);
  }

  /** Takes work: not closed, and some lane has a producer to write with. */
  public boolean isOpen() {
    return !closed && lanes.stream().anyMatch(WriterLane::hasProducer);
  }

  /** The lanes that cannot write now, and why; empty when every lane can. */
  public List<LaneFault> faults() {
    return lanes.stream().map(WriterLane::fault).filter(Objects::nonNull).toList();
  }

  @Override
  public void close() {
    closed = true;
    closing.countDown();
    for (Thread thread : threads) {
      try {
        thread.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    for (int i = 0; i < lanes.size(); i++) {
      if (threads.get(i).isAlive()) {
        // Stuck in a producer call: closing the producer ends the call, and the lane answers.
        lanes.get(i).closeProducer(Duration.ofSeconds(5));
      }
    }
    failQueued();
    // Not shutdownNow: a request that a stuck lane still holds gets its answer at its deadline.
    deadlines.shutdown();
    fencedWriter.close();
  }
}
