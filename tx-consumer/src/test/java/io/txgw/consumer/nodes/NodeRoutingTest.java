package io.txgw.consumer.nodes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.txgw.common.budget.Share;
import io.txgw.common.model.Chain;
import io.txgw.consumer.rpc.JsonRpcClient;
import io.txgw.consumer.rpc.RpcException;
import io.txgw.coordinator.LoopbackZooKeeper;
import io.txgw.coordinator.Membership;
import io.txgw.coordinator.control.Controls;
import io.txgw.coordinator.nodes.NodeRegistry;
import io.txgw.coordinator.nodes.NodeSpec;
import io.txgw.coordinator.zk.ZkClients;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.OkHttpClient;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A consumer's routing against a real ZooKeeper server and scripted nodes: shares, registry changes
 * and pauses arrive live, and losing ZooKeeper never lets it exceed its share.
 */
class NodeRoutingTest {
  private TestingServer zooKeeper;
  private final MockWebServer nodeA = io.txgw.consumer.rpc.ScriptedServers.noDelay();
  private final MockWebServer nodeB = io.txgw.consumer.rpc.ScriptedServers.noDelay();
  private final AtomicLong callsToA = new AtomicLong();
  private final OkHttpClient http = new OkHttpClient();
  private CuratorFramework admin;
  private Membership membership;
  private NodeRouting routing;

