package io.txgw.gateway.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.json.Json;
import io.txgw.common.model.BatchRecord;
import io.txgw.common.model.Chain;
import io.txgw.gateway.SubmitOutcome;
import io.txgw.gateway.status.PayoutIndex;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ResponsesTest {
  private Vertx vertx;
  private HttpServer server;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    Router router = Router.router(vertx);
    router
        .get("/taken")
        .handler(
            ctx ->
                Responses.payoutIdsTaken(
                    ctx,
                    new SubmitOutcome.PayoutIdsTaken(
                        List.of(
                            new PayoutIndex.Conflict(0, "emp-1", "payroll-10", List.of("source")),
                            new PayoutIndex.Conflict(
                                3, "emp-4", "payroll-09", List.of("to", "amount"))))));
    router
        .get("/unconfirmed")
        .handler(
            ctx ->
                Responses.payoutIdsUnconfirmed(
                    ctx,
                    new SubmitOutcome.PayoutIdsUnconfirmed(
                        List.of(
                            new PayoutIndex.InDoubt(1, "p1", "A"),
                            new PayoutIndex.InDoubt(2, "p2", "A")))));
    router
        .get("/held")
        .handler(ctx -> Responses.heldLimit(ctx, new PayoutIndex.Full(false, 30_003, 30_003)));
    server =
        vertx
            .createHttpServer()
            .requestHandler(router)
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private HttpResponse<String> get(String path) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.actualPort() + path))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void payoutIdsTakenAreA409ProblemListingEachItemWithItsEarlierBatch() throws Exception {
    HttpResponse<String> answer = get("/taken");

    assertThat(answer.statusCode()).isEqualTo(409);
    assertThat(answer.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    JsonNode body = Json.mapper().readTree(answer.body());
    assertThat(body.path("type").asText()).isEqualTo("urn:txgw:problem:payout-id-conflict");
    assertThat(body.path("detail").asText()).contains("nothing was written");
    assertThat(body.path("conflicts")).hasSize(2);
    JsonNode second = body.path("conflicts").get(1);
    assertThat(second.path("index").asInt()).isEqualTo(3);
    assertThat(second.path("id").asText()).isEqualTo("emp-4");
    assertThat(second.path("batchId").asText()).isEqualTo("payroll-09");
    assertThat(second.path("differs").toString()).isEqualTo("[\"to\",\"amount\"]");
  }

  @Test
  void payoutIdsInBatchesWhoseWriteIsUnconfirmedAreA503ProblemNamingIdAndBatch() throws Exception {
    HttpResponse<String> answer = get("/unconfirmed");

    assertThat(answer.statusCode()).isEqualTo(503);
    assertThat(answer.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(answer.headers().firstValue("Retry-After")).hasValue("1");
    JsonNode body = Json.mapper().readTree(answer.body());
    assertThat(body.path("type").asText()).isEqualTo("urn:txgw:problem:payout-id-unconfirmed");
    assertThat(body.path("detail").asText())
        .startsWith(
            "payout id p1 is in batch A whose write is not confirmed; re-post batch A with the"
                + " same content, or retry later");
    assertThat(body.path("unconfirmed")).hasSize(2);
    assertThat(body.path("unconfirmed").get(0).path("batchId").asText()).isEqualTo("A");
    assertThat(body.path("unconfirmed").get(1).path("index").asInt()).isEqualTo(2);
  }

  @Test
  void aBoundOnHeldPayoutIdsIsA503ProblemOfItsOwnNotAViewRebuild() throws Exception {
    HttpResponse<String> answer = get("/held");

    assertThat(answer.statusCode()).isEqualTo(503);
    JsonNode body = Json.mapper().readTree(answer.body());
    assertThat(body.path("type").asText()).isEqualTo("urn:txgw:problem:payout-ids-held");
    assertThat(body.path("detail").asText()).contains("for your batches").contains("30003");
  }

  @Test
  void payoutsAcceptedEarlierAreListedInTheBatchsOrderWithTheirBatch() {
    BatchRecord batch =
        new BatchRecord(
                "acme",
                "payroll-11",
                Chain.ETH,
                "0xsource",
                "fp",
                List.of("emp-1", "emp-2", "emp-3"),
                Instant.EPOCH)
            .withAcceptedEarlier(Map.of("emp-3", "payroll-10", "emp-1", "payroll-09"));

    assertThat(Responses.acceptedEarlier(batch))
        .containsExactly(
            Map.of("index", 0, "id", "emp-1", "batchId", "payroll-09"),
            Map.of("index", 2, "id", "emp-3", "batchId", "payroll-10"));
  }
}
