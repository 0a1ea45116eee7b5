package io.txgw.gateway.approval;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectReader;
import io.txgw.common.json.Json;
import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.Topics;
import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The approvals topic, read and written: every gateway follows it from its start and folds it
 * ({@link ApprovalFold}); a proposal (a hold or a decision) is written, then answered with the
 * batch's state once this gateway's fold has read past it, so the writer learns whether its record
 * was the one that counted. One partition: approvals are few, and one order decides every race.
 */
public final class ApprovalBook implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(ApprovalBook.class);
  private static final JsonSerde<ApprovalRecord> RECORDS = new JsonSerde<>(ApprovalRecord.class);
  private static final TopicPartition PARTITION = new TopicPartition(Topics.APPROVALS, 0);

  /** How long a proposal may take from its write to its answer. */
  static final Duration ANSWER_WITHIN = Duration.ofSeconds(15);

  /** How long a held batch is remembered, decided or not: half the topic's retention. */
  public static final Duration KEEP = Topics.APPROVALS_RETENTION.dividedBy(2);

  /** Batches one client may hold in any 24 hours: bounds what a client can put on the topic. */
  public static final int MAX_HOLDS_PER_DAY = ApprovalFold.MAX_HOLDS_PER_DAY;

  /** How long a write claim holds before another gateway may take the write over. */
  public static final Duration WRITE_LEASE = ApprovalFold.LEASE;

  /** At most this many bytes of proposals wait for the writer; more are refused at once. */
  static final long MAX_QUEUED_BYTES = 64L * 1024 * 1024;

  /** The fold's reader skips the held payouts: only an approval needs them, read by offset. */
  @JsonIgnoreProperties({"submission"})
  private abstract static class WithoutSubmission {}

  private static final ObjectReader FOLD_READER =
      Json.mapper()
          .copy()
          .addMixIn(ApprovalRecord.class, WithoutSubmission.class)
          .readerFor(ApprovalRecord.class);

  private final KafkaProducer<String, byte[]> producer;
  private final KafkaConsumer<String, byte[]> reader;
  private final KafkaConsumer<String, byte[]> fetcher;
  private final ApprovalFold fold;
  private final Thread thread;
  private final CountDownLatch caughtUp = new CountDownLatch(1);
  private final AtomicLong queuedBytes = new AtomicLong();

  /**
   * Send proposals off the callers' threads (a send can block on metadata): holds, which carry a
   * batch, apart from the small decisions, so that large holds never hold up a decision.
   */
  private final ThreadPoolExecutor holdSender = sender("approvals-holds");

  private final ThreadPoolExecutor decisionSender = sender("approvals-decisions");

  private static ThreadPoolExecutor sender(String name) {
    return new ThreadPoolExecutor(
        1,
        1,
        0,
        TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(256),
        task -> {
          Thread t = new Thread(task, name);
          t.setDaemon(true);
          return t;
        });
  }

  /** Guards the fold, the position and the waiters. */
  private final Object lock = new Object();

  private final List<Waiter> waiters = new ArrayList<>();
  private long position;
  private volatile boolean closed;
  private volatile boolean failing;

  private record Waiter(long offset, String key, CompletableFuture<Optional<ApprovalState>> done) {}

  private ApprovalBook(KafkaConnection kafka, ApprovalFold fold) {
    this.fold = fold;
    Map<String, Object> producerProps = kafka.clientProperties();
    producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
    producerProps.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    producerProps.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.MAX_MESSAGE_BYTES);
    producerProps.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
    producerProps.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 12_000);
    producerProps.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
    this.producer =
        new KafkaProducer<>(producerProps, new StringSerializer(), new ByteArraySerializer());
    Map<String, Object> readProps =
        Map.of(
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
            false,
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
            "earliest",
            ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG,
            Topics.MAX_MESSAGE_BYTES);
    this.reader =
        new KafkaConsumer<>(
            kafka.clientProperties(readProps),
            new StringDeserializer(),
            new ByteArrayDeserializer());
    this.fetcher =
        new KafkaConsumer<>(
            kafka.clientProperties(readProps),
            new StringDeserializer(),
            new ByteArrayDeserializer());
    this.thread = new Thread(this::read, "approvals");
    this.thread.setDaemon(true);
  }

  /** Reads the approvals topic from its start (its retention bounds that), then follows it. */
  public static ApprovalBook start(KafkaConnection kafka) {
    ApprovalBook book = new ApprovalBook(kafka, new ApprovalFold(KEEP));
    book.thread.start();
    return book;
  }

  /** Read to the end it found at start, and reading now. */
  public boolean isCaughtUp() {
    return caughtUp.getCount() == 0 && !failing;
  }

  public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
    return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  public Optional<ApprovalState> state(String client, String batchId) {
    synchronized (lock) {
      return fold.state(client + "/" + batchId);
    }
  }

  public List<ApprovalState> pending(String client) {
    synchronized (lock) {
      return fold.pending(client);
    }
  }

  public int pendingCount(String client) {
    synchronized (lock) {
      return fold.pendingCount(client);
    }
  }

  /** The client's holds in the 24 hours before {@code at}, as read so far. */
  public int holdsInDayBefore(String client, Instant at) {
    synchronized (lock) {
      return fold.holdsInDayBefore(client, at);
    }
  }

  /** Pending batches and approved ones whose write is open: what the sweep looks at. */
  public List<ApprovalState> open() {
    synchronized (lock) {
      return fold.open();
    }
  }

  /** How many batches the fold holds, pending or settled: for the bound's metric. */
  public int size() {
    synchronized (lock) {
      return fold.size();
    }
  }

  /**
   * Writes a proposal, and answers the state of its batch once this gateway has read past it. Fails
   * with {@link ProposalNotWrittenException} when it was certainly not written (too large, the
   * writer busy), and otherwise when the write fails or the answer takes longer than {@link
   * #ANSWER_WITHIN}: the record may have been written then, and its batch's state tells later.
   */
  public CompletableFuture<Optional<ApprovalState>> propose(ApprovalRecord proposal) {
    CompletableFuture<Optional<ApprovalState>> done = new CompletableFuture<>();
    byte[] value = RECORDS.serialize(Topics.APPROVALS, proposal);
    if (value.length > Topics.MAX_MESSAGE_BYTES - 1024) {
      done.completeExceptionally(
          new ProposalNotWrittenException(
              "the batch takes " + value.length + " bytes to hold, more than Kafka takes", true));
      return done;
    }
    boolean hold = proposal.kind() == ApprovalRecord.Kind.HOLD;
    if (hold && queuedBytes.addAndGet(value.length) > MAX_QUEUED_BYTES) {
      queuedBytes.addAndGet(-value.length);
      done.completeExceptionally(
          new ProposalNotWrittenException("the approvals writer is busy", false));
      return done;
    }
    try {
      (hold ? holdSender : decisionSender).execute(() -> send(proposal, value, done));
    } catch (RejectedExecutionException e) {
      if (hold) {
        queuedBytes.addAndGet(-value.length);
      }
      done.completeExceptionally(
          new ProposalNotWrittenException("the approvals writer is busy or closed", false));
    }
    return done.orTimeout(ANSWER_WITHIN.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void send(
      ApprovalRecord proposal, byte[] value, CompletableFuture<Optional<ApprovalState>> done) {
    if (proposal.kind() == ApprovalRecord.Kind.HOLD) {
      queuedBytes.addAndGet(-value.length);
    }
    if (done.isDone()) {
      // Its caller has its answer (a timeout): written now, it would count unseen.
      return;
    }
    try {
      producer.send(
          new ProducerRecord<>(Topics.APPROVALS, 0, proposal.key(), value),
          (meta, error) -> {
            if (error != null) {
              done.completeExceptionally(error);
              return;
            }
            synchronized (lock) {
              if (position > meta.offset()) {
                done.complete(fold.state(proposal.key()));
              } else {
                waiters.add(new Waiter(meta.offset(), proposal.key(), done));
              }
            }
          });
    } catch (KafkaException e) {
      done.completeExceptionally(e);
    }
  }

  /**
   * The batch's state once this gateway has read the approvals topic to the end it has now: every
   * record written before this call is in it.
   */
  public Optional<ApprovalState> stateAsOfNow(String client, String batchId)
      throws InterruptedException {
    long end;
    synchronized (fetcher) {
      end = fetcher.endOffsets(List.of(PARTITION), Duration.ofSeconds(10)).get(PARTITION);
    }
    String key = client + "/" + batchId;
    CompletableFuture<Optional<ApprovalState>> done = new CompletableFuture<>();
    synchronized (lock) {
      if (position >= end) {
        return fold.state(key);
      }
      waiters.add(new Waiter(end - 1, key, done));
    }
    try {
      return done.get(ANSWER_WITHIN.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      done.cancel(false);
      throw new IllegalStateException("the approvals topic was not read to its end in time", e);
    }
  }

  /**
   * The record a HOLD wrote, read back from the topic at its offset: its payouts are kept there,
   * not in memory.
   *
   * @throws HeldContentUnavailableException when it cannot be read now, or is gone
   */
  public ApprovalRecord held(ApprovalState state) {
    synchronized (fetcher) {
      long first =
          fetcher.beginningOffsets(List.of(PARTITION), Duration.ofSeconds(10)).get(PARTITION);
      if (state.offset() < first) {
        throw new HeldContentUnavailableException(
            "batch " + state.batchId() + "'s held content is past the topic's retention", true);
      }
      fetcher.assign(List.of(PARTITION));
      fetcher.seek(PARTITION, state.offset());
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : fetcher.poll(Duration.ofMillis(500))) {
          if (r.offset() == state.offset()) {
            ApprovalRecord hold = RECORDS.deserialize(r.topic(), r.value());
            if (hold == null
                || hold.kind() != ApprovalRecord.Kind.HOLD
                || !hold.proposal().equals(state.holdProposal())
                || hold.submission() == null) {
              throw new HeldContentUnavailableException(
                  "approvals record at " + state.offset() + " is not the batch's hold", true);
            }
            return hold;
          }
          if (r.offset() > state.offset()) {
            throw new HeldContentUnavailableException(
                "approvals record at " + state.offset() + " is gone", true);
          }
        }
      }
      throw new HeldContentUnavailableException(
          "approvals record at " + state.offset() + " was not read in time", false);
    }
  }

  private void read() {
    long backoff = 500;
    long end = -1;
    while (!closed) {
      try {
        if (end < 0) {
          reader.assign(List.of(PARTITION));
          reader.seekToBeginning(List.of(PARTITION));
          end = reader.endOffsets(List.of(PARTITION), Duration.ofSeconds(30)).get(PARTITION);
        }
        ConsumerRecords<String, byte[]> records = reader.poll(Duration.ofMillis(200));
        // Parsed before the lock: readers of the fold wait only for its updates.
        List<Object[]> parsed = new ArrayList<>(records.count());
        for (ConsumerRecord<String, byte[]> r : records) {
          try {
            parsed.add(
                new Object[] {
                  FOLD_READER.readValue(r.value()), r.offset(), Instant.ofEpochMilli(r.timestamp())
                });
          } catch (IOException | RuntimeException e) {
            // Every gateway skips the same record: their states stay the same.
            log.warn("approvals record at {} skipped: {}", r.offset(), e.toString());
          }
        }
        synchronized (lock) {
          for (Object[] p : parsed) {
            try {
              fold.apply((ApprovalRecord) p[0], (Long) p[1], (Instant) p[2]);
            } catch (RuntimeException e) {
              // A record that passed parsing and still cannot be applied (a null inside it):
              // every gateway fails on it alike and skips it; the reader goes on.
              log.warn("approvals record at {} not applied: {}", p[1], e.toString());
            }
          }
          position = reader.position(PARTITION);
          for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
            Waiter w = it.next();
            if (w.offset() < position) {
              it.remove();
              w.done().complete(fold.state(w.key()));
            } else if (w.done().isDone()) {
              it.remove(); // answered by its timeout
            }
          }
        }
        if (failing) {
          log.info("approvals reader reading again at offset {}", position);
          failing = false;
        }
        backoff = 500;
        if (caughtUp.getCount() > 0 && position >= end) {
          caughtUp.countDown();
          log.info("approvals read to offset {}", position);
        }
      } catch (WakeupException e) {
        // closing
      } catch (RuntimeException e) {
        if (closed) {
          break;
        }
        // Not ready while it cannot read: holds and decisions wait for it rather than go by a
        // state that may be behind.
        failing = true;
        log.error("approvals reader failed, retrying in {} ms: {}", backoff, e.toString());
        try {
          Thread.sleep(backoff);
        } catch (InterruptedException interrupted) {
          break;
        }
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
    reader.close(CloseOptions.timeout(Duration.ofSeconds(5)));
  }

  @Override
  public void close() {
    closed = true;
    reader.wakeup();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    holdSender.shutdownNow();
    decisionSender.shutdownNow();
    producer.close(Duration.ofSeconds(5));
    synchronized (fetcher) {
      fetcher.close(CloseOptions.timeout(Duration.ofSeconds(5)));
    }
  }

  /** A proposal certainly not written; {@code tooLarge} when it never can be. */
  public static final class ProposalNotWrittenException extends RuntimeException {
    private final boolean tooLarge;

    ProposalNotWrittenException(String message, boolean tooLarge) {
      super(message, null, false, false);
      this.tooLarge = tooLarge;
    }

    public boolean tooLarge() {
      return tooLarge;
    }
  }

  /** A held batch's content cannot be read now ({@code gone}: nor ever). */
  public static final class HeldContentUnavailableException extends RuntimeException {
    private final boolean gone;

    HeldContentUnavailableException(String message, boolean gone) {
      super(message, null, false, false);
      this.gone = gone;
    }

    public boolean gone() {
      return gone;
    }
  }
}
