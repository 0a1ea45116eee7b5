package io.txgw.consumer.nodes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.txgw.common.budget.MemberReport;
import io.txgw.common.budget.Share;
import io.txgw.common.concurrent.Daemons;
import io.txgw.common.config.Secret;
import io.txgw.common.model.Chain;
import io.txgw.consumer.rpc.JsonRpcClient;
import io.txgw.consumer.rpc.RetryPolicy;
import io.txgw.consumer.rpc.Rpc;
import io.txgw.consumer.rpc.RpcEndpoint;
import io.txgw.consumer.rpc.RpcException;
import io.txgw.coordinator.nodes.NodeSpec;
import io.txgw.coordinator.nodes.NodeUrls;
import java.io.Closeable;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The nodes of one chain as this consumer uses them. Every call goes to one node, the primary, and
 * stays there while it is healthy, because a wallet's locked coins and an account's nonces live in
 * one node; the primary is the healthy node of highest weight (ties spread consumers by a hash of
 * their id). A health check every second asks each node its block height: a node that does not
 * answer, or lags the best height by more than {@code maxLag} blocks, leaves the rotation and
 * returns once it answers in sync. Every call, the health checks included, passes the node's {@link
 * NodeLimiter}.
 */
public final class NodePool implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(NodePool.class);

  /** Short: a node that does not answer leaves the rotation rather than hold the loop. */
  private static final RetryPolicy RETRY =
      new RetryPolicy(3, Duration.ofMillis(100), Duration.ofMillis(400));

  private final Chain chain;
  private final String memberId;
  private final OkHttpClient http;
  private final Duration timeout;
  private final long maxLag;
  private final Credentials credentials;
  private final BooleanSupplier paused;
  private final Function<String, Grant> shareOf;

  /**
   * A share of a node and when the table it comes from was computed (0: from no table), read from
   * one table together.
   */
  public record Grant(Share share, long tableAt) {}

  private final Duration maxWait;
  private final MeterRegistry meters;
  private final Map<String, Endpoint> endpoints = new ConcurrentSkipListMap<>();
  // Entries refused as they are, so that an unchanged one is not reported on every update.
  private final Map<String, NodeSpec> unusable = new ConcurrentSkipListMap<>();
  private final ScheduledExecutorService checker;
  private volatile Endpoint primary;

  /** The chain id every Ethereum node must serve; 0 until the consumer knows it. */
  private volatile long expectedChainId;

  private volatile boolean pauseLogged;

  /** One node: its spec, clients for its ports, its gate, and what the last check saw. */
  public static final class Endpoint {
    final NodeSpec spec;
    final JsonRpcClient node;
    final JsonRpcClient wallet;
    final NodeLimiter limiter;

    /** Null until checked. */
    volatile Boolean healthy;

    volatile long height = -1;

    /** The chain id it serves (Ethereum), once asked; a node on another chain takes no calls. */
    volatile Long chainId;

    Endpoint(NodeSpec spec, JsonRpcClient node, JsonRpcClient wallet, NodeLimiter limiter) {
      this.spec = spec;
      this.node = node;
      this.wallet = wallet;
      this.limiter = limiter;
    }

    /**
     * Only a node a check found answering and in sync takes calls: a node still syncing would
     * answer from a stale chain (a wallet without its coins refuses payouts as unfunded).
     */
    boolean inRotation() {
      return !spec.drained() && Boolean.TRUE.equals(healthy);
    }

    public NodeSpec spec() {
      return spec;
    }

    /** True once a check found it answering and in sync, false after a failure; null before. */
    public Boolean healthy() {
      return healthy;
    }

    public long height() {
      return height;
    }

    /** This consumer's current share of the node. */
    public Share share() {
      return limiter.share();
    }
  }

  /**
   * @param credentials admits a spec and resolves its credentials reference to the secret
   * @param shareOf this consumer's current share of a node, by node name
   */
  public NodePool(
      Chain chain,
      String memberId,
      OkHttpClient http,
      Duration timeout,
      long maxLag,
      Credentials credentials,
      BooleanSupplier paused,
      Function<String, Grant> shareOf,
      Duration maxWait,
      MeterRegistry meters) {
    this.meters = meters;
    this.chain = chain;
    this.memberId = memberId;
    this.http = http;
    this.timeout = timeout;
    this.maxLag = maxLag;
    this.credentials = credentials;
    this.paused = paused;
    this.shareOf = shareOf;
    this.maxWait = maxWait;
    this.checker = Executors.newSingleThreadScheduledExecutor(Daemons.named("health-" + chain));
  }

  public Chain chain() {
    return chain;
  }

  /** Checks health every {@code period}; the first check runs before this returns. */
  public NodePool start(Duration period) {
    checkHealth();
    checker.scheduleWithFixedDelay(
        this::checkHealth, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  /** Takes the registry's view of this chain's nodes: new ones join, changed ones are rebuilt. */
  public synchronized void update(Collection<NodeSpec> specs) {
    Map<String, NodeSpec> wanted = new TreeMap<>();
    specs.stream().filter(s -> s.chain() == chain).forEach(s -> wanted.put(s.name(), s));
    unusable.keySet().retainAll(wanted.keySet());
    for (String name : List.copyOf(endpoints.keySet())) {
      if (!wanted.containsKey(name)) {
        endpoints.remove(name);
        log.info("{} node {} left the registry", chain, name);
      }
    }
    for (NodeSpec spec : wanted.values()) {
      Endpoint old = endpoints.get(spec.name());
      if (old != null && old.spec.equals(spec)) {
        continue;
      }
      if (old != null && sameConnection(old.spec, spec)) {
        // Limits, weight or drain changed: keep the clients, gate and health.
        Endpoint kept = new Endpoint(spec, old.node, old.wallet, old.limiter);
        kept.healthy = old.healthy;
        kept.height = old.height;
        kept.chainId = old.chainId;
        endpoints.put(spec.name(), kept);
      } else {
        Endpoint built = admit(spec, old);
        if (built == null) {
          continue;
        }
        endpoints.put(spec.name(), built);
      }
      log.info(
          "{} node {} {}: {}{}",
          chain,
          spec.name(),
          old == null ? "joined" : "changed",
          NodeUrls.shown(spec.url()),
          spec.drained() ? " (drained)" : "");
    }
    Endpoint current = primary;
    if (current != null && endpoints.get(current.spec.name()) != null) {
      primary = endpoints.get(current.spec.name());
    }
    choosePrimary();
  }

  private static boolean sameConnection(NodeSpec a, NodeSpec b) {
    return a.url().equals(b.url())
        && Objects.equals(a.walletUrl(), b.walletUrl())
        && Objects.equals(a.user(), b.user())
        && Objects.equals(a.credentials(), b.credentials());
  }

  /**
   * The endpoint for {@code spec}, or null when its entry is refused: then nothing is sent to it,
   * and a node it replaces leaves the rotation too.
   */
  private Endpoint admit(NodeSpec spec, Endpoint old) {
    Secret secret;
    try {
      secret = credentials.forNode(spec);
    } catch (UnusableNodeException e) {
      boolean dropped = endpoints.remove(spec.name()) != null;
      if (!spec.equals(unusable.put(spec.name(), spec)) || dropped) {
        log.warn("{} node {} is unusable, never called: {}", chain, spec.name(), e.getMessage());
      }
      return null;
    }
    unusable.remove(spec.name());
    return build(spec, old == null ? null : old.limiter, secret);
  }

  private Endpoint build(NodeSpec spec, NodeLimiter limiter, Secret secret) {
    NodeLimiter gate = limiter;
    if (gate == null) {
      Grant grant = shareOf.apply(spec.name());
      gate =
          new NodeLimiter(chain + "/" + spec.name(), grant.share(), paused, maxWait)
              .instrument(NodeMeters.of(meters, chain, spec.name()));
      gate.setShare(grant.share(), grant.tableAt());
    }
    boolean v2 = chain == Chain.ETH;
    JsonRpcClient node =
        new JsonRpcClient(
            new RpcEndpoint(spec.name(), spec.url(), spec.user(), secret, v2, timeout),
            RETRY,
            http,
            gate);
    JsonRpcClient wallet =
        spec.walletUrl() == null
            ? null
            : new JsonRpcClient(
                new RpcEndpoint(spec.name(), spec.walletUrl(), spec.user(), secret, v2, timeout),
                RETRY,
                http,
                gate);
    return new Endpoint(spec, node, wallet, gate);
  }

  /**
   * Applies this consumer's current shares, after the leader published new ones; true when a share
   * from another table is now in force (to report).
   */
  public boolean refreshShares() {
    boolean unchecked = false;
    boolean applied = false;
    for (Endpoint e : endpoints.values()) {
      Grant grant = shareOf.apply(e.spec.name());
      applied |= e.limiter.tableAt() != grant.tableAt();
      e.limiter.setShare(grant.share(), grant.tableAt());
      unchecked |= e.healthy == null;
    }
    if (unchecked && !checker.isShutdown()) {
      // A node could not be checked without a share; now it can, without waiting a period.
      checker.execute(this::checkHealth);
    }
    return applied;
  }

  /**
   * From now on, only nodes serving {@code chainId} take calls: one serving another chain leaves
   * the rotation at once, and is never let in (a receipt it lacks, or a nonce it counts, would be
   * taken for this chain's).
   */
  public void expectChainId(long chainId) {
    expectedChainId = chainId;
    for (Endpoint e : endpoints.values()) {
      Long served = e.chainId;
      if (served != null && served != chainId) {
        setHealth(e, false, "serves chain id " + served + ", not " + chainId);
      }
    }
    choosePrimary();
  }

  /** The chain id each Ethereum node was seen to serve, by node name (those asked so far). */
  public Map<String, Long> chainIds() {
    Map<String, Long> out = new TreeMap<>();
    endpoints.forEach(
        (name, e) -> {
          if (e.chainId != null) {
            out.put(name, e.chainId);
          }
        });
    return out;
  }

  /** Calls on the node port of the primary. */
  public Rpc node() {
    return new Routed(false);
  }

  /** Calls on the wallet port of the primary. */
  public Rpc wallet() {
    return new Routed(true);
  }

  /** The node in use now, or null if none is in rotation. */
  public String primaryName() {
    Endpoint p = primary;
    return p == null ? null : p.spec.name();
  }

  public Map<String, Endpoint> endpoints() {
    return Map.copyOf(endpoints);
  }

  private synchronized Endpoint choosePrimary() {
    Endpoint current = primary;
    if (current != null && endpoints.get(current.spec.name()) == current && current.inRotation()) {
      return current;
    }
    Endpoint next =
        endpoints.values().stream()
            .filter(Endpoint::inRotation)
            .max(
                Comparator.comparingInt((Endpoint e) -> e.spec.weight())
                    .thenComparingInt(e -> (memberId + "/" + e.spec.name()).hashCode()))
            .orElse(null);
    if (next != current) {
      if (next == null) {
        log.warn("{}: no node in rotation", chain);
      } else {
        String where = NodeUrls.shown(next.spec.url());
        log.info("{}: calls now go to {} ({})", chain, next.spec.name(), where);
      }
      primary = next;
      notifyAll();
    }
    return next;
  }

  /**
   * Waits until a node is in rotation, at most {@code atMost}: the first health checks come a
   * moment after the pool starts, and work taken before them would only wait for a node.
   *
   * @return whether one is
   */
  public synchronized boolean awaitRotation(Duration atMost) throws InterruptedException {
    long until = System.nanoTime() + atMost.toNanos();
    while (primary == null || !primary.inRotation()) {
      long left = until - System.nanoTime();
      if (left <= 0 || endpoints.isEmpty()) {
        return false;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return true;
  }

  private Endpoint current() throws RpcException {
    Endpoint p = primary;
    if (p == null || !p.inRotation() || endpoints.get(p.spec.name()) != p) {
      p = choosePrimary();
    }
    if (p == null) {
      throw new RpcException(
          RpcException.Kind.CONNECT_FAILED, null, 0, "no " + chain + " node in rotation", null);
    }
    return p;
  }

  /** A call that could not reach the primary takes it out of rotation until it answers again. */
  private void failed(Endpoint e, RpcException ex) {
    if (ex.kind() == RpcException.Kind.CONNECT_FAILED && !Boolean.FALSE.equals(e.healthy)) {
      e.healthy = false;
      log.warn("{} node {} leaves rotation: {}", chain, e.spec.name(), ex.getMessage());
      choosePrimary();
    }
  }

  private void checkHealth() {
    try {
      if (paused.getAsBoolean()) {
        // A paused chain gets no calls at all, health checks included.
        if (!pauseLogged) {
          log.info("{} is paused: no calls to its nodes until resumed", chain);
          pauseLogged = true;
        }
        return;
      }
      if (pauseLogged) {
        log.info("{} resumed", chain);
        pauseLogged = false;
      }
      Map<Endpoint, Long> heights = new java.util.HashMap<>();
      List<Endpoint> unreachable = new ArrayList<>();
      for (Endpoint e : endpoints.values()) {
        if (e.spec.drained()) {
          continue;
        }
        try {
          String wrong = wrongChain(e);
          if (wrong != null) {
            // Left out of the heights too: another chain's height says nothing of this one.
            setHealth(e, false, wrong);
            continue;
          }
          heights.put(e, height(e.node));
        } catch (RpcException ex) {
          if (ex.kind() != RpcException.Kind.HELD_BACK) {
            unreachable.add(e);
          }
        }
      }
      long best = heights.values().stream().mapToLong(Long::longValue).max().orElse(-1);
      for (Map.Entry<Endpoint, Long> h : heights.entrySet()) {
        Endpoint e = h.getKey();
        e.height = h.getValue();
        boolean inSync = h.getValue() >= best - maxLag;
        setHealth(
            e,
            inSync,
            inSync
                ? "in sync at height " + h.getValue()
                : "height " + h.getValue() + " lags the best " + best + " by more than " + maxLag);
      }
      for (Endpoint e : unreachable) {
        setHealth(e, false, "does not answer");
      }
      choosePrimary();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      log.warn("{} health check failed: {}", chain, e.toString());
    }
  }

  private void setHealth(Endpoint e, boolean healthy, String why) {
    Boolean before = e.healthy;
    e.healthy = healthy;
    if (before == null || before != healthy) {
      if (healthy) {
        log.info("{} node {} in rotation: {}", chain, e.spec.name(), why);
      } else {
        log.warn("{} node {} out of rotation: {}", chain, e.spec.name(), why);
      }
    }
  }

  /**
   * Why an Ethereum node may not take calls for its chain; null when it may. Its chain id is asked
   * once per connection.
   */
  private String wrongChain(Endpoint e) throws RpcException, InterruptedException {
    if (chain != Chain.ETH) {
      return null;
    }
    Long served = e.chainId;
    if (served == null) {
      JsonNode answer = e.node.call("eth_chainId");
      if (answer == null || !answer.isTextual() || !answer.asText().startsWith("0x")) {
        throw new RpcException(RpcException.Kind.MALFORMED, null, 200, "no chain id", null);
      }
      try {
        served = new BigInteger(answer.asText().substring(2), 16).longValueExact();
      } catch (ArithmeticException | NumberFormatException ex) {
        throw new RpcException(RpcException.Kind.MALFORMED, null, 200, "no chain id", null);
      }
      e.chainId = served;
    }
    long expected = expectedChainId;
    return expected == 0 || served == expected
        ? null
        : "serves chain id " + served + ", not " + expected;
  }

  private long height(JsonRpcClient node) throws RpcException, InterruptedException {
    JsonNode answer = node.call(chain == Chain.ETH ? "eth_blockNumber" : "getblockcount");
    if (answer == null) {
      throw new RpcException(RpcException.Kind.MALFORMED, null, 200, "no height", null);
    }
    if (answer.isTextual()) {
      String hex = answer.asText();
      return new BigInteger(hex.startsWith("0x") ? hex.substring(2) : hex, 16).longValueExact();
    }
    return answer.asLong();
  }

  /** How this consumer uses each node, for its membership report; starts a new period. */
  public Map<String, MemberReport.NodeUse> usage() {
    Map<String, MemberReport.NodeUse> use = new TreeMap<>();
    for (Endpoint e : endpoints.values()) {
      NodeLimiter.Usage recent = e.limiter.usage();
      // Read before the share: a table acknowledged is one whose share is in force.
      long tableAt = e.limiter.tableAt();
      use.put(
          chain + "/" + e.spec.name(),
          new MemberReport.NodeUse(
              e.limiter.share().requestsPerSecond(),
              e.limiter.effectiveRate(),
              e.limiter.share().inFlight(),
              e.inRotation(),
              e.height,
              e.limiter.calls(),
              recent.requestsPerSecond(),
              recent.saturated(),
              tableAt,
              e.limiter.windowCalls()));
    }
    return use;
  }

  @Override
  public void close() {
    checker.shutdownNow();
  }

  /** Calls on the current primary; {@link #relay} also hands the call to the other nodes. */
  private final class Routed implements Rpc {
    private final boolean walletPort;

    Routed(boolean walletPort) {
      this.walletPort = walletPort;
    }

    private JsonRpcClient client(Endpoint e) throws RpcException {
      JsonRpcClient c = walletPort ? e.wallet : e.node;
      if (c == null) {
        throw new RpcException(
            RpcException.Kind.CONNECT_FAILED,
            null,
            0,
            chain + " node " + e.spec.name() + " has no wallet URL",
            null);
      }
      return c;
    }

    @Override
    public String name() {
      String p = primaryName();
      return p == null ? chain + "-none" : p;
    }

    @Override
    public JsonNode call(String method, ArrayNode params)
        throws RpcException, InterruptedException {
      Endpoint e = current();
      try {
        return client(e).call(method, params);
      } catch (RpcException ex) {
        failed(e, ex);
        throw ex;
      }
    }

    @Override
    public JsonNode rest(String httpMethod, String path, JsonNode body)
        throws RpcException, InterruptedException {
      Endpoint e = current();
      try {
        return client(e).rest(httpMethod, path, body);
      } catch (RpcException ex) {
        failed(e, ex);
        throw ex;
      }
    }

    @Override
    public void relay(String method, Object... params) throws InterruptedException {
      Endpoint p = primary;
      for (Endpoint e : endpoints.values()) {
        if (e == p || !e.inRotation()) {
          continue;
        }
        try {
          client(e).call(method, params);
        } catch (RpcException ex) {
          log.debug("relay of {} to {} failed: {}", method, e.spec.name(), ex.getMessage());
        }
      }
    }
  }
}
