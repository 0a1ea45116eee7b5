package io.txgw.loadgen;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.config.Secret;
import io.txgw.common.json.Json;
import io.txgw.common.validation.BatchSubmission;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A client of the gateway's HTTP API, as an exchange's payout system would use it. */
public final class GatewayClient {
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String baseUrl;
  private final Secret apiKey;

  /** An HTTP answer: status and parsed JSON body (null when the body is not JSON). */
  /**
   * @param retryAfter the Retry-After header, or empty
   */
  public record Answer(int status, JsonNode body, String contentType, String retryAfter) {}

  public GatewayClient(String baseUrl, Secret apiKey) {
    this.baseUrl = baseUrl;
    this.apiKey = apiKey;
  }

  public Answer postBatch(BatchSubmission batch) throws IOException, InterruptedException {
    return post("/v1/batches", "application/json", Json.mapper().writeValueAsBytes(batch));
  }

  public Answer post(String path, String contentType, byte[] body)
      throws IOException, InterruptedException {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(baseUrl + path))
            .timeout(Duration.ofSeconds(60))
            .header("X-Api-Key", apiKey.reveal())
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    // Null sends no Content-Type at all, as a careless client does.
    if (contentType != null) {
      request.header("Content-Type", contentType);
    }
    return send(request.build());
  }

  public Answer get(String path) throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(baseUrl + path))
            .timeout(Duration.ofSeconds(60))
            .header("X-Api-Key", apiKey.reveal())
            .GET()
            .build();
    return send(request);
  }

  public Answer batch(String batchId) throws IOException, InterruptedException {
    return get("/v1/batches/" + batchId);
  }

  /**
   * Follows the batch's server-sent events until the stream ends, handing each event's name and
   * data to {@code onEvent}.
   */
  public void events(String batchId, java.util.function.BiConsumer<String, JsonNode> onEvent)
      throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(baseUrl + "/v1/batches/" + batchId + "/events"))
            .header("X-Api-Key", apiKey.reveal())
            .header("Accept", "text/event-stream")
            .GET()
            .build();
    HttpResponse<java.util.stream.Stream<String>> response =
        http.send(request, HttpResponse.BodyHandlers.ofLines());
    if (response.statusCode() != 200) {
      throw new IOException("events of " + batchId + " answered " + response.statusCode());
    }
    String event = "message";
    try (java.util.stream.Stream<String> lines = response.body()) {
      for (String line : (Iterable<String>) lines::iterator) {
        if (line.startsWith("event: ")) {
          event = line.substring(7);
        } else if (line.startsWith("data: ")) {
          onEvent.accept(event, Json.mapper().readTree(line.substring(6)));
          event = "message";
        }
      }
    }
  }

  private Answer send(HttpRequest request) throws IOException, InterruptedException {
    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
    JsonNode body;
    try {
      body = response.body().isEmpty() ? null : Json.mapper().readTree(response.body());
    } catch (JsonProcessingException e) {
      body = null;
    }
    return new Answer(
        response.statusCode(),
        body,
        response.headers().firstValue("Content-Type").orElse(""),
        response.headers().firstValue("Retry-After").orElse(""));
  }
}
