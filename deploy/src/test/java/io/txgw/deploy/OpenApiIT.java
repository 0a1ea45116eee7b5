package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.InputFormat;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.txgw.common.security.RecordSeal;
import io.txgw.deploy.infra.EmbeddedKafka;
import io.txgw.deploy.infra.TempDirs;
import io.txgw.gateway.Gateway;
import io.txgw.gateway.GatewayConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The OpenAPI document the gateway serves at {@code /openapi.json} against the gateway itself: it
 * names exactly the routes the gateway has, and each answer of a real gateway (accepted, refused,
 * held, listed, not found) is one the document describes for that operation and status, its body
 * valid against the document's schema.
 */
class OpenApiIT {
  static final String SOURCE = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
  static final String TO = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
  static final String ROBOT = "robot-key-0123456789";
  static final String ALICE = "alice-key-0123456789";
  static final String BOB = "bob-key-01234567890";
  static final String DOC = "https://txgw.invalid/openapi.json";

  static Path dir;
  static EmbeddedKafka kafka;
  static Gateway gateway;
  static final HttpClient http = HttpClient.newHttpClient();
  static final ObjectMapper json = new ObjectMapper();

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("txgw-openapi-");
    kafka = new EmbeddedKafka(dir.resolve("kafka"));
    Path keys = dir.resolve("api-keys");
    Files.writeString(
        keys,
        String.join(
            "\n",
            "acme:pay+read=" + ROBOT,
            "acme/alice:pay+read=" + ALICE,
            "acme/bob:approve+read=" + BOB));
    Path clients = dir.resolve("clients.json");
    Files.writeString(
        clients,
        """
        {"clients": {"acme": {"spend": ["ETH:%s"], "approveAbove": {"ETH": "10"}}}}
        """
            .formatted(SOURCE));
    Map<String, String> env = new HashMap<>(kafka.clientEnv(EmbeddedKafka.ADMIN));
    env.put("TXGW_HTTP_PORT", "0");
    env.put("TXGW_ADMIN_PORT", "0");
    env.put("TXGW_API_KEYS_FILE", keys.toString());
    env.put("TXGW_CLIENTS_FILE", clients.toString());
    env.put("TXGW_RECORD_KEYS", RecordSeal.generate("k1"));
    env.put("TXGW_RATE_LIMIT", "0");
    env.put("TXGW_AUTH_FAILURE_MAX_DELAY_MS", "0");
    env.put("TXGW_STATE_DIR", dir.resolve("state").toString());
    gateway = new Gateway(GatewayConfig.fromEnv(env)).start();
  }

  @AfterAll
  static void stop() {
    if (gateway != null) {
      gateway.close();
    }
    if (kafka != null) {
      kafka.close();
    }
    TempDirs.deleteQuietly(dir);
  }

  record Answer(int status, String contentType, String body) {}

  static Answer call(String method, String path, String key, String type, String body)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + path))
            .timeout(Duration.ofSeconds(20))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (key != null) {
      request.header("X-Api-Key", key);
    }
    if (type != null) {
      request.header("Content-Type", type);
    }
    HttpResponse<String> response =
        http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    return new Answer(
        response.statusCode(),
        response.headers().firstValue("Content-Type").orElse(""),
        response.body());
  }

  static JsonNode document() throws Exception {
    Answer served = call("GET", "/openapi.json", null, null, null);
    assertThat(served.status()).isEqualTo(200);
    assertThat(served.contentType()).startsWith("application/json");
    return json.readTree(served.body());
  }

  @Test
  void theDocumentNamesExactlyTheRoutesTheGatewayServes() throws Exception {
    JsonNode doc = document();
    assertThat(doc.get("openapi").asText()).startsWith("3.1.");
    SortedSet<String> documented = new TreeSet<>();
    for (Map.Entry<String, JsonNode> path : doc.get("paths").properties()) {
      path.getValue()
          .fieldNames()
          .forEachRemaining(
              method -> {
                if (!method.equals("parameters")) {
                  documented.add(method.toUpperCase(java.util.Locale.ROOT) + " " + path.getKey());
                }
              });
    }
    assertThat(documented).isEqualTo(gateway.operations());
  }

  @Test
  void everyAnswerOfARealGatewayIsOneTheDocumentDescribes() throws Exception {
    JsonNode doc = document();
    SchemaRegistry schemas =
        SchemaRegistry.withDefaultDialect(
            SpecificationVersion.DRAFT_2020_12, b -> b.schemas(Map.of(DOC, doc.toString())));
    List<String> mismatches = new ArrayList<>();
    String batch =
        """
        {"batchId": "payroll-1", "chain": "ETH", "source": "%s",
         "payouts": [{"id": "p-1", "to": "%s", "amount": "1.25", "memo": "November"}]}
        """
            .formatted(SOURCE, TO);
    String json = "application/json";
    String post = "post /v1/batches";
    // Accepted, the same again, as CSV; then each refusal a client can cause.
    expect(post, 202, "POST", "/v1/batches", ROBOT, json, batch);
    expect(post, 202, "POST", "/v1/batches", ROBOT, json, batch);
    String csv = "id,to,amount,memo\nc-1," + TO + ",0.5,\"Q4, bonus\"\n";
    String csvQuery = "/v1/batches?batchId=csv-1&chain=ETH&source=" + SOURCE;
    expect(post, 202, "POST", csvQuery, ROBOT, "text/csv", csv);
    String bad = batch.replace("payroll-1", "bad-1").replace(TO, "0x1234").replace("p-1", "p-b");
    expect(post, 422, "POST", "/v1/batches", ROBOT, json, bad);
    expect(post, 400, "POST", "/v1/batches", ROBOT, json, "{");
    expect(post, 401, "POST", "/v1/batches", null, json, batch);
    expect(post, 403, "POST", "/v1/batches", BOB, json, batch);
    expect(post, 415, "POST", "/v1/batches", ROBOT, "text/plain", batch);
    String other = batch.replace("1.25", "2.5");
    expect(post, 409, "POST", "/v1/batches", ROBOT, json, other);
    // Above the client's approval threshold: held.
    String large = batch.replace("payroll-1", "held-1").replace("1.25", "20").replace("p-1", "b-1");
    expect(post, 202, "POST", "/v1/batches", ALICE, json, large);
    await().atMost(Duration.ofSeconds(30)).until(() -> read("/v1/batches/payroll-1", ROBOT));
    await().atMost(Duration.ofSeconds(30)).until(() -> read("/v1/approvals/held-1", BOB));
    String batchPath = "get /v1/batches/{batchId}";
    expect(batchPath, 200, "GET", "/v1/batches/payroll-1", ROBOT, null, null);
    expect(batchPath, 404, "GET", "/v1/batches/nothing", ROBOT, null, null);
    expect("get /v1/approvals", 200, "GET", "/v1/approvals", BOB, null, null);
    expect("get /v1/approvals", 403, "GET", "/v1/approvals", ROBOT, null, null);
    String held = "get /v1/approvals/{batchId}";
    expect(held, 200, "GET", "/v1/approvals/held-1", BOB, null, null);
    String reject = "/v1/batches/held-1/reject?reason=wrong%20month";
    expect("post /v1/batches/{batchId}/reject", 200, "POST", reject, BOB, null, null);
    String approve = "/v1/batches/nothing/approve?contentSha256=00";
    expect("post /v1/batches/{batchId}/approve", 404, "POST", approve, BOB, null, null);
    expect("get /v1/limits", 200, "GET", "/v1/limits", ROBOT, null, null);
    expect("get /v1/events", 200, "GET", "/v1/events?limit=10", ROBOT, null, null);
    expect("get /v1/events", 422, "GET", "/v1/events?limit=0", ROBOT, null, null);
    String deliveries = "/v1/webhooks/deliveries?limit=10";
    expect("get /v1/webhooks/deliveries", 200, "GET", deliveries, ROBOT, null, null);
    expect("get /v1/dashboard", 200, "GET", "/v1/dashboard", ROBOT, null, null);
    expect("get /healthz", 200, "GET", "/healthz", null, null, null);
    expect("get /readyz", 200, "GET", "/readyz", null, null, null);
    for (Expected e : expected) {
      check(doc, schemas, mismatches, e.method(), e.path(), e.status(), e.answer());
    }
    assertThat(mismatches).isEmpty();
  }

  /** An answer, and the operation and status the document must describe it under. */
  record Expected(String method, String path, int status, Answer answer) {}

  private final List<Expected> expected = new ArrayList<>();

  /**
   * Makes the call now and notes it for checking as an answer of {@code operation} ("post
   * /v1/batches") with {@code status}.
   */
  private void expect(
      String operation,
      int status,
      String method,
      String path,
      String key,
      String type,
      String body)
      throws Exception {
    String[] parts = operation.split(" ", 2);
    expected.add(new Expected(parts[0], parts[1], status, call(method, path, key, type, body)));
  }

  private static boolean read(String path, String key) throws Exception {
    return call("GET", path, key, null, null).status() == 200;
  }

  /**
   * Records what is wrong with {@code answer} as the answer of {@code method path}: a status the
   * document does not list, another media type, or a body its schema refuses.
   */
  static void check(
      JsonNode doc,
      SchemaRegistry schemas,
      List<String> mismatches,
      String method,
      String path,
      int expected,
      Answer answer) {
    String where = method.toUpperCase(java.util.Locale.ROOT) + " " + path + " " + answer.status();
    if (answer.status() != expected) {
      mismatches.add(where + ": expected " + expected + ", body " + answer.body());
      return;
    }
    JsonNode response = doc.at("/paths/" + escape(path) + "/" + method + "/responses/" + expected);
    if (response.isMissingNode()) {
      mismatches.add(where + ": not in the document; body " + answer.body());
      return;
    }
    String media = answer.contentType().split(";")[0].trim();
    JsonNode content = response.path("content");
    if (content.isMissingNode() || content.isEmpty()) {
      if (!answer.body().isEmpty()) {
        mismatches.add(where + ": documented without a body, answered " + answer.body());
      }
      return;
    }
    if (!content.has(media)) {
      mismatches.add(where + ": media type " + media + " not documented; body " + answer.body());
      return;
    }
    String pointer =
        "#/paths/"
            + escape(path)
            + "/"
            + method
            + "/responses/"
            + expected
            + "/content/"
            + escape(media)
            + "/schema";
    List<com.networknt.schema.Error> errors =
        schemas
            .getSchema(SchemaLocation.of(DOC + pointer))
            .validate(answer.body(), InputFormat.JSON);
    if (!errors.isEmpty()) {
      mismatches.add(where + ": " + errors + "; body " + answer.body());
    }
  }

  /** A JSON pointer's segment: {@code ~} and {@code /} escaped. */
  static String escape(String segment) {
    return segment.replace("~", "~0").replace("/", "~1");
  }
}
