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
import java.math.BigInteger;
import java.net.InetAddress;
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

  private static String txidOf(String raw) {
    return "0x"
        + HexFormat.of().formatHex(Keccak.hash256(HexFormat.of().parseHex(raw.substring(2))));
  }

  /** anvil's and hardhat's first development key, whose account is FROM. */
  static final io.txgw.consumer.signing.KeystoreSigner KEYS =
      io.txgw.consumer.signing.KeystoreSigner.ofKeys(
          List.of(
              org.web3j.crypto.ECKeyPair.create(
                  new BigInteger(
                      "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", 16))));

  /** 10,000 ETH in wei, hex. */
  private static final String RICH = "0x21e19e0c9bab2400000";

  private static final String MINED = "{\"transactionHash\":\"" + HASH + "\",\"status\":\"0x1\"}";

  private final MockWebServer server = io.txgw.consumer.rpc.ScriptedServers.noDelay();
  private final io.txgw.consumer.ManualClock clock = new io.txgw.consumer.ManualClock();
  private final ScriptedNode node = new ScriptedNode();
  private final OkHttpClient http = new OkHttpClient();
  private EthereumSender sender;
  private RpcEndpoint endpoint;

  @BeforeEach
  void start() throws Exception {
    server.setDispatcher(node);
    server.start(InetAddress.getLoopbackAddress(), 0);
    endpoint =
        new RpcEndpoint(
            "anvil", server.url("/").toString(), null, null, true, Duration.ofMillis(500));
    // The scripted units below carry stand-in bytes: replaced as the coin transfers they pay.
    sender =
        new EthereumSender(new JsonRpcClient(endpoint, RetryPolicy.NONE, http), clock)
            .replacingUndecodedAsCoin();
    node.alwaysResult("eth_gasPrice", "\"0x3b9aca00\"")
        .alwaysResult("eth_getCode", "\"0x\"")
        .alwaysResult("eth_chainId", "\"0x7a69\"")
        .signingWith(KEYS)
        .alwaysResult("eth_getBalance", "\"" + RICH + "\"");
  }

  @AfterEach
  void stop() {
    server.close();
    JsonRpcClient.shutdown(http);
  }

  private static Payout payout(String id, String amount) {
    return io.txgw.common.model.TestPayouts.eth(id, FROM, TO, amount);
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
  void preparesWithConsecutiveNoncesFromTheLatestBlockTheExactValueInWeiAndTheTxidOfTheSignedBytes()
      throws Exception {
    node.resultFor("eth_getTransactionCount", "latest", "\"0x5\"");
    Preparation first = sender.prepare(FROM, List.of(payout("p1", "1.000000000000000001")));
    Preparation second = sender.prepare(FROM, List.of(payout("p2", "2")));
    Preparation.Signed signed = (Preparation.Signed) first;
    assertThat(signed.nonce()).isEqualTo(5L);
    assertThat(signed.feePerGas()).isEqualTo(BigInteger.valueOf(1_000_000_000L));
    assertThat(signed.txid())
        .isEqualTo(
            "0x"
                + HexFormat.of()
                    .formatHex(
                        Keccak.hash256(
                            HexFormat.of().parseHex(signed.rawTransaction().substring(2)))));
    var decoded = io.txgw.consumer.signing.SignedTransactions.decode(signed.rawTransaction());
    assertThat(decoded.from()).isEqualToIgnoringCase(FROM);
    assertThat(decoded.to()).isEqualToIgnoringCase(TO);
    assertThat(decoded.value()).isEqualTo(new BigInteger("1000000000000000001"));
    assertThat(decoded.chainId()).isEqualTo(31337L);
    assertThat(((Preparation.Signed) second).nonce()).isEqualTo(6L);
    var signs = node.calls("eth_signTransaction");
    assertThat(signs.get(0).path("params").get(0).path("value").asText())
        .isEqualTo("0xde0b6b3a7640001");
    assertThat(node.calls("eth_getTransactionCount")).hasSize(1);
    assertThat(node.calls("eth_sendRawTransaction")).isEmpty();
  }

  @Test
  void theNonceCountAndTheBalanceAreReadAtOneBlockNamedByItsHash() throws Exception {
    node.resultFor("eth_getTransactionCount", "latest", "\"0x5\"");
    sender.prepare(FROM, List.of(payout("p1", "1")));
    for (String read : List.of("eth_getTransactionCount", "eth_getBalance")) {
      assertThat(node.calls(read))
          .singleElement()
          .satisfies(
              c ->
                  assertThat(c.path("params").get(1).path("blockHash").asText())
                      .isEqualTo(ScriptedNode.HEAD));
    }
  }

  @Test
  void aFollowedUnitWhoseBlockIsGoneHoldsItsCostAndTheNextPayoutSignsAboveIt() throws Exception {
    // The journal holds nonce 5 mined and awaiting its depth; a reorganisation took its block, so
    // the count is 5 again and the balance (1.5 ETH) whole: it will be mined again.
    io.txgw.consumer.signing.EthTransaction mined =
        new io.txgw.consumer.signing.EthTransaction(
            31337,
            5,
            FROM,
            TO,
            new BigInteger("1000000000000000000"),
            21_000,
            new io.txgw.consumer.signing.EthFees.Legacy(BigInteger.valueOf(1_000_000_000L)),
            "0x");
    sender.following(
        List.of(
            new JournalEntry(
                "ETH:" + HASH,
                Chain.ETH,
                FROM,
                HASH,
                KEYS.sign(mined),
                5L,
                JournalEntry.State.CONFIRMING,
                List.of(),
                Instant.EPOCH,
                Instant.EPOCH)));
    node.resultFor("eth_getTransactionCount", "latest", "\"0x5\"")
        .alwaysResult("eth_getBalance", "\"0x14d1120d7b160000\"");

    assertThat(sender.prepare(FROM, List.of(payout("p1", "1"))))
        .isInstanceOf(Preparation.Refused.class);
    Preparation.Signed small =
        (Preparation.Signed) sender.prepare(FROM, List.of(payout("p2", "0.1")));
    assertThat(small.nonce()).isEqualTo(6L);
  }

  @Test
  void aNodeThatDoesNotHoldTheLatestBlockSignsNothing() throws Exception {
    // geth's answer when another node in rotation named a block this one has not imported yet.
    node.alwaysError("eth_getBalance", -32000, "header for hash not found")
        .resultFor("eth_getTransactionCount", "latest", "\"0x5\"");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> sender.prepare(FROM, List.of(payout("p1", "1"))))
        .isInstanceOf(NodeUnavailableException.class)
        .hasMessageContaining("header for hash not found");
    assertThat(node.calls("eth_signTransaction")).isEmpty();
  }

  @Test
  void aPayoutTheAccountCannotAffordIsRefusedBeforeAnythingIsSigned() throws Exception {
    node.resultFor("eth_getTransactionCount", "latest", "\"0x0\"")
        .then("eth_getBalance", ScriptedNode.resultAnswer("\"0x0\""))
        .then("eth_getBalance", ScriptedNode.resultAnswer("\"0x0\""));
    Preparation refused = sender.prepare(FROM, List.of(payout("p1", "1")));
    assertThat(refused).isInstanceOf(Preparation.Refused.class);
    assertThat(((Preparation.Refused) refused).reason()).contains("insufficient funds");
    assertThat(node.calls("eth_signTransaction")).isEmpty();
    // Topped up since: the balance is read again before refusing, and the payout is signed.
    Preparation signed = sender.prepare(FROM, List.of(payout("p2", "1")));
    assertThat(signed).isInstanceOf(Preparation.Signed.class);
  }

  @Test
  void aRoundSpendsTheBalanceItReadOnceAndRefusesWhatNoLongerFits() throws Exception {
    // 1.5 ETH: the first payout of 1 ETH fits, the second no longer does.
    node.resultFor("eth_getTransactionCount", "latest", "\"0x0\"")
        .alwaysResult("eth_getBalance", "\"0x14d1120d7b160000\"");
    assertThat(sender.prepare(FROM, List.of(payout("p1", "1"))))
        .isInstanceOf(Preparation.Signed.class);
    assertThat(sender.prepare(FROM, List.of(payout("p2", "1"))))
        .isInstanceOf(Preparation.Refused.class);
    assertThat(node.calls("eth_signTransaction")).hasSize(1);
  }

  @Test
  void aMinedTransactionIsBroadcastOnItsReceiptAlone() throws Exception {
    // The nonce count says it can be mined; the receipt says it is.
    node.resultFor("eth_getTransactionCount", "latest", "\"0x1\"")
        .result("eth_getTransactionReceipt", MINED);
    assertThat(sender.broadcast(unit(0))).isEqualTo(SendOutcome.broadcast(HASH));
    assertThat(node.calls("eth_sendRawTransaction")).as("not sent again").isEmpty();
    assertThat(node.calls("eth_getTransactionCount")).hasSize(1);
  }

  @Test
  void journaledUnitsTheChainHasNotReachedAreSentAgainWithoutALookUpAndOneNonceCountForAll()
      throws Exception {
    // Units this process never sent (another consumer's, say): the account's nonce count at the
    // latest block is 3, so neither nonce 5 nor 6 can be in a block yet.
    node.resultFor("eth_getTransactionCount", "latest", "\"0x3\"")
        .alwaysResult("eth_sendRawTransaction", "\"" + HASH + "\"")
        .alwaysResult("eth_blockNumber", "\"0x10\"")
        .alwaysResult("eth_getBlockReceipts", "[]")
        .alwaysResult("eth_getTransactionReceipt", "null");
    String other = "0x" + "01".repeat(32);
    JournalEntry next =
        new JournalEntry(
            "ETH:" + other,
            Chain.ETH,
            FROM,
            other,
            RAW,
            6L,
            JournalEntry.State.PREPARED,
            List.of(),
            Instant.EPOCH,
            Instant.EPOCH);
    assertThat(sender.broadcast(unit(5)).waits()).isTrue();
    assertThat(sender.broadcast(next).waits()).isTrue();
    assertThat(node.calls("eth_sendRawTransaction")).hasSize(2);
    assertThat(node.calls("eth_getTransactionCount")).as("one count for both").hasSize(1);
    assertThat(node.calls("eth_getTransactionReceipt")).isEmpty();
  }

  /** A unit this sender signed, as it is journaled before its first send. */
  private JournalEntry prepared() throws Exception {
    node.alwaysResult("eth_getTransactionCount", "\"0x0\"");
    Preparation.Signed signed =
        (Preparation.Signed) sender.prepare(FROM, List.of(payout("p1", "0.001")));
    return new JournalEntry(
        "ETH:" + signed.txid(),
        Chain.ETH,
        FROM,
        signed.txid(),
        signed.rawTransaction(),
        signed.nonce(),
        JournalEntry.State.PREPARED,
        List.of(),
        Instant.EPOCH,
        Instant.EPOCH);
  }

  /** A receipt of {@code txid} in block {@code height}, as eth_getBlockReceipts lists it. */
  private static String minedIn(String txid, long height) {
    return "{\"transactionHash\":\""
        + txid
        + "\",\"status\":\"0x1\",\"blockNumber\":\"0x"
        + Long.toHexString(height)
        + "\",\"blockHash\":\"0x"
        + "ab".repeat(32)
        + "\",\"logs\":[]}";
  }

  /** Blocks 0x10 to 0x13, one per read of the head, none holding {@code sent}, which is taken. */
  private void blocksWithout(JournalEntry sent) {
    node.result("eth_blockNumber", "\"0x10\"")
        .result("eth_blockNumber", "\"0x11\"")
        .result("eth_blockNumber", "\"0x12\"")
        .alwaysResult("eth_blockNumber", "\"0x13\"")
        .alwaysResult("eth_getBlockReceipts", "[]")
        .alwaysResult("eth_sendRawTransaction", "\"" + sent.txid() + "\"")
        .alwaysResult("eth_getTransactionReceipt", "null");
  }

  /** The next pass: past the pause between two reads of the head. */
  private void nextPass() {
    clock.advance(BlockReceipts.REFRESH_EVERY);
  }

  @Test
  void aTransactionSentWhileBlocksAreFollowedIsSettledByItsBlocksReceiptsAndNeverAskedForAlone()
      throws Exception {
    JournalEntry sent = prepared();
    node.result("eth_blockNumber", "\"0x10\"")
        .result("eth_blockNumber", "\"0x10\"")
        .alwaysResult("eth_blockNumber", "\"0x11\"")
        .result("eth_sendRawTransaction", "\"" + sent.txid() + "\"")
        .resultFor("eth_getBlockReceipts", "0x11", "[" + minedIn(sent.txid(), 0x11) + "]");
    assertThat(sender.broadcast(sent).waits()).isTrue();
    nextPass();
    assertThat(sender.broadcast(sent).waits()).isTrue();
    nextPass();
    SendOutcome outcome = sender.broadcast(sent);
    assertThat(outcome.status()).isEqualTo(PayoutStatus.BROADCAST);
    assertThat(outcome.block()).isEqualTo(new BlockRef(0x11, "0x" + "ab".repeat(32)));
    assertThat(node.calls("eth_sendRawTransaction")).hasSize(1);
    assertThat(node.calls("eth_getTransactionReceipt")).isEmpty();
    // Once, to sign it; never to settle it.
    assertThat(node.calls("eth_getTransactionCount")).hasSize(1);
    assertThat(node.calls("eth_getBlockReceipts")).hasSize(1);
  }

  @Test
  void aTransactionJustSentHereIsInFlightUntilItIsLookedAtAgainOrItsAccountIsForgotten()
      throws Exception {
    JournalEntry sent = prepared();
    blocksWithout(sent);
    // What it signs next for the account takes the nonce after this one.
    assertThat(sender.broadcast(sent).inFlight()).isTrue();
    assertThat(sender.remembers(FROM)).isTrue();
    nextPass();
    assertThat(sender.broadcast(sent).inFlight()).isTrue();
    nextPass();
    // Forgotten (its lease moved, say): the next nonce would be read from the chain, below it.
    sender.forget(FROM);
    SendOutcome forgotten = sender.broadcast(sent);
    assertThat(forgotten.waits()).isTrue();
    assertThat(forgotten.inFlight()).isFalse();
    assertThat(sender.remembers(FROM)).isFalse();
    nextPass();
    // Asked for directly after three blocks without it: from now on a unit that waits.
    assertThat(sender.broadcast(sent).pending()).isTrue();
    sender.prepare(FROM, List.of(payout("p2", "0.001")));
    assertThat(sender.remembers(FROM)).isTrue();
    nextPass();
    SendOutcome after = sender.broadcast(sent);
    assertThat(after.waits()).isTrue();
    assertThat(after.inFlight()).isFalse();
  }

  @Test
  void aTransactionInNoBlockReadForThreeBlocksIsAskedForDirectlyAndSentAgain() throws Exception {
    JournalEntry sent = prepared();
    blocksWithout(sent);
    node.alwaysResult("eth_getTransactionCount", "\"0x0\"");
    assertThat(sender.broadcast(sent).waits()).isTrue();
    nextPass();
    assertThat(sender.broadcast(sent).pending()).isFalse();
    nextPass();
    assertThat(sender.broadcast(sent).pending()).isFalse();
    assertThat(node.calls("eth_getTransactionReceipt")).isEmpty();
    nextPass();
    // Three blocks read without it: it may have been dropped, or be in a block that replaced one.
    SendOutcome outcome = sender.broadcast(sent);
    assertThat(outcome.pending()).isTrue();
    assertThat(node.calls("eth_sendRawTransaction")).hasSize(2);
    assertThat(node.calls("eth_getTransactionReceipt")).isNotEmpty();
    // Once to sign it, once to settle it.
    assertThat(node.calls("eth_getTransactionCount")).hasSize(2);
  }

  @Test
  void aNodeWithoutBlockReceiptsIsReadABlockAtATimeAndAsksOnlyForOurTransactionsInIt()
      throws Exception {
    JournalEntry sent = prepared();
    // hardhat's answer, word for word.
    node.result("eth_blockNumber", "\"0x10\"")
        .alwaysResult("eth_blockNumber", "\"0x11\"")
        .alwaysError("eth_getBlockReceipts", -32004, "Method eth_getBlockReceipts is not supported")
        .result("eth_sendRawTransaction", "\"" + sent.txid() + "\"")
        .resultFor(
            "eth_getBlockByNumber",
            "0x11",
            "{\"number\":\"0x11\",\"transactions\":[\"0x"
                + "cd".repeat(32)
                + "\",\""
                + sent.txid()
                + "\"]}")
        .alwaysResult("eth_getTransactionReceipt", minedIn(sent.txid(), 0x11));
    assertThat(sender.broadcast(sent).waits()).isTrue();
    nextPass();
    assertThat(sender.broadcast(sent).status()).isEqualTo(PayoutStatus.BROADCAST);
    assertThat(node.calls("eth_getTransactionReceipt")).hasSize(1);
    assertThat(node.calls("eth_getTransactionReceipt").get(0).path("params").get(0).asText())
        .isEqualToIgnoringCase(sent.txid());
  }

  @Test
  void blocksSkippedAtOnceLeaveATransactionSentBeforeToBeAskedForDirectly() throws Exception {
    JournalEntry sent = prepared();
    node.result("eth_blockNumber", "\"0x10\"")
        .alwaysResult("eth_blockNumber", "\"0x40\"")
        .alwaysResult("eth_sendRawTransaction", "\"" + sent.txid() + "\"")
        .result("eth_getTransactionReceipt", minedIn(sent.txid(), 0x30));
    assertThat(sender.broadcast(sent).waits()).isTrue();
    nextPass();
    // 48 blocks since: more than are read at once, so those between were never looked at.
    assertThat(sender.broadcast(sent).block())
        .isEqualTo(new BlockRef(0x30, "0x" + "ab".repeat(32)));
    assertThat(node.calls("eth_getBlockReceipts")).isEmpty();
  }

  @Test
  void aReceiptListThatDoesNotAgreeOnItsBlockDecidesNothingAndIsReadAgain() throws Exception {
    JournalEntry sent = prepared();
    String other = minedIn(sent.txid(), 0x12);
    node.result("eth_blockNumber", "\"0x10\"")
        .alwaysResult("eth_blockNumber", "\"0x11\"")
        .result("eth_sendRawTransaction", "\"" + sent.txid() + "\"")
        .result("eth_getBlockReceipts", "[" + other + "]")
        .alwaysResult("eth_getBlockReceipts", "[" + minedIn(sent.txid(), 0x11) + "]");
    assertThat(sender.broadcast(sent).waits()).isTrue();
    nextPass();
    assertThat(sender.broadcast(sent).waits()).isTrue();
    nextPass();
    assertThat(sender.broadcast(sent).block().height()).isEqualTo(0x11);
    assertThat(node.calls("eth_getBlockReceipts")).hasSize(2);
  }

  private static Payout payoutTo(String id, String to) {
    return io.txgw.common.model.TestPayouts.eth(id, FROM, to, "0.001");
  }

  @Test
  void aRoundsRecipientsAreCheckedForCodeInOneCallAndOnlyThoseWithCodeAreReadWhole()
      throws Exception {
    String a = "0x" + "11".repeat(20);
    String b = "0x" + "22".repeat(20);
    String c = "0x" + "33".repeat(20);
    // b holds 23 bytes of code: a delegation, or a contract; eth_getCode tells which.
    node.alwaysResult("eth_getTransactionCount", "\"0x0\"")
        .result(
            "eth_call", "\"0x" + "00".repeat(32) + "00".repeat(31) + "17" + "00".repeat(32) + "\"");
    List<Payout> round = List.of(payoutTo("p1", a), payoutTo("p2", b), payoutTo("p3", c));
    sender.preview(round);
    for (Payout p : round) {
      assertThat(sender.prepare(FROM, List.of(p))).isInstanceOf(Preparation.Signed.class);
    }
    assertThat(node.calls("eth_call")).hasSize(1);
    assertThat(node.calls("eth_call").get(0).path("params").get(0).path("data").asText())
        .isEqualTo(CodeSizes.program(List.of(a, b, c)));
    assertThat(node.calls("eth_getCode")).hasSize(1);
    assertThat(node.calls("eth_getCode").get(0).path("params").get(0).asText()).isEqualTo(b);
  }

  @Test
  void recipientsWhoseCodeCannotBeReadAtOnceAreEachAskedAlone() throws Exception {
    String a = "0x" + "11".repeat(20);
    String b = "0x" + "22".repeat(20);
    node.alwaysResult("eth_getTransactionCount", "\"0x0\"")
        .error("eth_call", -32000, "max code size exceeded")
        .alwaysResult("eth_getCode", "\"0x\"");
    List<Payout> round = List.of(payoutTo("p1", a), payoutTo("p2", b));
    sender.preview(round);
    for (Payout p : round) {
      assertThat(sender.prepare(FROM, List.of(p))).isInstanceOf(Preparation.Signed.class);
    }
    assertThat(node.calls("eth_getCode")).hasSize(2);
  }

  @Test
  void aUnitFromTheJournalIsLookedUpRightAfterItsFirstSendHereForItMayBeMinedAlready()
      throws Exception {
    // Journaled by another process (or this one before a reset): its block may be older than any
    // this sender reads.
    node.alwaysResult("eth_blockNumber", "\"0x10\"")
        .result("eth_sendRawTransaction", "\"" + HASH + "\"")
        .result("eth_getTransactionReceipt", MINED);
    nextPass();
    assertThat(sender.broadcast(unit(0))).isEqualTo(SendOutcome.broadcast(HASH));
  }

  @Test
  void onAChainThatMinesFasterThanItsHeadIsReadASentTransactionIsLookedUpAtOnce() throws Exception {
    // Four blocks between two reads half a second apart: a development node mining each
    // transaction as it comes.
    node.result("eth_blockNumber", "\"0x10\"")
        .result("eth_blockNumber", "\"0x14\"")
        .result("eth_blockNumber", "\"0x18\"")
        .alwaysResult("eth_blockNumber", "\"0x1c\"")
        .alwaysResult("eth_getBlockReceipts", "[]")
        .alwaysResult("eth_sendRawTransaction", "\"" + HASH + "\"")
        .alwaysResult("eth_getTransactionReceipt", MINED);
    for (int i = 0; i < 3; i++) {
      assertThat(sender.broadcast(unit(0))).isEqualTo(SendOutcome.broadcast(HASH));
      nextPass();
    }
    JournalEntry sent = prepared();
    node.alwaysResult("eth_getTransactionReceipt", minedIn(sent.txid(), 0x1c));
    assertThat(sender.broadcast(sent).status()).isEqualTo(PayoutStatus.BROADCAST);
  }

  @Test
  void aCodeSizeAnswerWithoutAResultDecidesNothingAndStopsNothing() throws Exception {
    String a = "0x" + "11".repeat(20);
    String b = "0x" + "22".repeat(20);
    node.alwaysResult("eth_getTransactionCount", "\"0x0\"")
        .then(
            "eth_call",
            new MockResponse.Builder()
                .body("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":null}")
                .build())
        .alwaysResult("eth_getCode", "\"0x\"");
    sender.preview(List.of(payoutTo("p1", a), payoutTo("p2", b)));
    sender.prepare(FROM, List.of(payoutTo("p1", a)));
    assertThat(node.calls("eth_getCode")).hasSize(1);
  }

  @Test
  void whatOneRoundLearnedOfARecipientsCodeIsNeverUsedInTheNext() throws Exception {
    String a = "0x" + "11".repeat(20);
    String b = "0x" + "22".repeat(20);
    node.alwaysResult("eth_getTransactionCount", "\"0x0\"")
        .result("eth_call", "\"0x" + "00".repeat(64) + "\"")
        .alwaysResult("eth_getCode", "\"0x\"");
    sender.preview(List.of(payoutTo("p1", a), payoutTo("p2", b)));
    // The next round has no single payout: the recipient may have gained code since.
    sender.preview(List.of());
    sender.prepare(FROM, List.of(payoutTo("p1", a)));
    assertThat(node.calls("eth_getCode")).hasSize(1);
  }

  @Test
  void aBlockALaggingNodeRefusesIsReadAgainTheSameWay() throws Exception {
    JournalEntry sent = prepared();
    node.result("eth_blockNumber", "\"0x10\"")
        .alwaysResult("eth_blockNumber", "\"0x11\"")
        .result("eth_sendRawTransaction", "\"" + sent.txid() + "\"")
        .error("eth_getBlockReceipts", -32000, "header not found")
        .alwaysResult("eth_getBlockReceipts", "[" + minedIn(sent.txid(), 0x11) + "]");
    assertThat(sender.broadcast(sent).waits()).isTrue();
    nextPass();
    assertThat(sender.broadcast(sent).waits()).isTrue();
    nextPass();
    assertThat(sender.broadcast(sent).block().height()).isEqualTo(0x11);
    assertThat(node.blockReads()).isEmpty();
  }

  @Test
  void anAnswerOfTheWrongLengthTellsNoRecipientIsWithoutCode() throws Exception {
    String a = "0x" + "11".repeat(20);
    String b = "0x" + "22".repeat(20);
    node.alwaysResult("eth_getTransactionCount", "\"0x0\"")
        .result("eth_call", "\"0x" + "00".repeat(32) + "\"")
        .alwaysResult("eth_getCode", "\"0x\"");
    sender.preview(List.of(payoutTo("p1", a), payoutTo("p2", b)));
    sender.prepare(FROM, List.of(payoutTo("p1", a)));
    assertThat(node.calls("eth_getCode")).hasSize(1);
  }

  @Test
  void aRevertedReceiptIsFailedWithNothingPaid() throws Exception {
    node.result("eth_sendRawTransaction", "\"" + HASH + "\"")
        .result(
            "eth_getTransactionReceipt",
            "{\"transactionHash\":\"" + HASH + "\",\"status\":\"0x0\"}");
    SendOutcome outcome = sender.broadcast(unit(0));
    assertThat(outcome.status()).isEqualTo(PayoutStatus.FAILED);
    assertThat(outcome.replan()).isFalse();
  }

  @Test
  void aUnitSentBeforeAndMinedSinceIsSettledByItsReceiptWithoutBeingSentAgain() throws Exception {
    node.result("eth_sendRawTransaction", "\"" + HASH + "\"")
        .result("eth_getTransactionReceipt", "null")
        .result("eth_getTransactionReceipt", MINED)
        .alwaysResult("eth_getTransactionCount", "\"0x0\"");
    assertThat(sender.broadcast(unit(0)).waits()).isTrue();
    assertThat(sender.broadcast(unit(0))).isEqualTo(SendOutcome.broadcast(HASH));
    assertThat(node.calls("eth_sendRawTransaction")).hasSize(1);
  }

  @Test
  void aSendWithoutAnswerIsSettledByTheReceipt() throws Exception {
    node.then(
            "eth_sendRawTransaction",
            new MockResponse.Builder().headersDelay(2, TimeUnit.SECONDS).body("{}").build())
        .alwaysResult("eth_getTransactionReceipt", MINED);
    assertThat(sender.broadcast(unit(0))).isEqualTo(SendOutcome.broadcast(HASH));
    assertThat(node.calls("eth_signTransaction")).isEmpty();
  }

  @Test
  void everyNodesWordingForARefusedSendIsSettledFromTheChainAndNeverFails() throws Exception {
    // geth, Besu, Nethermind, Erigon and anvil words for "I hold it", "it is mined", "it is not
    // valid now": none of them decides; the receipt and the nonce do.
    List<String> wordings =
        List.of(
            "already known",
            "Known transaction",
            "AlreadyKnown",
            "nonce too low",
            "Nonce too low: next nonce 6, tx nonce 5",
            "OldNonce",
            "transaction already imported",
            "replacement transaction underpriced",
            "Insufficient funds for gas * price + value",
            "insufficient funds for gas * price + value: balance 0",
            "Upfront cost exceeds account balance",
            "something no node has said before");
    for (String wording : wordings) {
      ScriptedNode paid = new ScriptedNode();
      server.setDispatcher(paid);
      paid.error("eth_sendRawTransaction", -32000, wording)
          .alwaysResult("eth_getTransactionReceipt", MINED);
      assertThat(sender.broadcast(unit(5))).as(wording).isEqualTo(SendOutcome.broadcast(HASH));

      ScriptedNode notYet = new ScriptedNode();
      server.setDispatcher(notYet);
      notYet
          .error("eth_sendRawTransaction", -32000, wording)
          .alwaysResult("eth_getTransactionReceipt", "null")
          .resultFor("eth_getTransactionCount", "latest", "\"0x5\"");
      SendOutcome waits = sender.broadcast(unit(5));
      assertThat(waits.waits()).as(wording + ": " + waits).isTrue();
      assertThat(waits.error()).contains(wording);
    }
  }

  private static final String OLD_RAW = "0x02f86c01020304ff";
  private static final String OLD_HASH =
      "0x"
          + HexFormat.of().formatHex(Keccak.hash256(HexFormat.of().parseHex(OLD_RAW.substring(2))));

  /** A unit paying 1 wei whose first transaction (OLD) was replaced by the current one (RAW). */
  private static JournalEntry replacedUnit(long nonce) {
    return firstUnit(nonce)
        .replacedBy(HASH, RAW, BigInteger.valueOf(2_000_000_000L), Instant.EPOCH);
  }

  /** The same unit before its replacement: OLD at 1 gwei. */
  private static JournalEntry firstUnit(long nonce) {
    return new JournalEntry(
        "ETH:" + OLD_HASH,
        Chain.ETH,
        FROM,
        OLD_HASH,
        OLD_RAW,
        nonce,
        JournalEntry.State.PREPARED,
        List.of(item()),
        Instant.EPOCH,
        Instant.EPOCH,
        null,
        null,
        null,
        null,
        BigInteger.valueOf(1_000_000_000L),
        List.of());
  }

  private static JournalEntry.Item item() {
    return new JournalEntry.Item(
        "p1",
        "b1",
        "acme",
        new Address(TO),
        Amount.parse("0.000000000000000001"),
        Instant.EPOCH,
        null,
        PayoutStatus.ACCEPTED,
        null);
  }

  @Test
  void aStuckTransactionIsSignedAgainAtItsNonceForTheSamePaymentWithAnEighthMoreGasAtLeast()
      throws Exception {
    // The node asks a little more than the unit pays: the rise is the least nodes take, 12.5%.
    node.alwaysResult("eth_gasPrice", "\"0x7d2b7500\"");
    Replacement r = sender.replace(replacedUnit(7));
    assertThat(r).isInstanceOf(Replacement.Signed.class);
    Replacement.Signed signed = (Replacement.Signed) r;
    BigInteger expected = BigInteger.valueOf(2_250_000_001L);
    assertThat(signed.feePerGas()).isEqualTo(expected);
    assertThat(signed.txid()).isEqualTo(txidOf(signed.rawTransaction()));
    var sign = node.calls("eth_signTransaction").get(0).path("params").get(0);
    assertThat(sign.path("nonce").asText()).isEqualTo("0x7");
    assertThat(sign.path("gasPrice").asText()).isEqualTo("0x" + expected.toString(16));
    assertThat(sign.path("value").asText()).isEqualTo("0x1");
    assertThat(sign.path("to").asText()).isEqualTo(TO);
    assertThat(sign.path("from").asText()).isEqualTo(FROM);
  }

  @Test
  void aTransactionPricedAtWhatTheNodeAsksIsNotReplaced() throws Exception {
    node.alwaysResult("eth_gasPrice", "\"0x77359400\""); // 2 gwei, what the unit pays
    assertThat(sender.replace(replacedUnit(7))).isInstanceOf(Replacement.NotNow.class);
    assertThat(node.calls("eth_signTransaction")).isEmpty();
  }

  @Test
  void aReplacementTheCeilingKeepsUnderTheTenPercentPoolsRequireIsNotSigned() throws Exception {
    EthereumSender capped =
        new EthereumSender(
                new JsonRpcClient(endpoint, RetryPolicy.NONE, http),
                clock,
                p -> false,
                BigInteger.valueOf(20_000_000_000L))
            .replacingUndecodedAsCoin();
    node.alwaysResult("eth_gasPrice", "\"0xba43b7400\""); // 50 gwei
    JournalEntry at19 =
        replacedUnit(7).replacedBy(HASH, RAW, BigInteger.valueOf(19_000_000_000L), Instant.EPOCH);
    assertThat(capped.replace(at19))
        .isEqualTo(new Replacement.AtCeiling(BigInteger.valueOf(19_000_000_000L)));
    assertThat(node.calls("eth_signTransaction")).isEmpty();
  }

  @Test
  void aConflictTimerOfATransactionSinceReplacedAndMinedNeverCountsForTheUnitLater()
      throws Exception {
    // OLD is sent; the nonce count shows its nonce used, its receipt not served yet.
    node.alwaysError("eth_sendRawTransaction", -32003, "nonce too low")
        .alwaysResult("eth_getTransactionReceipt", "null")
        .resultFor("eth_getTransactionCount", "latest", "\"0x8\"");
    assertThat(sender.broadcast(firstUnit(7)).waits()).isTrue();
    // Replaced meanwhile, then OLD's receipt shows: settled by OLD.
    ScriptedNode mined = new ScriptedNode();
    server.setDispatcher(mined);
    mined
        .alwaysError("eth_sendRawTransaction", -32003, "nonce too low")
        .resultFor("eth_getTransactionReceipt", HASH, "null")
        .resultFor(
            "eth_getTransactionReceipt",
            OLD_HASH,
            "{\"transactionHash\":\"" + OLD_HASH + "\",\"status\":\"0x1\"}");
    assertThat(sender.broadcast(replacedUnit(7))).isEqualTo(SendOutcome.broadcast(OLD_HASH));
    // Its block is reorganised away, and a lagging node serves no receipt again: a minute later
    // the unit (OLD current again) waits for a minute of its own before anything is decided.
    ScriptedNode lagging = new ScriptedNode();
    server.setDispatcher(lagging);
    lagging
        .alwaysError("eth_sendRawTransaction", -32003, "nonce too low")
        .alwaysResult("eth_getTransactionReceipt", "null")
        .resultFor("eth_getTransactionCount", "latest", "\"0x8\"");
    clock.now = clock.now.plus(EthereumSender.CONFLICT_AFTER).plusSeconds(1);
    SendOutcome again = sender.broadcast(replacedUnit(7).withCurrent(OLD_HASH));
    assertThat(again.replan()).as(again.toString()).isFalse();
    assertThat(again.waits()).isTrue();
  }

  @Test
  void aPaymentSeenMinedAndThenReorganisedAwayStillHoldsItsCostAgainstTheBalance()
      throws Exception {
    // 3 ETH; a 2 ETH payout at nonce 5 is mined, then its block leaves the chain: the count is 5
    // and the balance 3 ETH again, but the payment will be mined again.
    node.resultFor("eth_getTransactionCount", "latest", "\"0x5\"")
        .alwaysResult("eth_getBalance", "\"0x29a2241af62c0000\"")
        .alwaysResult("eth_sendRawTransaction", "\"" + HASH + "\"")
        .alwaysResult("eth_getTransactionReceipt", MINED);
    assertThat(sender.prepare(FROM, List.of(payout("p1", "2"))))
        .isInstanceOf(Preparation.Signed.class);
    assertThat(sender.broadcast(unit(5)).status()).isEqualTo(PayoutStatus.BROADCAST);
    Preparation second = sender.prepare(FROM, List.of(payout("p2", "2")));
    assertThat(second).isInstanceOf(Preparation.Refused.class);
    assertThat(((Preparation.Refused) second).reason()).startsWith("insufficient funds");
  }

  @Test
  void aNonceSeenFreeAgainStartsTheWaitBeforeAConflictOver() throws Exception {
    node.alwaysError("eth_sendRawTransaction", -32003, "nonce too low")
        .alwaysResult("eth_getTransactionReceipt", "null")
        .resultFor("eth_getTransactionCount", "latest", "\"0x8\"");
    assertThat(sender.broadcast(replacedUnit(7)).waits()).isTrue();
    // A reorganisation took the block that used the nonce: it is free again.
    ScriptedNode free = new ScriptedNode();
    server.setDispatcher(free);
    free.alwaysResult("eth_sendRawTransaction", "\"" + HASH + "\"")
        .alwaysResult("eth_getTransactionReceipt", "null")
        .resultFor("eth_getTransactionCount", "latest", "\"0x7\"");
    assertThat(sender.broadcast(replacedUnit(7)).pending()).isTrue();
    // Used again a minute later, by one of the unit's own maybe, its receipt not served yet.
    server.setDispatcher(node);
    clock.now = clock.now.plus(EthereumSender.CONFLICT_AFTER).plusSeconds(1);
    SendOutcome later = sender.broadcast(replacedUnit(7));
    assertThat(later.replan()).as(later.toString()).isFalse();
    assertThat(later.waits()).isTrue();
  }

  @Test
  void aReplacementIsPricedFromTheDearestOfTheUnitsTransactions() throws Exception {
    // OLD (1 gwei) current again after a reorganisation; the 2 gwei one it replaced may be pooled.
    node.alwaysResult("eth_gasPrice", "\"0x7d2b7500\""); // 2.1 gwei
    Replacement r = sender.replace(replacedUnit(7).withCurrent(OLD_HASH));
    assertThat(((Replacement.Signed) r).feePerGas()).isEqualTo(BigInteger.valueOf(2_250_000_001L));
  }

  @Test
  void aReplacementFollowsTheNodesPriceWhenItRoseMoreAndStopsAtTheCeiling() throws Exception {
    EthereumSender capped =
        new EthereumSender(
                new JsonRpcClient(endpoint, RetryPolicy.NONE, http),
                clock,
                p -> false,
                BigInteger.valueOf(20_000_000_000L))
            .replacingUndecodedAsCoin();
    node.alwaysResult("eth_gasPrice", "\"0x2540be400\""); // 10 gwei
    Replacement.Signed toPrice = (Replacement.Signed) capped.replace(replacedUnit(7));
    assertThat(toPrice.feePerGas()).isEqualTo(BigInteger.valueOf(10_000_000_000L));

    node.alwaysResult("eth_gasPrice", "\"0xba43b7400\""); // 50 gwei
    JournalEntry at15 =
        replacedUnit(7).replacedBy(HASH, RAW, BigInteger.valueOf(15_000_000_000L), Instant.EPOCH);
    Replacement.Signed toCeiling = (Replacement.Signed) capped.replace(at15);
    assertThat(toCeiling.feePerGas()).isEqualTo(BigInteger.valueOf(20_000_000_000L));

    JournalEntry atCeiling =
        at15.replacedBy(HASH, RAW, BigInteger.valueOf(20_000_000_000L), Instant.EPOCH);
    int signs = node.calls("eth_signTransaction").size();
    assertThat(capped.replace(atCeiling))
        .isEqualTo(new Replacement.AtCeiling(BigInteger.valueOf(20_000_000_000L)));
    assertThat(node.calls("eth_signTransaction")).hasSize(signs);
  }

  @Test
  void theFirstSignatureIsCappedAtTheCeilingToo() throws Exception {
    EthereumSender capped =
        new EthereumSender(
            new JsonRpcClient(endpoint, RetryPolicy.NONE, http),
            clock,
            p -> false,
            BigInteger.valueOf(500_000_000L));
    node.resultFor("eth_getTransactionCount", "latest", "\"0x0\"");
    Preparation.Signed signed =
        (Preparation.Signed) capped.prepare(FROM, List.of(payout("p1", "1")));
    assertThat(signed.feePerGas()).isEqualTo(BigInteger.valueOf(500_000_000L));
    assertThat(
            node.calls("eth_signTransaction")
                .get(0)
                .path("params")
                .get(0)
                .path("gasPrice")
                .asText())
        .isEqualTo("0x1dcd6500");
  }

  @Test
  void aReceiptOfTheTransactionItReplacedSettlesTheUnitWithThatTxid() throws Exception {
    node.alwaysError("eth_sendRawTransaction", -32003, "nonce too low")
        .resultFor("eth_getTransactionReceipt", HASH, "null")
        .resultFor(
            "eth_getTransactionReceipt",
            OLD_HASH,
            "{\"transactionHash\":\"" + OLD_HASH + "\",\"status\":\"0x1\"}")
        .resultFor("eth_getTransactionCount", "latest", "\"0x8\"");
    assertThat(sender.broadcast(replacedUnit(7))).isEqualTo(SendOutcome.broadcast(OLD_HASH));
  }

  @Test
  void aUsedNonceIsTakenForAnotherTransactionOnlyWhenNoneOfTheUnitsHasAReceipt() throws Exception {
    node.alwaysError("eth_sendRawTransaction", -32003, "nonce too low")
        .alwaysResult("eth_getTransactionReceipt", "null")
        .resultFor("eth_getTransactionCount", "latest", "\"0x8\"");
    assertThat(sender.broadcast(replacedUnit(7)).waits()).isTrue();
    clock.now = clock.now.plus(EthereumSender.CONFLICT_AFTER);
    int asked = node.calls("eth_getTransactionReceipt").size();
    SendOutcome outcome = sender.broadcast(replacedUnit(7));
    assertThat(outcome.replan()).as(outcome.toString()).isTrue();
    // Both transactions were asked for, before and after the nonce count.
    assertThat(
            node
                .calls("eth_getTransactionReceipt")
                .subList(asked, node.calls("eth_getTransactionReceipt").size())
                .stream()
                .map(c -> c.path("params").get(0).asText())
                .distinct())
        .containsExactlyInAnyOrder(HASH, OLD_HASH);
  }

  @Test
  void aTransactionNotMinedWhoseNonceIsFreeIsPendingAndSoReplaceable() throws Exception {
    node.alwaysResult("eth_sendRawTransaction", "\"" + HASH + "\"")
        .alwaysResult("eth_getTransactionReceipt", "null")
        .resultFor("eth_getTransactionCount", "latest", "\"0x7\"");
    sender.broadcast(replacedUnit(7));
    SendOutcome second = sender.broadcast(replacedUnit(7));
    assertThat(second.pending()).as(second.toString()).isTrue();
  }

  @Test
  void aNonceUsedInTheChainByAnotherTransactionPreparesThePayoutsAnewOnceNoReceiptShowsForAMinute()
      throws Exception {
    node.alwaysError("eth_sendRawTransaction", -32003, "nonce too low")
        .alwaysResult("eth_getTransactionReceipt", "null")
        .resultFor("eth_getTransactionCount", "latest", "\"0x6\"");
    SendOutcome first = sender.broadcast(unit(5));
    assertThat(first.waits()).as(first.toString()).isTrue();
    clock.now = clock.now.plus(EthereumSender.CONFLICT_AFTER);
    SendOutcome outcome = sender.broadcast(unit(5));
    assertThat(outcome.replan()).as(outcome.toString()).isTrue();
  }

  @Test
  void aReceiptALaggingNodeDidNotServeYetIsNeverTakenForAConflict() throws Exception {
    // The count from an up-to-date node, the receipt from one a block behind.
    node.alwaysError("eth_sendRawTransaction", -32003, "nonce too low")
        .result("eth_getTransactionReceipt", "null")
        .result("eth_getTransactionReceipt", "null")
        .result("eth_getTransactionReceipt", "null")
        .result("eth_getTransactionReceipt", "null")
        .result("eth_getTransactionReceipt", "null")
        .result("eth_getTransactionReceipt", "null")
        .result("eth_getTransactionReceipt", MINED)
        .resultFor("eth_getTransactionCount", "latest", "\"0x6\"");
    assertThat(sender.broadcast(unit(5)).waits()).isTrue();
    clock.now = clock.now.plusSeconds(30);
    assertThat(sender.broadcast(unit(5)).waits()).isTrue();
    clock.now = clock.now.plusSeconds(31);
    assertThat(sender.broadcast(unit(5))).isEqualTo(SendOutcome.broadcast(HASH));
  }

  @Test
  void aReceiptThatAppearsOnceTheNonceIsUsedIsOurPaymentNotAConflict() throws Exception {
    // Mined between the first look-up and the nonce count: the second look-up finds it.
    node.error("eth_sendRawTransaction", -32003, "nonce too low")
        .result("eth_getTransactionReceipt", "null")
        .result("eth_getTransactionReceipt", MINED)
        .resultFor("eth_getTransactionCount", "latest", "\"0x6\"");
    assertThat(sender.broadcast(unit(5))).isEqualTo(SendOutcome.broadcast(HASH));
  }

  @Test
  void aTransactionNotMinedYetWaitsWhateverThePoolSays() throws Exception {
    // Held in the pool, queued or pending: not a payment until a block holds it.
    node.alwaysResult("eth_sendRawTransaction", "\"" + HASH + "\"")
        .alwaysResult("eth_getTransactionReceipt", "null")
        .alwaysResult("eth_getTransactionByHash", "{\"hash\":\"" + HASH + "\"}")
        .resultFor("eth_getTransactionCount", "latest", "\"0x3\"")
        .resultFor("eth_getTransactionCount", "pending", "\"0x9\"");
    SendOutcome first = sender.broadcast(unit(5));
    assertThat(first.waits()).as(first.toString()).isTrue();
    SendOutcome outcome = sender.broadcast(unit(5));
    assertThat(outcome.waits()).as(outcome.toString()).isTrue();
    assertThat(outcome.status()).isNull();
    assertThat(outcome.error()).contains("latest block is 3", "transaction's 5");
  }

  @Test
  void aLookUpThatTimesOutLeavesTheUnitJournaled() throws Exception {
    node.result("eth_sendRawTransaction", "\"" + HASH + "\"")
        .then(
            "eth_getTransactionReceipt",
            new MockResponse.Builder().headersDelay(2, TimeUnit.SECONDS).body("{}").build());
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> sender.broadcast(unit(0)))
        .isInstanceOf(NodeUnavailableException.class);
  }

  @Test
  void aRateLimitedLookUpLeavesTheUnitJournaled() throws Exception {
    node.result("eth_sendRawTransaction", "\"" + HASH + "\"")
        .then("eth_getTransactionReceipt", ScriptedNode.errorAnswer(429, -32005, "limit"));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> sender.broadcast(unit(0)))
        .isInstanceOf(NodeUnavailableException.class);
  }

  @Test
  void aTransactionFirstInLineThatStaysUnminedIsSentAgainFromAnEmptiedPool() throws Exception {
    node.alwaysResult("eth_sendRawTransaction", "\"" + HASH + "\"")
        .result("eth_getTransactionReceipt", "null")
        .result("eth_getTransactionReceipt", "null")
        .result("eth_getTransactionReceipt", "null")
        .result("eth_getTransactionReceipt", "null")
        .result("eth_getTransactionReceipt", "null")
        .result("eth_getTransactionReceipt", MINED)
        .alwaysResult("eth_getTransactionCount", "\"0x5\"")
        .result("anvil_removePoolTransactions", "null");
    assertThat(sender.broadcast(unit(5)).waits()).isTrue();
    assertThat(sender.broadcast(unit(5)).waits()).as("first in line since now").isTrue();
    clock.now = clock.now.plusSeconds(11);
    assertThat(sender.broadcast(unit(5))).isEqualTo(SendOutcome.broadcast(HASH));
    // anvil strands "queued" transactions that a drop of one leaves where they are: the account's
    // pool is emptied, and every unit sends its same bytes again.
    assertThat(node.calls("anvil_removePoolTransactions"))
        .singleElement()
        .satisfies(c -> assertThat(c.path("params").get(0).asText()).isEqualTo(FROM));
    assertThat(node.calls("anvil_dropTransaction")).isEmpty();
    assertThat(node.calls("eth_sendRawTransaction"))
        .hasSize(4)
        .allSatisfy(c -> assertThat(c.path("params").get(0).asText()).isEqualTo(RAW));
  }

  @Test
  void aTransactionThatStaysUnminedOnANodeThatCannotDropItWaits() throws Exception {
    node.alwaysResult("eth_sendRawTransaction", "\"" + HASH + "\"")
        .alwaysResult("eth_getTransactionReceipt", "null")
        .alwaysResult("eth_getTransactionCount", "\"0x5\"");
    assertThat(sender.broadcast(unit(5)).waits()).isTrue();
    clock.now = clock.now.plusSeconds(11);
    assertThat(sender.broadcast(unit(5)).waits()).isTrue();
    clock.now = clock.now.plusSeconds(11);
    assertThat(sender.broadcast(unit(5)).waits()).isTrue();
    assertThat(node.calls("anvil_removePoolTransactions")).hasSize(1);
    // The node refused both pool methods: they are not asked for again.
    clock.now = clock.now.plusSeconds(11);
    assertThat(sender.broadcast(unit(5)).waits()).isTrue();
    assertThat(node.calls("anvil_removePoolTransactions")).hasSize(1);
    assertThat(node.calls("anvil_dropTransaction")).hasSize(1);
  }

  @Test
  void aForgottenAccountAsksTheChainForItsNonceAgain() throws Exception {
    node.result("eth_getTransactionCount", "\"0x5\"").result("eth_getTransactionCount", "\"0x9\"");
    sender.prepare(FROM, List.of(payout("p1", "1")));
    sender.forget(FROM);
    Preparation again = sender.prepare(FROM, List.of(payout("p2", "1")));
    assertThat(((Preparation.Signed) again).nonce()).isEqualTo(9L);
  }

  /** A chain with a base fee: 1 gwei next; tips of 2 and 1 gwei in the blocks that held any. */
  private void baseFee(String nextBaseFee) {
    node.alwaysResult(
            "eth_feeHistory",
            "{\"oldestBlock\":\"0x1\",\"baseFeePerGas\":[\"0x1\",\"0x1\",\"0x1\",\""
                + nextBaseFee
                + "\"],\"gasUsedRatio\":[0.5,0,0.4],"
                + "\"reward\":[[\"0x77359400\"],[\"0x0\"],[\"0x3b9aca00\"]]}")
        .alwaysResult(
            "eth_getBlockByNumber",
            "{\"hash\":\"" + ScriptedNode.HEAD + "\",\"baseFeePerGas\":\"" + nextBaseFee + "\"}");
  }

  private static final BigInteger GWEI = BigInteger.valueOf(1_000_000_000L);

  @Test
  void onAChainWithABaseFeeAPayoutIsTypeTwoCappedAtTwiceTheNextBaseFeeAndTheMedianTip()
      throws Exception {
    baseFee("0x3b9aca00");
    node.resultFor("eth_getTransactionCount", "latest", "\"0x0\"");
    Preparation.Signed signed =
        (Preparation.Signed) sender.prepare(FROM, List.of(payout("p1", "1")));
    var fees = io.txgw.consumer.signing.SignedTransactions.decode(signed.rawTransaction()).fees();
    assertThat(fees)
        .isEqualTo(
            new io.txgw.consumer.signing.EthFees.Dynamic(
                GWEI.multiply(BigInteger.valueOf(4)), GWEI.multiply(BigInteger.TWO)));
    assertThat(signed.feePerGas()).isEqualTo(GWEI.multiply(BigInteger.valueOf(4)));
    // The ceiling caps the fee cap, and the tip with it.
    EthereumSender capped =
        new EthereumSender(
            new JsonRpcClient(endpoint, RetryPolicy.NONE, http),
            clock,
            p -> false,
            GWEI.add(GWEI.shiftRight(1)),
            io.txgw.consumer.signing.AccountSigners.nodeOnly(
                new JsonRpcClient(endpoint, RetryPolicy.NONE, http)),
            31337);
    var cappedFees =
        io.txgw.consumer.signing.SignedTransactions.decode(
                ((Preparation.Signed) capped.prepare(FROM, List.of(payout("p2", "1"))))
                    .rawTransaction())
            .fees();
    assertThat(cappedFees)
        .isEqualTo(
            new io.txgw.consumer.signing.EthFees.Dynamic(
                GWEI.add(GWEI.shiftRight(1)), GWEI.add(GWEI.shiftRight(1))));
  }

  @Test
  void aTypeTwoReplacementRaisesBothItsFeeCapAndItsTipByAnEighthAtLeast() throws Exception {
    var first =
        new io.txgw.consumer.signing.EthFees.Dynamic(
            GWEI.multiply(BigInteger.valueOf(4)), GWEI.multiply(BigInteger.TWO));
    String raw =
        KEYS.sign(
            new io.txgw.consumer.signing.EthTransaction(
                31337, 7, FROM, TO, BigInteger.ONE, 21_000, first, "0x"));
    JournalEntry unit =
        new JournalEntry(
            "ETH:" + txidOf(raw),
            Chain.ETH,
            FROM,
            txidOf(raw),
            raw,
            7L,
            JournalEntry.State.PREPARED,
            List.of(item()),
            Instant.EPOCH,
            Instant.EPOCH,
            null,
            null,
            null,
            null,
            first.cap(),
            List.of());
    // The base fee rose to 3 gwei: the market asks a 8 gwei cap, the tip stays 2 gwei.
    baseFee("0xb2d05e00");
    Replacement.Signed again = (Replacement.Signed) sender.replace(unit);
    var fees = io.txgw.consumer.signing.SignedTransactions.decode(again.rawTransaction());
    assertThat(fees.nonce()).isEqualTo(7L);
    assertThat(fees.fees())
        .isEqualTo(
            new io.txgw.consumer.signing.EthFees.Dynamic(
                GWEI.multiply(BigInteger.valueOf(8)),
                io.txgw.consumer.chain.GasPrices.bumped(GWEI.multiply(BigInteger.TWO))));
    assertThat(again.feePerGas()).isEqualTo(GWEI.multiply(BigInteger.valueOf(8)));
    // At the same market, the replaced one is not replaced again for nothing.
    JournalEntry replaced =
        unit.replacedBy(again.txid(), again.rawTransaction(), again.feePerGas(), Instant.EPOCH);
    assertThat(sender.replace(replaced)).isInstanceOf(Replacement.NotNow.class);
  }

  private static final String TOKEN = "0x5fbdb2315678afecb367f032d93f642f64180aa3";

  private static Payout tokenPayout(String id, String amount) {
    return new Payout(
        id,
        "b1",
        "acme",
        Chain.ETH,
        new io.txgw.common.model.Asset("TKN", 6, TOKEN),
        FROM,
        new Address(TO),
        Amount.parse(amount),
        null,
        Instant.EPOCH);
  }

  /** A token balance of {@code units}, as one 32-byte word. */
  private static String word(long units) {
    return "\"0x" + String.format("%064x", units) + "\"";
  }

  @Test
  void aTokenPayoutCallsTransferOnTheTokenWithEstimatedGasAndMovesNoCoin() throws Exception {
    node.resultFor("eth_getTransactionCount", "latest", "\"0x0\"")
        .alwaysResult("eth_call", word(3_000_000))
        .alwaysResult("eth_estimateGas", "\"0xc350\""); // 50,000
    Preparation.Signed signed =
        (Preparation.Signed) sender.prepare(FROM, List.of(tokenPayout("t1", "2.5")));
    var tx = io.txgw.consumer.signing.SignedTransactions.decode(signed.rawTransaction());
    assertThat(tx.to()).isEqualTo(TOKEN);
    assertThat(tx.value()).isZero();
    assertThat(tx.gas()).isEqualTo(62_500L);
    assertThat(tx.data())
        .isEqualTo(
            "0xa9059cbb"
                + "0".repeat(24)
                + TO.substring(2).toLowerCase()
                + String.format("%064x", 2_500_000));
    // The recipient's code is not asked for: a token's transfer runs none of it.
    assertThat(node.calls("eth_getCode")).isEmpty();
    // 3 tokens held, 2.5 spent by the first: the second is refused, the balance read again once.
    assertThat(sender.prepare(FROM, List.of(tokenPayout("t2", "1"))))
        .isInstanceOfSatisfying(
            Preparation.Refused.class, r -> assertThat(r.reason()).contains("TKN"));
    assertThat(node.calls("eth_call")).hasSize(2);
  }

  @Test
  void aTokenTransferTheNodeSaysWouldRevertIsRefusedWithNothingSigned() throws Exception {
    node.resultFor("eth_getTransactionCount", "latest", "\"0x0\"")
        .alwaysResult("eth_call", word(3_000_000))
        .alwaysError("eth_estimateGas", 3, "execution reverted: paused");
    assertThat(sender.prepare(FROM, List.of(tokenPayout("t1", "1"))))
        .isInstanceOfSatisfying(
            Preparation.Refused.class,
            r -> assertThat(r.reason()).contains("would revert").contains("paused"));
    assertThat(node.calls("eth_signTransaction")).isEmpty();
  }

  @Test
  void aMinedTokenTransferIsPaidOnlyWithATransferLogOfExactlyItsAmount() throws Exception {
    node.resultFor("eth_getTransactionCount", "latest", "\"0x0\"")
        .alwaysResult("eth_call", word(3_000_000))
        .alwaysResult("eth_estimateGas", "\"0xc350\"");
    Preparation.Signed signed =
        (Preparation.Signed) sender.prepare(FROM, List.of(tokenPayout("t1", "2.5")));
    JournalEntry unit =
        new JournalEntry(
            "ETH:" + signed.txid(),
            Chain.ETH,
            FROM,
            signed.txid(),
            signed.rawTransaction(),
            0L,
            JournalEntry.State.PREPARED,
            List.of(item()),
            Instant.EPOCH,
            Instant.EPOCH);
    String log =
        "{\"address\":\""
            + TOKEN
            + "\",\"topics\":[\""
            + "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef\",\"0x"
            + "0".repeat(24)
            + FROM.substring(2).toLowerCase()
            + "\",\"0x"
            + "0".repeat(24)
            + TO.substring(2).toLowerCase()
            + "\"],\"data\":\"0x%064x\"}";
    String receipt = "{\"transactionHash\":\"%s\",\"status\":\"0x1\",\"logs\":[" + log + "]}";
    node.result("eth_sendRawTransaction", "\"" + signed.txid() + "\"")
        .result("eth_getTransactionReceipt", String.format(receipt, signed.txid(), 2_500_000))
        .result("eth_sendRawTransaction", "\"" + signed.txid() + "\"")
        .result("eth_getTransactionReceipt", String.format(receipt, signed.txid(), 2_400_000));
    assertThat(sender.broadcast(unit).status()).isEqualTo(PayoutStatus.BROADCAST);
    sender.reset();
    // A token that moved another amount (a fee on transfer): not taken as paid.
    SendOutcome short_ = sender.broadcast(unit);
    assertThat(short_.status()).isEqualTo(PayoutStatus.UNKNOWN);
    assertThat(short_.error()).contains("no Transfer of 2500000");
  }

  private static final String MULTISEND = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512";

  @Test
  void payoutsOfOneAccountAreOneCallOfTheMultiSendContractPayingTheirSumAndNoMore()
      throws Exception {
    sender.withMultiSend(MULTISEND, 10);
    // Its code holds both functions: checked before the first call is signed.
    node.resultFor(
        "eth_getCode",
        MULTISEND,
        "\"0x6080" + MultiSend.SEND_TOKEN.substring(2) + MultiSend.SEND_ETHER.substring(2) + "\"");
    assertThat(sender.maxPayoutsPerUnit()).isEqualTo(10);
    node.resultFor("eth_getTransactionCount", "latest", "\"0x0\"")
        .alwaysResult("eth_estimateGas", "\"0x186a0\""); // 100,000
    Preparation.Signed signed =
        (Preparation.Signed)
            sender.prepare(
                FROM, List.of(payout("m1", "1"), payout("m2", "0.5"), payout("m3", "0.25")));
    var tx = io.txgw.consumer.signing.SignedTransactions.decode(signed.rawTransaction());
    assertThat(tx.to()).isEqualTo(MULTISEND);
    assertThat(tx.value()).isEqualTo(new BigInteger("1750000000000000000"));
    assertThat(tx.gas()).isEqualTo(125_000L);
    MultiSend.Payments paid = MultiSend.decode(tx.data());
    assertThat(paid.token()).isNull();
    assertThat(paid.to()).containsOnly(TO.toLowerCase());
    assertThat(paid.total()).isEqualTo(tx.value());
    // Recipients' code is left to the contract, which refuses any (they are paid alone), not
    // asked of the node one by one: the one code asked for is the contract's own.
    assertThat(node.calls("eth_getCode"))
        .singleElement()
        .satisfies(c -> assertThat(c.path("params").get(0).asText()).isEqualTo(MULTISEND));
  }

  @Test
  void aMultiSendCallTheNodeSaysWouldRevertIsRefusedSoItsPayoutsArePreparedAlone()
      throws Exception {
    sender.withMultiSend(MULTISEND, 10);
    // Its code holds both functions: checked before the first call is signed.
    node.resultFor(
        "eth_getCode",
        MULTISEND,
        "\"0x6080" + MultiSend.SEND_TOKEN.substring(2) + MultiSend.SEND_ETHER.substring(2) + "\"");
    node.resultFor("eth_getTransactionCount", "latest", "\"0x0\"")
        .alwaysError("eth_estimateGas", 3, "execution reverted: CodeRecipient");
    assertThat(sender.prepare(FROM, List.of(payout("m1", "1"), payout("m2", "1"))))
        .isInstanceOfSatisfying(
            Preparation.Refused.class,
            r -> assertThat(r.reason()).contains("would revert").contains("CodeRecipient"));
    assertThat(node.calls("eth_signTransaction")).isEmpty();
  }

  @Test
  void aUnitWhoseBytesDoNotDecodeIsNeverReplacedByAGuessOfWhatItPays() throws Exception {
    EthereumSender strict =
        new EthereumSender(new JsonRpcClient(endpoint, RetryPolicy.NONE, http), clock);
    node.alwaysResult("eth_gasPrice", "\"0x2540be400\"");
    assertThat(strict.replace(replacedUnit(7))).isInstanceOf(Replacement.NotNow.class);
    assertThat(node.calls("eth_signTransaction")).isEmpty();
  }

  @Test
  void aMultiSendAddressWithoutTheContractsCodeIsNeverCalled() throws Exception {
    sender.withMultiSend(MULTISEND, 10);
    node.resultFor("eth_getTransactionCount", "latest", "\"0x0\"");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> sender.prepare(FROM, List.of(payout("m1", "1"), payout("m2", "1"))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("holds no multi-send contract");
    assertThat(node.calls("eth_estimateGas")).isEmpty();
  }

  @Test
  void aNodeErrorWhileSigningIsARefusal() throws Exception {
    ScriptedNode refusing = new ScriptedNode();
    server.setDispatcher(refusing);
    refusing
        .alwaysResult("eth_getCode", "\"0x\"")
        .alwaysResult("eth_getTransactionCount", "\"0x0\"")
        .alwaysResult("eth_getBalance", "\"" + RICH + "\"")
        .alwaysResult("eth_gasPrice", "\"0x1\"")
        .alwaysResult("eth_chainId", "\"0x7a69\"")
        .alwaysError("eth_signTransaction", -32602, "No Signer available");
    assertThat(sender.prepare(FROM, List.of(payout("p1", "1"))))
        .isEqualTo(
            new Preparation.Refused("the node did not sign: No Signer available (code -32602)"));
  }

  @Test
  void aContractRecipientIsRefusedBeforeAnythingIsSignedUnlessItsClientMayPayContracts()
      throws Exception {
    node.resultFor("eth_getTransactionCount", "latest", "\"0x0\"")
        .alwaysResult("eth_getCode", "\"0x6080604052\"");
    assertThat(sender.prepare(FROM, List.of(payout("c1", "1"))))
        .isInstanceOfSatisfying(
            Preparation.Refused.class,
            r -> {
              assertThat(r.reason()).startsWith("not-permitted: the recipient is a contract");
              // About the recipient, not the round: final even behind the account's other units.
              assertThat(r.regardless()).isTrue();
            });
    assertThat(node.calls("eth_signTransaction")).isEmpty();
    EthereumSender allowing =
        new EthereumSender(
            new JsonRpcClient(endpoint, RetryPolicy.NONE, http), clock, p -> true, null);
    assertThat(allowing.prepare(FROM, List.of(payout("c2", "1"))))
        .isInstanceOf(Preparation.Signed.class);
  }

  @Test
  void anAccountDelegatingToCodeIsPaidAsThePersonsAccountItIs() throws Exception {
    node.resultFor("eth_getTransactionCount", "latest", "\"0x0\"")
        .alwaysResult("eth_getCode", "\"0xef0100" + "ab".repeat(20) + "\"");
    assertThat(sender.prepare(FROM, List.of(payout("d1", "1"))))
        .isInstanceOf(Preparation.Signed.class);
  }

  @Test
  void anAnswerToGetCodeThatIsNotHexCodeDecidesNothing() throws Exception {
    node.resultFor("eth_getTransactionCount", "latest", "\"0x0\"")
        .alwaysResult("eth_getCode", "null");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> sender.prepare(FROM, List.of(payout("n1", "1"))))
        .isInstanceOf(NodeUnavailableException.class);
    assertThat(node.calls("eth_signTransaction")).isEmpty();
  }
}
