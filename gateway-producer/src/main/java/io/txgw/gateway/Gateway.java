package io.txgw.gateway;

import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.txgw.common.address.AddressCodec;
import io.txgw.common.kafka.TopicLayout;
import io.txgw.common.kafka.Topics;
import io.txgw.common.metrics.Telemetry;
import io.txgw.common.validation.BatchRules;
import io.txgw.common.validation.BatchValidator;
import io.txgw.gateway.approval.ApprovalBook;
import io.txgw.gateway.events.DeliveryLog;
import io.txgw.gateway.events.EventLog;
import io.txgw.gateway.events.WebhookDispatcher;
import io.txgw.gateway.http.AuditLog;
import io.txgw.gateway.http.GatewayHttp;
import io.txgw.gateway.http.HttpPorts;
import io.txgw.gateway.kafka.BatchWriter;
import io.txgw.gateway.kafka.FencedWriter;
import io.txgw.gateway.monitor.Backpressure;
import io.txgw.gateway.monitor.ConsumerLagWatch;
import io.txgw.gateway.monitor.NodeUseWatch;
import io.txgw.gateway.policy.DailySpend;
import io.txgw.gateway.status.BatchView;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.net.PemKeyCertOptions;
import java.io.Closeable;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.Producer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The gateway process: topics, Kafka writer and view, and the HTTP server. */
public final class Gateway implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(Gateway.class);

  private final GatewayConfig config;
  private Vertx vertx;
  private BatchWriter writer;
  private BatchView view;
  private PrometheusMeterRegistry meters;
  private ConsumerLagWatch lag;
  private NodeUseWatch nodes;
  private final Map<Integer, KafkaClientMetrics> laneMetrics = new ConcurrentHashMap<>();
  private HttpServer server;
  private HttpServer admin;
  private AuditLog audit;
  private DailySpend dailySpend;
  private ApprovalBook approvals;
  private ApprovalDesk desk;
  private EventLog events;
  private DeliveryLog deliveries;
  private WebhookDispatcher webhooks;
  private GatewayHttp http;

  public Gateway(GatewayConfig config) {
    this.config = config;
  }

  /** Starts everything and returns once the HTTP port is bound and the view has caught up. */
  public Gateway start() throws InterruptedException {
    try {
      return startParts();
    } catch (RuntimeException | Error | InterruptedException e) {
      // What started is stopped: its threads would otherwise outlive a start that failed.
      try {
        close();
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  private Gateway startParts() throws InterruptedException {
    // Before any Kafka work: starting the writer lanes fences the gateway holding their
    // transactional ids, and a gateway whose port is taken is most often that same gateway still
    // running. A start that cannot serve must not take over from one that does.
    HttpPorts.ensureFree(config.httpHost(), config.httpPort(), "the HTTP API");
    HttpPorts.ensureFree(config.adminHost(), config.adminPort(), "the admin port");
    try (Admin admin = Admin.create(config.kafka().clientProperties())) {
      Topics.ensure(admin, config.topicPartitions(), config.topics());
      // Topics less durable than configured are refused before anything is written to them.
      Topics.checkSettings(admin, config.topics(), Topics.ALL);
      List<String> problems = Topics.approvalsProblems(admin);
      if (!problems.isEmpty()) {
        throw new IllegalStateException(String.join("; ", problems));
      }
    }
    // Before anything is written: a layout that would put accounts off their journal is refused.
    TopicLayout.check(config.kafka(), TopicLayout.Role.GATEWAY);
    meters = Telemetry.registry("gateway", config.instanceId());
    view = new BatchView(config.kafka(), config.instanceId(), config.stateDir(), config.topics());
    view.start();
    view.bindMetrics(meters);
    BatchWriter.ProducerFactory producers =
        BatchWriter.transactional(config.kafka(), "txgw-" + config.instanceId());
    writer =
        new BatchWriter(
            lane -> withMetrics(lane, producers.create(lane)),
            config.writerLanes(),
            BatchWriter.Timing.DEFAULT,
            config.seal());
    lag =
        new ConsumerLagWatch(config.kafka(), config.consumerGroup(), Clock.systemUTC(), meters)
            .start(Duration.ofSeconds(1));
    if (!config.zookeeper().isEmpty()) {
      nodes =
          new NodeUseWatch(config.zookeeper(), config.zookeeperAuth(), Clock.systemUTC())
              .start(Duration.ofSeconds(1));
    }
    BatchValidator validator =
        new BatchValidator(
            new BatchRules(
                config.maxBatchPayouts(),
                config.maxPerPayout(),
                new AddressCodec(config.bitcoinNetwork()),
                config.assets()));
    dailySpend = DailySpend.start(config.kafka(), Clock.systemUTC());
    BatchService service =
        new BatchService(validator, writer, view, Clock.systemUTC(), config.policies(), dailySpend);
    approvals = ApprovalBook.start(config.kafka());
    desk =
        new ApprovalDesk(
                service,
                approvals,
                id -> FencedWriter.fencing(config.kafka(), id),
                Clock.systemUTC(),
                config.approvalWait(),
                config.maxPendingApprovals())
            .start(config.approvalSweep(), config.approvalWriteLease());
    if (config.approvalWriteLease().toSeconds() < 130) {
      log.warn(
          "TXGW_APPROVAL_WRITE_LEASE_S is {} s: another gateway may take over (and stop) an"
              + " approved batch's write that is still under way",
          config.approvalWriteLease().toSeconds());
    }
    meters.gauge("txgw.approvals.held", approvals, ApprovalBook::size);
    // Approved batches not known written for a lease and more: alert when it stays above zero.
    meters.gauge("txgw.approvals.writes.open", desk, ApprovalDesk::openWrites);
    events = EventLog.open(config.kafka());
    if (!config.webhooks().isEmpty()) {
      deliveries = DeliveryLog.open(config.kafka());
      webhooks = WebhookDispatcher.start(config.kafka(), config.webhooks(), deliveries, meters);
      log.info("webhooks of clients {}", config.webhooks().targets().keySet());
    }
    audit = new AuditLog(config.auditLog());
    desk.auditTo(audit::write, AuditLog::held);
    vertx = Vertx.vertx();
    GatewayHttp.Monitoring monitoring =
        new GatewayHttp.Monitoring(
            meters,
            lag,
            nodes,
            new Backpressure(config.maxLag(), lag::latest),
            config.maxLag(),
            writer::faults);
    try {
      http =
          new GatewayHttp(
              vertx,
              service,
              desk,
              config.apiKeys(),
              config.maxBodyBytes(),
              config.http(),
              audit,
              monitoring);
      http.withEventLog(events);
      PemKeyCertOptions tls =
          config.tlsCert() == null
              ? null
              : new PemKeyCertOptions()
                  .setCertPath(config.tlsCert().toString())
                  .setKeyPath(config.tlsKey().toString());
      server =
          http.listen(config.httpHost(), config.httpPort(), tls, config.http().idleTimeoutSeconds())
              .toCompletionStage()
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      admin =
          http.listenAdmin(config.adminHost(), config.adminPort())
              .toCompletionStage()
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot bind the HTTP API: " + e.getMessage(), e);
    }
    if (!dailySpend.awaitCaughtUp(Duration.ofSeconds(60))) {
      log.warn("the last 24 hours of batches are not read after 60 s; POST answers 503 until so");
    }
    if (!approvals.awaitCaughtUp(Duration.ofSeconds(60))) {
      log.warn("batches held for approval are not read after 60 s; POST answers 503 until so");
    }
    if (!view.awaitCaughtUp(Duration.ofSeconds(60))) {
      log.warn("batch status view has not caught up after 60 s; POST answers 503 until it has");
    }
    log.info(
        "gateway {} listening on {}://{}:{}, admin (metrics, health) on http://{}:{}",
        config.instanceId(),
        config.tlsCert() == null ? "http" : "https",
        config.httpHost(),
        port(),
        config.adminHost(),
        adminPort());
    return this;
  }

  /**
   * A lane's producer, its client metrics bound in place of its predecessor's: a lane replaces its
   * producer after a fatal error, and the old one's meters would report a closed client.
   */
  private Producer<String, byte[]> withMetrics(int lane, Producer<String, byte[]> producer) {
    // Called by one lane's thread at a time for a given lane; the old meters go before the new
    // ones register under the same names.
    KafkaClientMetrics old = laneMetrics.remove(lane);
    if (old != null) {
      old.close();
    }
    KafkaClientMetrics binder = new KafkaClientMetrics(producer);
    binder.bindTo(meters);
    laneMetrics.put(lane, binder);
    return producer;
  }

  public int port() {
    return server.actualPort();
  }

  /** The API's operations as {@code METHOD /path}, for checking its OpenAPI document. */
  public java.util.SortedSet<String> operations() {
    return http.operations();
  }

  /** The port of /metrics, /healthz and /readyz. */
  public int adminPort() {
    return admin.actualPort();
  }

  @Override
  public void close() {
    if (admin != null) {
      admin
          .close()
          .toCompletionStage()
          .toCompletableFuture()
          .orTimeout(10, TimeUnit.SECONDS)
          .join();
    }
    if (server != null) {
      server
          .close()
          .toCompletionStage()
          .toCompletableFuture()
          .orTimeout(10, TimeUnit.SECONDS)
          .join();
    }
    if (vertx != null) {
      vertx
          .close()
          .toCompletionStage()
          .toCompletableFuture()
          .orTimeout(10, TimeUnit.SECONDS)
          .join();
    }
    if (lag != null) {
      lag.close();
    }
    if (writer != null) {
      writer.close();
    }
    laneMetrics.values().forEach(KafkaClientMetrics::close);
    if (view != null) {
      view.close();
    }
    if (audit != null) {
      audit.close();
    }
    if (dailySpend != null) {
      dailySpend.close();
    }
    if (desk != null) {
      desk.close();
    }
    if (webhooks != null) {
      webhooks.close();
    }
    if (deliveries != null) {
      deliveries.close();
    }
    if (events != null) {
      events.close();
    }
    if (approvals != null) {
      approvals.close();
    }
    // Last: closing a ZooKeeper session that never connected can wait out its connect timeout,
    // and the Kafka writer must close within a supervisor's stop grace.
    if (nodes != null) {
      nodes.close();
    }
  }
}
