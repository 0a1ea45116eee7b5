package io.txgw.gateway.events;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.UUID;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * One attempt of one delivery: a POST of the body, signed, to the client's URL. Any 2xx is an
 * acknowledgement; anything else (another status, a redirect, no answer within the timeout) is a
 * failure, tried again later with the same delivery id and body, signed afresh.
 */
final class WebhookClient {
  static final String DELIVERY = "Txgw-Delivery";
  static final String ATTEMPT = "Txgw-Attempt";
  private static final MediaType JSON = MediaType.get("application/json");

  private final OkHttpClient http;
  private final Clock clock;

  WebhookClient(Duration timeout, Clock clock) {
    this.clock = clock;
    this.http =
        new OkHttpClient.Builder()
            .callTimeout(timeout)
            .connectTimeout(timeout)
            .readTimeout(timeout)
            // A redirect would send the body and its signature wherever the receiver points.
            .followRedirects(false)
            .followSslRedirects(false)
            .retryOnConnectionFailure(false)
            .build();
  }

  /** A new delivery's id. */
  static String newDeliveryId() {
    return UUID.randomUUID().toString();
  }

  /**
   * @return the receiver's status, or 0 with the reason when none came
   */
  Answer post(Webhooks.Target target, String deliveryId, int attempt, byte[] body) {
    long now = clock.instant().getEpochSecond();
    Request request =
        new Request.Builder()
            .url(target.url().toString())
            .header(DELIVERY, deliveryId)
            .header(ATTEMPT, Integer.toString(attempt))
            .header(WebhookSignature.HEADER, WebhookSignature.header(now, body, target.secrets()))
            .header("User-Agent", "txgw-webhooks")
            .post(RequestBody.create(body, JSON))
            .build();
    try (Response response = http.newCall(request).execute()) {
      int status = response.code();
      return new Answer(status, status >= 200 && status < 300 ? null : "answered " + status);
    } catch (InterruptedIOException e) {
      return new Answer(0, "no answer within the timeout");
    } catch (IOException e) {
      return new Answer(0, "cannot reach it: " + e.getClass().getSimpleName());
    }
  }

  record Answer(int status, String error) {
    boolean acknowledged() {
      return status >= 200 && status < 300;
    }
  }

  void close() {
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }
}
