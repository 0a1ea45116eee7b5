package io.txgw.consumer.nodes;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.txgw.common.model.Chain;
import io.txgw.consumer.rpc.RpcException;
import java.time.Duration;
import java.util.Locale;

/**
 * The metrics of one node as this consumer sees it: every call by method and outcome with its
 * latency, the time calls waited for the budget, and the share the leader gave this consumer.
 */
public final class NodeMeters {
  static final NodeMeters NONE = new NodeMeters(null, Tags.empty());

  private final MeterRegistry registry;
  private final Tags tags;

  private NodeMeters(MeterRegistry registry, Tags tags) {
    this.registry = registry;
    this.tags = tags;
  }

  public static NodeMeters of(MeterRegistry registry, Chain chain, String node) {
    return new NodeMeters(registry, Tags.of("chain", chain.name(), "node", node));
  }

  /** A call the node answered (a JSON-RPC error is an answer) or that failed on the way. */
  void call(String method, RpcException.Kind failure, long nanos) {
    if (registry == null) {
      return;
    }
    Tags callTags =
        tags.and("method", method, "outcome", failure == null ? "ok" : outcome(failure));
    Counter.builder("txgw.node.calls")
        .description("calls to a node, by method and outcome")
        .tags(callTags)
        .register(registry)
        .increment();
    Timer.builder("txgw.node.call")
        .description("latency of node calls, by method and outcome")
        .tags(callTags)
        .register(registry)
        .record(Duration.ofNanos(nanos));
  }

  /** Time a call waited for this consumer's share of the node's budget, granted or not. */
  void waited(long nanos, boolean granted) {
    if (registry == null) {
      return;
    }
    Timer.builder("txgw.throttle.wait")
        .description("time calls waited for the node budget before going out or being held back")
        .tags(tags.and("granted", Boolean.toString(granted)))
        .register(registry)
        .record(Duration.ofNanos(nanos));
  }

  /** The share and the rate AIMD allows now, read at each scrape. */
  void bind(NodeLimiter limiter) {
    if (registry == null) {
      return;
    }
    Gauge.builder(
            "txgw.node.share.requests.per.second",
            limiter,
            l -> finite(l.share().requestsPerSecond()))
        .description("this consumer's share of the node's request budget")
        .tags(tags)
        .register(registry);
    Gauge.builder("txgw.node.allowed.requests.per.second", limiter, l -> finite(l.effectiveRate()))
        .description("the share less what overload signals (AIMD) took away")
        .tags(tags)
        .register(registry);
    Gauge.builder("txgw.node.in.flight.limit", limiter, l -> l.share().inFlight())
        .description("this consumer's cap on unanswered calls to the node")
        .tags(tags)
        .register(registry);
  }

  private static double finite(double rate) {
    // An unbudgeted node has an effectively infinite share; Prometheus would show +Inf.
    return rate > 1e9 ? -1 : rate;
  }

  private static String outcome(RpcException.Kind kind) {
    return kind.name().toLowerCase(Locale.ROOT);
  }
}
