package io.txgw.consumer.chain;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.model.Address;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.common.model.Payout;
import io.txgw.common.model.PayoutStatus;
import io.txgw.consumer.rpc.JsonRpcClient;
import io.txgw.consumer.rpc.RetryPolicy;
import io.txgw.consumer.rpc.RpcEndpoint;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BcoinSenderTest {
  private static final String TO = "rb1qqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9c";
  private static final String OTHER = "rb1qzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz";
  private static final String TXID = "ab".repeat(32);
  private static final String PREV = "cd".repeat(32);

  private final MockWebServer server = io.txgw.consumer.rpc.ScriptedServers.noDelay();
  private final ScriptedNode rpc = new ScriptedNode();
  private final java.util.List<String> restCalls =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile MockResponse createAnswer;
  private final OkHttpClient http = new OkHttpClient();
  private BcoinSender sender;
  private final io.txgw.consumer.ManualClock clock = new io.txgw.consumer.ManualClock();

  @BeforeEach
  void start() throws Exception {
    // JSON-RPC goes to "/", the wallet's REST API to "/wallet/...".
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
            String target = request.getTarget();
            if (target.startsWith("/wallet/")) {
              restCalls.add(request.getMethod() + " " + target);
              return target.endsWith("/create")
                  ? createAnswer
                  : new MockResponse.Builder().body("{\"success\":true}").build();
            }
            return rpc.dispatch(request);
          }
        });
    server.start(InetAddress.getLoopbackAddress(), 0);
    RpcEndpoint endpoint =
        new RpcEndpoint(
            "bcoin", server.url("/").toString(), null, null, false, Duration.ofMillis(500));
    JsonRpcClient client = new JsonRpcClient(endpoint, RetryPolicy.NONE, http);
    sender =
        new BcoinSender(client, client, "primary", 100, java.time.Duration.ofMillis(50), clock);
  }

  @AfterEach
  void stop() {
    server.close();
    JsonRpcClient.shutdown(http);
  }

  private static Payout payout(String id, String to, String amount) {
    return new Payout(
        id,
        "b1",
        "acme",
        Chain.BTC,
        Chain.BTC.nativeAsset(),
        "primary",
        new Address(to),
        Amount.parse(amount),
        null,
        Instant.EPOCH);
  }

  private static JournalEntry unit(String amount) {
    JournalEntry.Item item =
        new JournalEntry.Item(
            "p1",
            "b1",
            "acme",
            new Address(TO),
            Amount.parse(amount),
            Instant.EPOCH,
            0,
            PayoutStatus.ACCEPTED,
            null);
    return new JournalEntry(
        "BTC:" + TXID,
        Chain.BTC,
        "primary",
        TXID,
        "00ff",
        null,
        JournalEntry.State.PREPARED,
        List.of(item),
        Instant.EPOCH,
        Instant.EPOCH);
  }

  private static String txPaying(String btc) {
    return "{\"txid\":\""
        + TXID
        + "\",\"vout\":[{\"value\":"
        + btc
        + ",\"n\":0,\"scriptPubKey\":{\"addresses\":[\""
        + TO
        + "\"]}}]}";
  }

  @Test
  void preparesOneSignedTransactionForManyPayoutsLocksItsInputsAndMapsEachOutput()
      throws Exception {
    createAnswer =
        new MockResponse.Builder()
            .body(
                "{\"hash\":\""
                    + TXID
                    + "\",\"hex\":\"0100\",\"fee\":260,\"inputs\":[{\"prevout\":{\"hash\":\""
                    + PREV
                    + "\",\"index\":3}}],\"outputs\":[{\"address\":\""
                    + OTHER
                    + "\",\"value\":20000},"
                    + "{\"address\":\"change\",\"value\":99},{\"address\":\""
                    + TO
                    + "\",\"value\":12345}]}")
            .build();
    Preparation prepared =
        sender.prepare(
            "primary", List.of(payout("p1", TO, "0.00012345"), payout("p2", OTHER, "0.0002")));
    // bcoin's fee, in satoshis, is kept for children later.
    assertThat(prepared)
        .isEqualTo(
            new Preparation.Signed(
                TXID, "0100", null, List.of(2, 0), java.math.BigInteger.valueOf(260)));
    assertThat(restCalls)
        .containsExactly(
            "POST /wallet/primary/create", "PUT /wallet/primary/locked/" + PREV + "/3");
    assertThat(rpc.calls("sendrawtransaction")).isEmpty();
  }

  @Test
  void aWalletRefusalIsReturnedNotThrown() throws Exception {
    createAnswer =
        new MockResponse.Builder()
            .code(400)
            .body("{\"error\":{\"message\":\"Output is dust.\"}}")
            .build();
    assertThat(sender.prepare("primary", List.of(payout("p1", TO, "0.00000001"))))
        .isEqualTo(new Preparation.Refused("Output is dust."));
  }

  @Test
  void aPayoutFromAnotherWalletIsRefusedWithoutCallingTheNode() throws Exception {
    assertThat(sender.prepare("cold", List.of(payout("p1", TO, "1"))))
        .isInstanceOf(Preparation.Refused.class);
    assertThat(restCalls).isEmpty();
  }

  @Test
  void aBroadcastCountsOnlyOnceTheNodeHoldsTheJournaledOutputs() throws Exception {
    rpc.result("sendrawtransaction", "\"" + TXID + "\"")
        .result("getrawtransaction", txPaying("0.00012345"));
    assertThat(sender.broadcast(unit("0.00012345"))).isEqualTo(SendOutcome.broadcast(TXID));
  }

  @Test
  void aTxidTheNodeNeverHoldsWaitsJournaledAfterResendingTheSameBytes() throws Exception {
    rpc.alwaysResult("sendrawtransaction", "\"" + TXID + "\"")
        .alwaysError("getrawtransaction", -1, "Transaction not found.")
        .result("decoderawtransaction", "{\"vin\":[{\"txid\":\"" + PREV + "\",\"vout\":3}]}")
        .resultFor("getrawtransaction", PREV, "{\"txid\":\"" + PREV + "\",\"confirmations\":4}")
        .result("gettxout", "{\"value\":1}");
    SendOutcome outcome = sender.broadcast(unit("0.001"));
    assertThat(outcome.waits()).as(outcome.toString()).isTrue();
    assertThat(outcome.txid()).isEqualTo(TXID);
    assertThat(rpc.calls("sendrawtransaction"))
        .hasSize(2)
        .allSatisfy(c -> assertThat(c.path("params").get(0).asText()).isEqualTo("00ff"));
  }

  @Test
  void aTransactionWhoseInputWasSpentInTheChainByAnotherIsReplannedOnceThatLastsAMinute()
      throws Exception {
    rpc.alwaysResult("sendrawtransaction", "\"" + TXID + "\"")
        .alwaysError("getrawtransaction", -1, "Transaction not found.")
        .alwaysResult("decoderawtransaction", "{\"vin\":[{\"txid\":\"" + PREV + "\",\"vout\":3}]}")
        .resultFor("getrawtransaction", PREV, "{\"txid\":\"" + PREV + "\",\"confirmations\":4}")
        .alwaysResult("gettxout", "null");
    assertThat(sender.broadcast(unit("0.001")).waits()).isTrue();
    clock.advance(BcoinSender.CONFLICT_AFTER);
    SendOutcome outcome = sender.broadcast(unit("0.001"));
    assertThat(outcome.replan()).as(outcome.toString()).isTrue();
    assertThat(outcome.error()).contains(PREV + ":3", "spent in the chain");
  }

  @Test
  void anInputSeenUnspentAgainStartsTheWaitBeforeAConflictOver() throws Exception {
    rpc.alwaysResult("sendrawtransaction", "\"" + TXID + "\"")
        .alwaysError("getrawtransaction", -1, "Transaction not found.")
        .alwaysResult("decoderawtransaction", "{\"vin\":[{\"txid\":\"" + PREV + "\",\"vout\":3}]}")
        .resultFor("getrawtransaction", PREV, "{\"txid\":\"" + PREV + "\",\"confirmations\":4}")
        .result("gettxout", "null")
        .result("gettxout", "{\"value\":1}")
        .alwaysResult("gettxout", "null");
    // Spent in the chain; then unspent again (its block reorganised away); then spent again a
    // minute after the first sighting, by the unit's own transaction maybe, not indexed yet.
    assertThat(sender.broadcast(unit("0.001")).waits()).isTrue();
    assertThat(sender.broadcast(unit("0.001")).waits()).isTrue();
    clock.advance(BcoinSender.CONFLICT_AFTER);
    SendOutcome outcome = sender.broadcast(unit("0.001"));
    assertThat(outcome.replan()).as(outcome.toString()).isFalse();
    assertThat(outcome.waits()).isTrue();
  }

  @Test
  void aTransactionWhoseInputIsSpentOnlyInTheMempoolWaits() throws Exception {
    rpc.alwaysResult("sendrawtransaction", "\"" + TXID + "\"")
        .alwaysError("getrawtransaction", -1, "Transaction not found.")
        .result("decoderawtransaction", "{\"vin\":[{\"txid\":\"" + PREV + "\",\"vout\":3}]}")
        .resultFor("getrawtransaction", PREV, "{\"txid\":\"" + PREV + "\",\"confirmations\":4}")
        .result("gettxout", "{\"value\":1}");
    SendOutcome outcome = sender.broadcast(unit("0.001"));
    assertThat(outcome.waits()).isTrue();
    assertThat(outcome.replan()).isFalse();
  }

  @Test
  void anInputSpentByTheTransactionItselfIsItsPaymentNotAConflict() throws Exception {
    // Mined while we looked: its input is spent in the chain by itself, never paid anew.
    rpc.alwaysResult("sendrawtransaction", "\"" + TXID + "\"");
    for (int i = 0; i < 8; i++) {
      rpc.then("getrawtransaction", ScriptedNode.errorAnswer(200, -1, "Transaction not found."));
    }
    rpc.result("getrawtransaction", txPaying("0.001"))
        .result("decoderawtransaction", "{\"vin\":[{\"txid\":\"" + PREV + "\",\"vout\":3}]}")
        .resultFor("getrawtransaction", PREV, "{\"txid\":\"" + PREV + "\",\"confirmations\":4}")
        .result("gettxout", "null");
    assertThat(sender.broadcast(unit("0.001"))).isEqualTo(SendOutcome.broadcast(TXID));
  }

  @Test
  void aLookUpThatTimesOutIsNotReadAsNotHeld() throws Exception {
    rpc.alwaysResult("sendrawtransaction", "\"" + TXID + "\"")
        .then(
            "getrawtransaction",
            new MockResponse.Builder()
                .headersDelay(2, java.util.concurrent.TimeUnit.SECONDS)
                .body("{}")
                .build());
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> sender.broadcast(unit("0.001")))
        .isInstanceOf(NodeUnavailableException.class);
    assertThat(rpc.calls("gettxout")).isEmpty();
  }

  @Test
  void aRateLimitedLookUpIsNotReadAsNotHeld() throws Exception {
    rpc.alwaysResult("sendrawtransaction", "\"" + TXID + "\"")
        .then("getrawtransaction", ScriptedNode.errorAnswer(429, -32005, "slow down"));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> sender.broadcast(unit("0.001")))
        .isInstanceOf(NodeUnavailableException.class);
  }

  @Test
  void aTransactionWithOtherOutputsIsNeverReportedAndWaits() throws Exception {
    rpc.result("sendrawtransaction", "\"" + TXID + "\"")
        .result("getrawtransaction", txPaying("0.001"));
    assertThat(sender.broadcast(unit("0.002")).waits()).isTrue();
  }
}
