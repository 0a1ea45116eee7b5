package io.txgw.consumer.chain;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.model.Address;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import io.txgw.common.model.Payout;
import io.txgw.common.model.PayoutStatus;
import io.txgw.consumer.rpc.JsonRpcClient;
import io.txgw.consumer.rpc.RetryPolicy;
import io.txgw.consumer.rpc.RpcEndpoint;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.SocketEffect;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BcoinSenderTest {
  private static final String TO = "rb1qqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9c";
  private static final String TXID = "ab".repeat(32);

  private final MockWebServer server = new MockWebServer();
  private final ScriptedNode node = new ScriptedNode();
  private final OkHttpClient http = new OkHttpClient();
  private BcoinSender sender;

  @BeforeEach
  void start() throws Exception {
    server.setDispatcher(node);
    server.start(InetAddress.getLoopbackAddress(), 0);
    RpcEndpoint endpoint =
        new RpcEndpoint(
            "bcoin", server.url("/").toString(), null, null, false, Duration.ofMillis(500));
    JsonRpcClient rpc = new JsonRpcClient(endpoint, RetryPolicy.NONE, http);
    sender = new BcoinSender(rpc, rpc, "primary");
  }

  @AfterEach
  void stop() {
    server.close();
    JsonRpcClient.shutdown(http);
  }

  private static Payout payout(String amount) {
    return new Payout(
        "p1",
        "b1",
        "acme",
        Chain.BTC,
        Chain.BTC.nativeAsset(),
        "primary",
        new Address(TO),
        Amount.parse(amount),
        null,
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
  void aTxidCountsOnlyOnceTheNodeHoldsATransactionPayingExactlyTheAmount() throws Exception {
    node.result("sendtoaddress", "\"" + TXID + "\"")
        .result("getrawtransaction", txPaying("0.00012345"));
    SendOutcome outcome = sender.send(payout("0.00012345"));
    assertThat(outcome).isEqualTo(SendOutcome.broadcast(TXID));
  }

  @Test
  void aTxidTheNodeNeverHoldsIsUnknownNotBroadcast() throws Exception {
    node.result("sendtoaddress", "\"" + TXID + "\"")
        .alwaysError("getrawtransaction", -1, "Transaction not found.");
    SendOutcome outcome = sender.send(payout("0.001"));
    assertThat(outcome.status()).isEqualTo(PayoutStatus.UNKNOWN);
    assertThat(outcome.txid()).isEqualTo(TXID);
    assertThat(outcome.error()).contains("holds no such transaction");
    assertThat(node.calls("sendtoaddress")).hasSize(1);
  }

  @Test
  void aTransactionPayingAnotherAmountIsUnknown() throws Exception {
    node.result("sendtoaddress", "\"" + TXID + "\"").result("getrawtransaction", txPaying("0.001"));
    assertThat(sender.send(payout("0.002")).status()).isEqualTo(PayoutStatus.UNKNOWN);
  }

  @Test
  void insufficientFundsFailsWithTheNodesReason() throws Exception {
    node.error("sendtoaddress", -6, "Not enough funds. (available=0.1)");
    SendOutcome outcome = sender.send(payout("5"));
    assertThat(outcome.status()).isEqualTo(PayoutStatus.FAILED);
    assertThat(outcome.error()).isEqualTo("Not enough funds. (available=0.1) (code -6)");
  }

  @Test
  void aSendWithoutAnswerIsLookedUpInTheWalletNotResent() throws Exception {
    node.then(
            "sendtoaddress",
            new MockResponse.Builder().headersDelay(2, TimeUnit.SECONDS).body("{}").build())
        .result(
            "listtransactions",
            "[{\"category\":\"send\",\"address\":\""
                + TO
                + "\",\"amount\":-0.00012345,\"txid\":\""
                + TXID
                + "\"}]")
        .result("getrawtransaction", txPaying("0.00012345"));
    SendOutcome outcome = sender.send(payout("0.00012345"));
    assertThat(outcome).isEqualTo(SendOutcome.broadcast(TXID));
    assertThat(node.calls("sendtoaddress")).hasSize(1);
  }

  @Test
  void aSendWithoutAnswerAndNoTraceInTheWalletIsUnknown() throws Exception {
    node.then(
            "sendtoaddress",
            new MockResponse.Builder()
                .onResponseStart(SocketEffect.ShutdownConnection.INSTANCE)
                .build())
        .result("listtransactions", "[]");
    SendOutcome outcome = sender.send(payout("0.001"));
    assertThat(outcome.status()).isEqualTo(PayoutStatus.UNKNOWN);
    assertThat(node.calls("sendtoaddress")).hasSize(1);
  }

  @Test
  void aPayoutFromAnotherWalletFailsWithoutCallingTheNode() throws Exception {
    Payout other =
        new Payout(
            "p1",
            "b1",
            "acme",
            Chain.BTC,
            Chain.BTC.nativeAsset(),
            "cold",
            new Address(TO),
            Amount.parse("1"),
            null,
            Instant.EPOCH);
    assertThat(sender.send(other).status()).isEqualTo(PayoutStatus.FAILED);
    assertThat(node.calls).isEmpty();
  }
}
