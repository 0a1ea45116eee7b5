package io.txgw.consumer.chain;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.model.Address;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.common.model.Payout;
import io.txgw.consumer.rpc.JsonRpcClient;
import io.txgw.consumer.rpc.RetryPolicy;
import io.txgw.consumer.rpc.RpcEndpoint;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Bitcoin Core dialect against a scripted node that answers as Core does (errors with 500). */
class BitcoinCoreSenderTest {
  private static final String A = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
  private static final String B = "bcrt1q8c6fshw2dlwun7ekn9qwf37cu2rn755upcp6el";
  private static final String TXID = "ef".repeat(32);

  private final MockWebServer server = io.txgw.consumer.rpc.ScriptedServers.noDelay();
  private final ScriptedNode node = new ScriptedNode();
  private final OkHttpClient http = new OkHttpClient();
  private BitcoinCoreSender sender;

  @BeforeEach
  void start() throws Exception {
    server.setDispatcher(node);
    server.start(InetAddress.getLoopbackAddress(), 0);
    RpcEndpoint endpoint =
        new RpcEndpoint(
            "core", server.url("/").toString(), null, null, false, Duration.ofMillis(500));
    JsonRpcClient client = new JsonRpcClient(endpoint, RetryPolicy.NONE, http);
    sender = new BitcoinCoreSender(client, client, "payouts", 100);
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
        "payouts",
        new Address(to),
        Amount.parse(amount),
        null,
        Instant.EPOCH);
  }

  private static JournalEntry unit() {
    return new JournalEntry(
        "BTC:" + TXID,
        Chain.BTC,
        "payouts",
        TXID,
        "0200",
        null,
        JournalEntry.State.PREPARED,
        List.of(),
        Instant.EPOCH,
        Instant.EPOCH);
  }

  /** Core answers JSON-RPC errors with HTTP 500. */
  private ScriptedNode coreError(String method, int code, String message) {
    return node.then(method, ScriptedNode.errorAnswer(500, code, message));
  }

  @Test
  void preparesFundsWithLockedInputsSignsAndMapsEachPayoutToItsOutput() throws Exception {
    sender.liftingStuck(true);
    node.result("createrawtransaction", "\"0100raw\"")
        .result("fundrawtransaction", "{\"hex\":\"0100funded\",\"fee\":0.00001,\"changepos\":0}")
        .result("signrawtransactionwithwallet", "{\"hex\":\"0100signed\",\"complete\":true}")
        .result(
            "decoderawtransaction",
            "{\"txid\":\""
                + TXID
                + "\",\"vout\":["
                + "{\"value\":12.5,\"n\":0,\"scriptPubKey\":{\"address\":\"change\"}},"
                + "{\"value\":0.00000001,\"n\":1,\"scriptPubKey\":{\"address\":\""
                + B
                + "\"}},"
                + "{\"value\":0.1,\"n\":2,\"scriptPubKey\":{\"address\":\""
                + A
                + "\"}}]}");
    Preparation prepared =
        sender.prepare("payouts", List.of(payout("p1", A, "0.1"), payout("p2", B, "0.00000001")));
    // The fee Core's wallet funded with, 0.00001 BTC, is kept in satoshis for children later.
    assertThat(prepared)
        .isEqualTo(
            new Preparation.Signed(
                TXID, "0100signed", null, List.of(2, 1), java.math.BigInteger.valueOf(1_000)));
    assertThat(
            node.calls("fundrawtransaction")
                .get(0)
                .path("params")
                .get(1)
                .path("lockUnspents")
                .asBoolean())
        .isTrue();
    // Lifting stuck transactions: confirmed coins only, unconfirmed change is for children.
    assertThat(
            node.calls("fundrawtransaction").get(0).path("params").get(1).path("minconf").asInt())
        .isEqualTo(1);
    assertThat(
            node.calls("createrawtransaction").get(0).path("params").get(1).path(B).decimalValue())
        .isEqualByComparingTo("0.00000001");
    assertThat(node.calls("sendrawtransaction")).isEmpty();
  }

  @Test
  void insufficientFundsIsARefusal() throws Exception {
    node.result("createrawtransaction", "\"0100raw\"");
    coreError("fundrawtransaction", -4, "Insufficient funds");
    assertThat(sender.prepare("payouts", List.of(payout("p1", A, "50"))))
        .isEqualTo(new Preparation.Refused("Insufficient funds (code -4)"));
  }

  @Test
  void ourTransactionAlreadyInTheChainIsBroadcast() throws Exception {
    coreError("sendrawtransaction", -27, "Transaction already in block chain");
    node.result("gettransaction", "{\"txid\":\"" + TXID + "\",\"confirmations\":3}");
    assertThat(sender.broadcast(unit())).isEqualTo(SendOutcome.broadcast(TXID));
  }

  @Test
  void aTransactionConflictedByOneInTheChainIsReplanned() throws Exception {
    coreError("sendrawtransaction", -25, "bad-txns-inputs-missingorspent");
    node.result("gettransaction", "{\"txid\":\"" + TXID + "\",\"confirmations\":-2}");
    SendOutcome outcome = sender.broadcast(unit());
    assertThat(outcome.replan()).isTrue();
  }

  @Test
  void aTransactionTheWalletDoesNotKnowWaitsJournaled() throws Exception {
    node.result("sendrawtransaction", "\"" + TXID + "\"");
    coreError("gettransaction", -5, "Invalid or non-wallet transaction id");
    assertThat(sender.broadcast(unit()).waits()).isTrue();
  }
}