  private static Dispatcher height(String hex, AtomicLong counter) {
    return new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        counter.incrementAndGet();
        return new MockResponse.Builder()
            .body("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"" + hex + "\"}")
            .build();
      }
    };
  }

  @BeforeEach
  void start() throws Exception {
    zooKeeper = LoopbackZooKeeper.start();
    nodeA.setDispatcher(height("0x10", callsToA));
    nodeA.start(InetAddress.getLoopbackAddress(), 0);
    nodeB.setDispatcher(height("0x10", new AtomicLong()));
    nodeB.start(InetAddress.getLoopbackAddress(), 0);
    admin =
        ZkClients.open(zooKeeper.getConnectString())
            .newClient(10_000, 5_000, new RetryOneTime(100));
    admin.start();
    new NodeRegistry(admin).put(spec("a", nodeA, 50, 200));
  }

  private static NodeSpec spec(String name, MockWebServer server, double rps, int weight) {
    return new NodeSpec(
        Chain.ETH, name, server.url("/").toString(), null, null, null, rps, 4, weight, false);
  }

  private NodePool startRouting() throws Exception {
    return startRouting(Map.of());
  }

  /** With {@code env} as the consumer's environment, where node credentials are read. */
  private NodePool startRouting(Map<String, String> env) throws Exception {
    membership = new Membership(zooKeeper.getConnectString(), "consumers", "c1", "{}");
    membership.start(10, TimeUnit.SECONDS);
    routing =
        new NodeRouting(
            "c1",
            membership,
            new NodeRouting.Settings(
                http,
                Duration.ofSeconds(2),
                3,
                Duration.ofMillis(300),
                Duration.ofMillis(200),
                new Credentials(env),
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry()));
    routing.start(Map.of());
    return routing.pools().get(Chain.ETH);
  }

  @AfterEach
  void stop() throws Exception {
    if (routing != null) {
      routing.close();
    }
    if (membership != null) {
      membership.close();
    }
    admin.close();
    zooKeeper.close();
    nodeA.close();
    nodeB.close();
    JsonRpcClient.shutdown(http);
  }

  /** Height {@code 0x10} and chain id {@code chainHex}. */
  private static Dispatcher onChain(String chainHex) {
    return new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        String body = request.getBody().utf8();
        String result = body.contains("eth_chainId") ? chainHex : "0x10";
        return new MockResponse.Builder()
            .body("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"" + result + "\"}")
            .build();
      }
    };
  }

  @Test
  void anEthereumNodeServingAnotherChainTakesNoCallsEvenWhenItIsTheHeavierOne() throws Exception {
    nodeA.setDispatcher(onChain("0x1"));
    nodeB.setDispatcher(onChain("0xa"));
    new NodeRegistry(admin).put(spec("b", nodeB, 50, 900));
    NodePool pool = startRouting();
    await().atMost(Duration.ofSeconds(10)).until(() -> "b".equals(pool.primaryName()));
    // Told the chain: b serves chain 10, so it leaves at once, and a takes the calls.
    pool.expectChainId(1);
    assertThat(pool.primaryName()).isEqualTo("a");
    assertThat(pool.endpoints().get("b").healthy()).isFalse();
    // And it stays out, check after check.
    await()
        .during(Duration.ofMillis(600))
        .atMost(Duration.ofSeconds(5))
        .until(() -> "a".equals(pool.primaryName()));
    pool.expectChainId(5);
    assertThat(pool.primaryName()).isNull();
  }

  @Test
  void cutOffFromZooKeeperTheConsumerKeepsItsShareWhileTheSessionMayLiveThenHoldsNone()
      throws Exception {
    NodePool pool = startRouting();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> pool.endpoints().get("a").share().equals(new Share(50, 4)));

    zooKeeper.stop();
    // SUSPENDED: the session may still be alive on the server, and with it this share.
    assertThat(pool.endpoints().get("a").share()).isEqualTo(new Share(50, 4));
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> pool.endpoints().get("a").share().equals(Share.NONE));
    // LOST: the leader has given this share away; no call goes out.
    long before = callsToA.get();
    assertThatThrownBy(() -> pool.node().call("eth_blockNumber"))
        .isInstanceOfSatisfying(
            RpcException.class, e -> assertThat(e.kind()).isEqualTo(RpcException.Kind.HELD_BACK));
    assertThat(callsToA.get()).isEqualTo(before);

    zooKeeper.restart();
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> pool.endpoints().get("a").share().equals(new Share(50, 4)));
    assertThat(pool.node().call("eth_blockNumber").asText()).isEqualTo("0x10");
  }

  @Test
  void registryChangesAndPausesTakeEffectWithoutARestart() throws Exception {
    NodePool pool = startRouting();
    await().atMost(Duration.ofSeconds(10)).until(() -> "a".equals(pool.primaryName()));
    NodeRegistry registry = new NodeRegistry(admin);

    registry.put(spec("a", nodeA, 20, 200));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> pool.endpoints().get("a").share().requestsPerSecond() == 20);

    registry.put(spec("b", nodeB, 50, 100));
    await().atMost(Duration.ofSeconds(10)).until(() -> pool.endpoints().containsKey("b"));
    assertThat(pool.primaryName()).as("a weighs more").isEqualTo("a");
    registry.put(spec("a", nodeA, 20, 200).withDrained(true));
    await().atMost(Duration.ofSeconds(10)).until(() -> "b".equals(pool.primaryName()));

    Controls controls = new Controls(admin);
    controls.pause(Chain.ETH, new Controls.Pause("test", Instant.now(), "upgrade"));
    await().atMost(Duration.ofSeconds(1)).until(() -> routing.paused(Chain.ETH));
    assertThatThrownBy(() -> pool.node().call("eth_blockNumber")).hasMessageContaining("paused");
    controls.resume(Chain.ETH);
    await().atMost(Duration.ofSeconds(5)).until(() -> !routing.paused(Chain.ETH));
    assertThat(pool.node().call("eth_blockNumber").asText()).isEqualTo("0x10");
  }

  @Test
  void onlyAChainRunningAgainAfterAPauseTellsTheResumeListener() throws Exception {
    startRouting();
    java.util.concurrent.atomic.AtomicInteger resumed =
        new java.util.concurrent.atomic.AtomicInteger();
    routing.onResumed(resumed::incrementAndGet);
    Controls controls = new Controls(admin);

    controls.pause(Chain.ETH, new Controls.Pause("test", Instant.now(), "upgrade"));
    controls.pause(Chain.BTC, new Controls.Pause("test", Instant.now(), "upgrade"));
    await().atMost(Duration.ofSeconds(5)).until(() -> routing.paused(Chain.BTC));
    assertThat(resumed).hasValue(0);

    controls.resume(Chain.ETH);
    await().atMost(Duration.ofSeconds(5)).until(() -> resumed.get() == 1);
    controls.resume(Chain.BTC);
    await().atMost(Duration.ofSeconds(5)).until(() -> resumed.get() == 2);
    // Pausing again and lifting nothing new tells it nothing.
    controls.pause(Chain.ETH, new Controls.Pause("test", Instant.now(), "again"));
    await().atMost(Duration.ofSeconds(5)).until(() -> routing.paused(Chain.ETH));
    assertThat(resumed).hasValue(2);
  }

  @Test
  void aConsumerStartingCanWaitForItsFirstHealthCheckToPutANodeInRotation() throws Exception {
    NodePool pool = startRouting();
    assertThat(pool.awaitRotation(Duration.ofSeconds(10))).isTrue();
    assertThat(pool.primaryName()).isEqualTo("a");
  }

  @Test
  void aNodeThatStopsAnsweringLeavesTheRotationAndReturnsWhenItAnswers() throws Exception {
    new NodeRegistry(admin).put(spec("b", nodeB, 50, 100));
    NodePool pool = startRouting();
    await().atMost(Duration.ofSeconds(10)).until(() -> "a".equals(pool.primaryName()));
    // Down behind its port, as a node restarting behind a proxy is: the port itself is kept, so
    // that no other connection on this busy machine can take it before the node comes back.
    nodeA.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            return new MockResponse.Builder().code(503).body("node down").build();
          }
        });
    await().atMost(Duration.ofSeconds(10)).until(() -> "b".equals(pool.primaryName()));
    assertThat(pool.endpoints().get("a").healthy()).isFalse();

    nodeA.setDispatcher(height("0x10", callsToA));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> Boolean.TRUE.equals(pool.endpoints().get("a").healthy()));
  }

  @Test
  void aNodeLaggingTheBestHeightLeavesTheRotation() throws Exception {
    nodeA.setDispatcher(height("0x1", callsToA));
    new NodeRegistry(admin).put(spec("b", nodeB, 50, 100));
    NodePool pool = startRouting();
    await().atMost(Duration.ofSeconds(10)).until(() -> "b".equals(pool.primaryName()));
    assertThat(pool.endpoints().get("a").healthy()).isFalse();
  }

  @Test
  void aRegisteredNodeWhoseCredentialsAreRefusedIsNeverCalledUntilItsEntryIsFixed()
      throws Exception {
    AtomicLong callsToB = new AtomicLong();
    nodeB.setDispatcher(height("0x10", callsToB));
    NodeRegistry registry = new NodeRegistry(admin);
    // It weighs more than a: admitted, it would take every call.
    registry.put(withCredentials(spec("b", nodeB, 50, 300), "env:TXGW_BTC_RPC_PASSWORD"));
    NodePool pool =
        startRouting(Map.of("TXGW_BTC_RPC_PASSWORD", "wallet-key", "TXGW_NODE_B", "node-b-key"));
    await().atMost(Duration.ofSeconds(10)).until(() -> "a".equals(pool.primaryName()));
    assertThat(pool.endpoints()).doesNotContainKey("b");
    // A health check period or two, and a registry change that rebuilds nothing.
    registry.put(spec("a", nodeA, 40, 200));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> pool.endpoints().get("a").share().requestsPerSecond() == 40);
    long seenByA = callsToA.get();
    await().atMost(Duration.ofSeconds(10)).until(() -> callsToA.get() > seenByA);
    assertThat(callsToB.get()).as("calls to the refused node").isZero();

    registry.put(withCredentials(spec("b", nodeB, 50, 300), "env:TXGW_NODE_B"));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                pool.endpoints().containsKey("b")
                    && Boolean.TRUE.equals(pool.endpoints().get("b").healthy()));
    assertThat(nodeB.takeRequest().getHeaders().get("Authorization")).startsWith("Basic ");
  }

  private static NodeSpec withCredentials(NodeSpec s, String credentials) {
    return new NodeSpec(
        s.chain(),
        s.name(),
        s.url(),
        s.walletUrl(),
        "x",
        credentials,
        s.maxRequestsPerSecond(),
        s.maxInFlight(),
        s.weight(),
        s.drained());
  }
}
