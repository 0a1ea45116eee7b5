package io.txgw.consumer.chain;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.address.Keccak;
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
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class EthereumSenderTest {
  private static final String FROM = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
  private static final String TO = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
  private static final String RAW = "0x02f86c0102030405";
  private static final String HASH =
      "0x" + HexFormat.of().formatHex(Keccak.hash256(HexFormat.of().parseHex(RAW.substring(2))));

  private final MockWebServer server = new MockWebServer();
  private final ScriptedNode node = new ScriptedNode();
  private final OkHttpClient http = new OkHttpClient();
  private EthereumSender sender;

  @BeforeEach
  void start() throws Exception {
    server.setDispatcher(node);
    server.start(InetAddress.getLoopbackAddress(), 0);
    RpcEndpoint endpoint =
        new RpcEndpoint(
            "anvil", server.url("/").toString(), null, null, true, Duration.ofMillis(500));
    sender =
        new EthereumSender(new JsonRpcClient(endpoint, RetryPolicy.NONE, http), Clock.systemUTC());
    node.alwaysResult("eth_gasPrice", "\"0x3b9aca00\"")
        .alwaysResult("eth_signTransaction", "\"" + RAW + "\"");
  }

  @AfterEach
  void stop() {
    server.close();
    JsonRpcClient.shutdown(http);
  }

  private static Payout payout(String id, String amount) {
    return new Payout(
        id,
        "b1",
        "acme",
        Chain.ETH,
        Chain.ETH.nativeAsset(),
        FROM,
        new Address(TO),
        Amount.parse(amount),
        null,
        Instant.EPOCH);
  }

  private static JournalEntry unit(long nonce) {
    return new JournalEntry(
        "ETH:" + HASH,
        Chain.ETH,
        FROM,
        HASH,
        RAW,
        nonce,
        JournalEntry.State.PREPARED,
        List.of(),
        Instant.EPOCH,
        Instant.EPOCH);
  }

  @Test
  void preparesWithConsecutiveNoncesTheExactValueInWeiAndTheTxidOfTheSignedBytes()
      throws Exception {
    node.result("eth_getTransactionCount", "\"0x5\"");
    Preparation first = sender.prepare(FROM, List.of(payout("p1", "1.000000000000000001")));
    Preparation second = sender.prepare(FROM, List.of(payout("p2", "2")));
    assertThat(first).isEqualTo(new Preparation.Signed(HASH, RAW, 5L, List.of()));
    assertThat(((Preparation.Signed) second).nonce()).isEqualTo(6L);
    var signs = node.calls("eth_signTransaction");
    assertThat(signs.get(0).path("params").get(0).path("value").asText())
        .isEqualTo("0xde0b6b3a7640001");
    assertThat(node.calls("eth_getTransactionCount")).hasSize(1);
    assertThat(node.calls("eth_sendRawTransaction")).isEmpty();
  }

  @Test
  void aBroadcastCountsOnceTheNodeHoldsTheTransactionAndCanMineIt() throws Exception {
    node.result("eth_sendRawTransaction", "\"" + HASH + "\"")
        .result("eth_getTransactionByHash", "{\"hash\":\"" + HASH + "\",\"blockNumber\":null}")
        .resultFor("eth_getTransactionCount", "pending", "\"0x1\"");
    assertThat(sender.broadcast(unit(0))).isEqualTo(SendOutcome.broadcast(HASH));
  }

  @Test
  void aMinedTransactionCountsWithoutAskingForTheNonce() throws Exception {
    node.result("eth_sendRawTransaction", "\"" + HASH + "\"")
        .result("eth_getTransactionByHash", "{\"hash\":\"" + HASH + "\",\"blockNumber\":\"0x7\"}");
    assertThat(sender.broadcast(unit(0))).isEqualTo(SendOutcome.broadcast(HASH));
    assertThat(node.calls("eth_getTransactionCount")).isEmpty();
  }

  @Test
  void aTransactionQueuedBehindAMissingNonceWaitsInsteadOfCountingAsBroadcast() throws Exception {
    node.alwaysResult("eth_sendRawTransaction", "\"" + HASH + "\"")
        .alwaysResult(
            "eth_getTransactionByHash", "{\"hash\":\"" + HASH + "\",\"blockNumber\":null}")
        .resultFor("eth_getTransactionCount", "pending", "\"0x3\"");
    SendOutcome outcome = sender.broadcast(unit(5));
    assertThat(outcome.waits()).as(outcome.toString()).isTrue();
    assertThat(outcome.status()).isNull();
    assertThat(outcome.error()).contains("pending count is 3", "nonce 5");
  }

  @Test
  void aTransactionStrandedInTheDevNodesPoolWithNothingMissingBeforeItIsSentAgain()
      throws Exception {
    node.alwaysResult("eth_sendRawTransaction", "\"" + HASH + "\"")
        .alwaysResult(
            "eth_getTransactionByHash", "{\"hash\":\"" + HASH + "\",\"blockNumber\":null}")
        .result("eth_getTransactionCount", "\"0x5\"")
        .result("eth_getTransactionCount", "\"0x5\"")
        .result("eth_getTransactionCount", "\"0x6\"")
        .result("anvil_removePoolTransactions", "null");
    assertThat(sender.broadcast(unit(5))).isEqualTo(SendOutcome.broadcast(HASH));
    assertThat(node.calls("eth_sendRawTransaction"))
        .hasSize(2)
        .allSatisfy(c -> assertThat(c.path("params").get(0).asText()).isEqualTo(RAW));
  }

  @Test
  void aStrandedTransactionOnANodeThatCannotClearItsPoolWaits() throws Exception {
    node.alwaysResult("eth_sendRawTransaction", "\"" + HASH + "\"")
        .alwaysResult(
            "eth_getTransactionByHash", "{\"hash\":\"" + HASH + "\",\"blockNumber\":null}")
        .alwaysResult("eth_getTransactionCount", "\"0x5\"");
    assertThat(sender.broadcast(unit(5)).waits()).isTrue();
  }

  @Test
  void aNonceTakenInTheChainByAnotherTransactionPreparesThePayoutsAnew() throws Exception {
    node.error("eth_sendRawTransaction", -32003, "nonce too low")
        .alwaysResult("eth_getTransactionByHash", "null")
        .resultFor("eth_getTransactionCount", "latest", "\"0x6\"");
    SendOutcome outcome = sender.broadcast(unit(5));
    assertThat(outcome.replan()).as(outcome.toString()).isTrue();
  }

  @Test
  void aNonceHeldByAnotherTransactionStillInThePoolWaits() throws Exception {
    node.error("eth_sendRawTransaction", -32003, "replacement transaction underpriced")
        .alwaysResult("eth_getTransactionByHash", "null")
        .resultFor("eth_getTransactionCount", "latest", "\"0x5\"");
    SendOutcome outcome = sender.broadcast(unit(5));
    assertThat(outcome.waits()).as(outcome.toString()).isTrue();
    assertThat(outcome.error()).contains("replacement transaction underpriced");
  }

  @Test
  void aForgottenAccountAsksTheNodeForItsNonceAgain() throws Exception {
    node.result("eth_getTransactionCount", "\"0x5\"").result("eth_getTransactionCount", "\"0x9\"");
    sender.prepare(FROM, List.of(payout("p1", "1")));
    sender.forget(FROM);
    Preparation again = sender.prepare(FROM, List.of(payout("p2", "1")));
    assertThat(((Preparation.Signed) again).nonce()).isEqualTo(9L);
  }

  @Test
  void insufficientFundsFailsAndTheNonceIsAskedOfTheNodeAgain() throws Exception {
    node.alwaysResult("eth_getTransactionCount", "\"0x0\"")
        .error("eth_sendRawTransaction", -32003, "Insufficient funds for gas * price + value");
    sender.prepare(FROM, List.of(payout("p1", "20000")));
    SendOutcome failed = sender.broadcast(unit(0));
    assertThat(failed.status()).isEqualTo(PayoutStatus.FAILED);
    assertThat(failed.error()).contains("Insufficient funds");
    Preparation again = sender.prepare(FROM, List.of(payout("p2", "1")));
    assertThat(((Preparation.Signed) again).nonce()).isZero();
  }

  @Test
  void aBroadcastWithoutAnswerIsSettledByLookingTheHashUp() throws Exception {
    node.then(
            "eth_sendRawTransaction",
            new MockResponse.Builder().headersDelay(2, TimeUnit.SECONDS).body("{}").build())
        .alwaysResult("eth_getTransactionByHash", "{\"hash\":\"" + HASH + "\"}")
        .resultFor("eth_getTransactionCount", "pending", "\"0x1\"");
    assertThat(sender.broadcast(unit(0))).isEqualTo(SendOutcome.broadcast(HASH));
    assertThat(node.calls("eth_signTransaction")).isEmpty();
  }

  @Test
  void nonceTooLowForOurOwnMinedTransactionIsSuccess() throws Exception {
    node.error("eth_sendRawTransaction", -32003, "nonce too low")
        .alwaysResult("eth_getTransactionByHash", "{\"hash\":\"" + HASH + "\"}")
        .resultFor("eth_getTransactionCount", "pending", "\"0x1\"");
    assertThat(sender.broadcast(unit(0))).isEqualTo(SendOutcome.broadcast(HASH));
  }

  @Test
  void aTransactionTheNodeNeverHoldsIsResentAsTheSameBytesThenUnknown() throws Exception {
    node.alwaysResult("eth_sendRawTransaction", "\"" + HASH + "\"")
        .alwaysResult("eth_getTransactionByHash", "null");
    SendOutcome outcome = sender.broadcast(unit(0));
    assertThat(outcome.status()).isEqualTo(PayoutStatus.UNKNOWN);
    assertThat(outcome.txid()).isEqualTo(HASH);
    assertThat(node.calls("eth_sendRawTransaction"))
        .allSatisfy(c -> assertThat(c.path("params").get(0).asText()).isEqualTo(RAW));
  }

  @Test
  void aNodeErrorWhileSigningIsARefusal() throws Exception {
    node.result("eth_getTransactionCount", "\"0x0\"");
    ScriptedNode refusing = new ScriptedNode();
    server.setDispatcher(refusing);
    refusing
        .alwaysResult("eth_getTransactionCount", "\"0x0\"")
        .alwaysResult("eth_gasPrice", "\"0x1\"")
        .alwaysError("eth_signTransaction", -32602, "No Signer available");
    assertThat(sender.prepare(FROM, List.of(payout("p1", "1"))))
        .isEqualTo(new Preparation.Refused("No Signer available (code -32602)"));
  }
}
