package io.txgw.consumer.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txgw.common.config.Secret;
import java.net.InetAddress;
import java.time.Duration;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.SocketEffect;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class JsonRpcClientTest {
  private final MockWebServer server = ScriptedServers.noDelay();
  private final OkHttpClient base = new OkHttpClient();

  @BeforeEach
  void start() throws Exception {
    server.start(InetAddress.getLoopbackAddress(), 0);
  }

  @AfterEach
  void stop() {
    server.close();
    JsonRpcClient.shutdown(base);
  }

  private JsonRpcClient client(RetryPolicy retry, Duration timeout) {
    return new JsonRpcClient(
        new RpcEndpoint(
            "node", server.url("/").toString(), "user", new Secret("s3cret-pass"), true, timeout),
        retry,
        base);
  }

  private static MockResponse json(int code, String body) {
    return new MockResponse.Builder().code(code).body(body).build();
  }

  @Test
  void returnsTheResultAndSendsBasicAuth() throws Exception {
    server.enqueue(json(200, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x7a69\"}"));
    assertThat(client(RetryPolicy.NONE, Duration.ofSeconds(5)).call("eth_chainId").asText())
        .isEqualTo("0x7a69");
    var request = server.takeRequest();
    assertThat(request.getHeaders().get("Authorization")).startsWith("Basic ");
    assertThat(request.getBody().utf8())
        .contains("\"method\":\"eth_chainId\"", "\"jsonrpc\":\"2.0\"");
  }

  @Test
  void aJsonRpcErrorIsANodeErrorWithItsCodeAndMessage() {
    server.enqueue(
        json(
            200,
            "{\"result\":null,\"error\":{\"code\":-6,\"message\":\"Not enough funds.\"},\"id\":1}"));
    assertThatThrownBy(() -> client(RetryPolicy.NONE, Duration.ofSeconds(5)).call("sendtoaddress"))
        .isInstanceOfSatisfying(
            RpcException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(RpcException.Kind.NODE_ERROR);
              assertThat(e.code()).isEqualTo(-6);
              assertThat(e.reason()).isEqualTo("Not enough funds. (code -6)");
              assertThat(e.kind().outcomeUnknown()).isFalse();
            });
  }

  @Test
  void aBitcoinCoreStyleHttp500WithAJsonRpcBodyIsStillANodeError() {
    server.enqueue(
        json(
            500,
            "{\"result\":null,\"error\":{\"code\":-5,\"message\":\"Invalid address\"},\"id\":1}"));
    assertThatThrownBy(() -> client(RetryPolicy.NONE, Duration.ofSeconds(5)).call("sendtoaddress"))
        .isInstanceOfSatisfying(
            RpcException.class, e -> assertThat(e.kind()).isEqualTo(RpcException.Kind.NODE_ERROR));
  }

  @Test
  void anHttpErrorWithoutJsonRpcBodyLeavesTheOutcomeUnknown() {
    server.enqueue(json(502, "<html>bad gateway</html>"));
    assertThatThrownBy(
            () -> client(RetryPolicy.NONE, Duration.ofSeconds(5)).call("eth_sendRawTransaction"))
        .isInstanceOfSatisfying(
            RpcException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(RpcException.Kind.HTTP_ERROR);
              assertThat(e.httpStatus()).isEqualTo(502);
              assertThat(e.kind().outcomeUnknown()).isTrue();
            });
  }

  @Test
  void rateLimitingIsRetriedWithBackoffUntilTheNodeAnswers() throws Exception {
    server.enqueue(json(429, "slow down"));
    server.enqueue(
        json(200, "{\"error\":{\"code\":-32005,\"message\":\"limit exceeded\"},\"id\":2}"));
    server.enqueue(json(200, "{\"result\":42,\"id\":3}"));
    RetryPolicy fast = new RetryPolicy(5, Duration.ofMillis(1), Duration.ofMillis(5));
    assertThat(client(fast, Duration.ofSeconds(5)).call("eth_blockNumber").asInt()).isEqualTo(42);
    assertThat(server.getRequestCount()).isEqualTo(3);
  }

  @Test
  void aTimeoutAfterSendingIsOutcomeUnknownAndNeverResent() {
    server.enqueue(new MockResponse.Builder().onResponseStart(SocketEffect.Stall.INSTANCE).build());
    RetryPolicy retrying = new RetryPolicy(5, Duration.ofMillis(1), Duration.ofMillis(5));
    assertThatThrownBy(() -> client(retrying, Duration.ofMillis(300)).call("sendtoaddress"))
        .isInstanceOfSatisfying(
            RpcException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(RpcException.Kind.TIMEOUT);
              assertThat(e.kind().outcomeUnknown()).isTrue();
            });
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void aConnectionDroppedAfterTheRequestIsOutcomeUnknownAndNeverResent() {
    server.enqueue(
        new MockResponse.Builder()
            .onResponseStart(SocketEffect.ShutdownConnection.INSTANCE)
            .build());
    server.enqueue(json(200, "{\"result\":\"should not be asked\",\"id\":2}"));
    RetryPolicy retrying = new RetryPolicy(5, Duration.ofMillis(1), Duration.ofMillis(5));
    assertThatThrownBy(() -> client(retrying, Duration.ofSeconds(5)).call("eth_sendRawTransaction"))
        .isInstanceOfSatisfying(
            RpcException.class, e -> assertThat(e.kind().outcomeUnknown()).isTrue());
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void aRefusedConnectionIsRetriedThenReportedAsNeverSent() {
    int port = server.getPort();
    server.close();
    JsonRpcClient client =
        new JsonRpcClient(
            new RpcEndpoint(
                "down", "http://127.0.0.1:" + port + "/", null, null, true, Duration.ofSeconds(2)),
            new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(2)),
            base);
    assertThatThrownBy(() -> client.call("eth_chainId"))
        .isInstanceOfSatisfying(
            RpcException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(RpcException.Kind.CONNECT_FAILED);
              assertThat(e.kind().outcomeUnknown()).isFalse();
            });
  }

  @Test
  void anAnswerThatIsNotJsonRpcIsMalformed() {
    server.enqueue(json(200, "[1,2,3]"));
    assertThatThrownBy(() -> client(RetryPolicy.NONE, Duration.ofSeconds(5)).call("getblockcount"))
        .isInstanceOfSatisfying(
            RpcException.class, e -> assertThat(e.kind()).isEqualTo(RpcException.Kind.MALFORMED));
  }

  @Test
  void thePasswordAppearsInNoMessageOrDescription() {
    server.enqueue(json(401, ""));
    JsonRpcClient client = client(RetryPolicy.NONE, Duration.ofSeconds(5));
    assertThat(client.endpoint().toString()).doesNotContain("s3cret-pass");
    assertThatThrownBy(() -> client.call("getblockcount")).hasMessageNotContaining("s3cret-pass");
  }
}
