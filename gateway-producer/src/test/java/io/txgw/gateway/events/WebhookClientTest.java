package io.txgw.gateway.events;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.config.Secret;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The failure paths of one delivery attempt; the whole loop runs on Kafka in WebhooksIT. */
class WebhookClientTest {
  private static final Secret SECRET = new Secret("a-webhook-secret-of-thirty-two-chars!");
  private static final Instant NOW = Instant.parse("2026-11-30T00:00:00Z");
  private final MockWebServer server = new MockWebServer();
  private WebhookClient client;
  private Webhooks.Target target;

  @BeforeEach
  void start() throws Exception {
    server.start(InetAddress.getLoopbackAddress(), 0);
    client = new WebhookClient(Duration.ofSeconds(1), Clock.fixed(NOW, ZoneOffset.UTC));
    target = new Webhooks.Target("acme", server.url("/hook?token=t").uri(), List.of(SECRET));
  }

  @AfterEach
  void stop() {
    server.close();
    client.close();
  }

  private static MockResponse answer(int code) {
    return new MockResponse.Builder().code(code).build();
  }

  @Test
  void aTwoHundredIsAnAcknowledgementOfASignedPost() throws Exception {
    server.enqueue(answer(204));
    byte[] body = "{\"events\":[]}".getBytes(StandardCharsets.UTF_8);
    assertThat(client.post(target, "d-1", 3, body).acknowledged()).isTrue();
    RecordedRequest request = server.takeRequest();
    assertThat(request.getMethod()).isEqualTo("POST");
    assertThat(request.getHeaders().get(WebhookClient.DELIVERY)).isEqualTo("d-1");
    assertThat(request.getHeaders().get(WebhookClient.ATTEMPT)).isEqualTo("3");
    assertThat(request.getHeaders().get(WebhookSignature.HEADER))
        .isEqualTo(WebhookSignature.header(NOW.getEpochSecond(), body, List.of(SECRET)));
    assertThat(request.getBody().utf8()).isEqualTo("{\"events\":[]}");
  }

  @Test
  void anErrorStatusIsAFailureNamingIt() {
    server.enqueue(answer(503));
    WebhookClient.Answer answer = client.post(target, "d-1", 1, new byte[0]);
    assertThat(answer.acknowledged()).isFalse();
    assertThat(answer.status()).isEqualTo(503);
    assertThat(answer.error()).isEqualTo("answered 503");
  }

  @Test
  void aRedirectIsNotFollowed() {
    server.enqueue(
        new MockResponse.Builder().code(302).addHeader("Location", "http://127.0.0.1:1/").build());
    WebhookClient.Answer answer = client.post(target, "d-1", 1, new byte[0]);
    assertThat(answer.acknowledged()).isFalse();
    assertThat(answer.status()).isEqualTo(302);
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void noAnswerWithinTheTimeoutIsAFailure() {
    server.enqueue(new MockResponse.Builder().onResponseStart(SocketEffect.Stall.INSTANCE).build());
    WebhookClient.Answer answer = client.post(target, "d-1", 1, new byte[0]);
    assertThat(answer.acknowledged()).isFalse();
    assertThat(answer.status()).isZero();
    assertThat(answer.error()).contains("timeout");
  }

  @Test
  void aReceiverThatIsDownIsAFailure() throws Exception {
    int port = server.getPort();
    server.close();
    Webhooks.Target gone =
        new Webhooks.Target(
            "acme", java.net.URI.create("http://127.0.0.1:" + port + "/"), List.of(SECRET));
    WebhookClient.Answer answer = client.post(gone, "d-1", 1, new byte[0]);
    assertThat(answer.acknowledged()).isFalse();
    assertThat(answer.error()).startsWith("cannot reach it");
  }

  @Test
  void theWaitBetweenAttemptsDoublesFromOneSecondUpToTheLongest() {
    Duration max = Duration.ofSeconds(30);
    for (int attempt = 1; attempt <= 40; attempt++) {
      long expected = Math.min(1000L << Math.min(attempt - 1, 20), max.toMillis());
      long wait = WebhookDispatcher.backoff(attempt, max).toMillis();
      assertThat(wait).as("attempt %d", attempt).isBetween(expected * 8 / 10, expected);
    }
  }
}
