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
import java.util.Iterator;
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
    for (Iterator<Map.Entry<String, JsonNode>> paths = doc.get("paths").fields();
        paths.hasNext(); ) {
      Map.Entry<String, JsonNode> path = paths.next();
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
    check(
        doc,
        schemas,
        mismatches,
        "post",
        "/v1/batches",
        202,
        call("POST", "/v1/batches", ROBOT, "application/json", batch));
    check(
        doc,
        schemas,
        mismatches,
        "post",
        "/v1/batches",
        202,
        call("POST", "/v1/batches", ROBOT, "application/json", batch));
    check(
        doc,
        schemas,
        mismatches,
        "post",
        "/v1/batches",
        202,
        call(
            "POST",
            "/v1/batches?batchId=csv-1&chain=ETH&source=" + SOURCE,
            ROBOT,
            "text/csv",
            "id,to,amount,memo\nc-1," + TO + ",0.5,\"Q4, bonus\"\n"));
    check(
        doc,
        schemas,
        mismatches,
        "post",
        "/v1/batches",
        422,
        call(
            "POST",
            "/v1/batches",
            ROBOT,
            "application/json",
            batch.replace("payroll-1", "bad-1").replace(TO, "0x1234").replace("p-1", "p-bad")));
    check(
        doc,
        schemas,
        mismatches,
        "post",
        "/v1/batches",
        400,
        call("POST", "/v1/batches", ROBOT, "application/json", "{"));
    check(
        doc,
        schemas,
        mismatches,
        "post",
        "/v1/batches",
        401,
        call("POST", "/v1/batches", null, "application/json", batch));
    check(
        doc,
        schemas,
        mismatches,
        "post",
        "/v1/batches",
        403,
        call("POST", "/v1/batches", BOB, "application/json", batch));
    check(
        doc,
        schemas,
        mismatches,
        "post",
        "/v1/batches",
        415,
        call("POST", "/v1/batches", ROBOT, "text/plain", batch));
    check(
        doc,
        schemas,
        mismatches,
        "post",
        "/v1/batches",
        409,
        call("POST", "/v1/batches", ROBOT, "application/json", batch.replace("1.25", "2.5")));
    String large =
        batch.replace("payroll-1", "held-1").replace("1.25", "20").replace("p-1", "big-1");
    check(
        doc,
        schemas,
        mismatches,
        "post",
        "/v1/batches",
        202,
        call("POST", "/v1/batches", ALICE, "application/json", large));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> call("GET", "/v1/batches/payroll-1", ROBOT, null, null).status() == 200);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> call("GET", "/v1/approvals/held-1", BOB, null, null).status() == 200);
    check(
        doc,
        schemas,
        mismatches,
        "get",
        "/v1/batches/{batchId}",
        200,
        call("GET", "/v1/batches/payroll-1", ROBOT, null, null));
    check(
        doc,
        schemas,
        mismatches,
        "get",
        "/v1/batches/{batchId}",
        404,
        call("GET", "/v1/batches/nothing", ROBOT, null, null));
    check(
        doc,
        schemas,
        mismatches,
        "get",
        "/v1/approvals",
        200,
        call("GET", "/v1/approvals", BOB, null, null));
    check(
        doc,
        schemas,
        mismatches,
        "get",
        "/v1/approvals",
        403,
        call("GET", "/v1/approvals", ROBOT, null, null));
    check(
        doc,
        schemas,
        mismatches,
        "get",
        "/v1/approvals/{batchId}",
        200,
        call("GET", "/v1/approvals/held-1", BOB, null, null));
    check(
        doc,
        schemas,
        mismatches,
        "post",
        "/v1/batches/{batchId}/reject",
        200,
        call("POST", "/v1/batches/held-1/reject?reason=wrong%20month", BOB, null, null));
    check(
        doc,
        schemas,
        mismatches,
        "post",
        "/v1/batches/{batchId}/approve",
        404,
        call("POST", "/v1/batches/nothing/approve?contentSha256=00", BOB, null, null));
    check(
        doc,
        schemas,
        mismatches,
        "get",
        "/v1/limits",
        200,
        call("GET", "/v1/limits", ROBOT, null, null));
    check(
        doc,
        schemas,
        mismatches,
        "get",
        "/v1/events",
        200,
        call("GET", "/v1/events?limit=10", ROBOT, null, null));
    check(
        doc,
        schemas,
        mismatches,
        "get",
        "/v1/events",
        422,
        call("GET", "/v1/events?limit=0", ROBOT, null, null));
    check(
        doc,
        schemas,
        mismatches,
        "get",
        "/v1/webhooks/deliveries",
        200,
        call("GET", "/v1/webhooks/deliveries?limit=10", ROBOT, null, null));
    check(
        doc,
        schemas,
        mismatches,
        "get",
        "/v1/dashboard",
        200,
        call("GET", "/v1/dashboard", ROBOT, null, null));
    check(
        doc,
        schemas,
        mismatches,
        "get",
        "/healthz",
        200,
        call("GET", "/healthz", null, null, null));
    check(
        doc, schemas, mismatches, "get", "/readyz", 200, call("GET", "/readyz", null, null, null));
    assertThat(mismatches).isEmpty();
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
