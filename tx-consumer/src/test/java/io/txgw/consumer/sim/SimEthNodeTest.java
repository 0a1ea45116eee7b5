package io.txgw.consumer.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.txgw.common.json.Json;
import io.txgw.consumer.ManualClock;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The simulated Ethereum node's blocks and reorganisations, faults off unless a test is about them.
 */
class SimEthNodeTest {
  private static final String FROM = "0x" + "a1".repeat(20);
  private static final String TO = "0x" + "b2".repeat(20);
  private static final BigInteger FUNDS = BigInteger.TEN.pow(18);
  private static final String ZERO_HASH = "0x" + "0".repeat(64);

  private final List<String> trace = new ArrayList<>();
  private final ManualClock clock = new ManualClock();
  private final SimEthNode node =
      new SimEthNode(new Random(42), SimEthNode.Dialect.ANVIL, false, trace::add, clock::instant);

  SimEthNodeTest() {
    node.fund(FROM, FUNDS);
  }

  private String send(long nonce) throws Exception {
    ObjectNode tx = Json.mapper().createObjectNode();
    tx.put("from", FROM).put("to", TO).put("value", "0x3e8");
    tx.put("nonce", "0x" + Long.toHexString(nonce)).put("gasPrice", "0x1");
    String raw = node.call("eth_signTransaction", tx).asText();
    return node.call("eth_sendRawTransaction", raw).asText();
  }

  private JsonNode block(String tag) throws Exception {
    return node.call("eth_getBlockByNumber", tag, false);
  }

  private JsonNode byHash(String hash) throws Exception {
    return node.call("eth_getBlockByHash", hash, false);
  }

  private JsonNode receipt(String txid) throws Exception {
    return node.call("eth_getTransactionReceipt", txid);
  }

  private static List<String> txids(JsonNode block) {
    List<String> ids = new ArrayList<>();
    block.path("transactions").forEach(t -> ids.add(t.asText()));
    return ids;
  }

  @Test
  void blocksLinkByParentHashAndReceiptsNameTheirBlock() throws Exception {
    String txid = send(0);
    node.mine(10);

    JsonNode genesis = block("0x0");
    JsonNode latest = block("latest");

    assertThat(node.call("eth_blockNumber").asText()).isEqualTo("0x1");
    assertThat(genesis.path("parentHash").asText()).isEqualTo(ZERO_HASH);
    assertThat(txids(genesis)).isEmpty();
    assertThat(latest.path("number").asText()).isEqualTo("0x1");
    assertThat(latest.path("hash").asText()).matches("0x[0-9a-f]{64}");
    assertThat(latest.path("parentHash").asText()).isEqualTo(genesis.path("hash").asText());
    assertThat(txids(latest)).containsExactly(txid);
    assertThat(byHash(latest.path("hash").asText())).isEqualTo(latest);
    assertThat(block("0x2").isNull()).isTrue();
    assertThat(byHash("0x" + "ff".repeat(32)).isNull()).isTrue();
    assertThat(receipt(txid).path("blockHash").asText()).isEqualTo(latest.path("hash").asText());
    assertThat(receipt(txid).path("blockNumber").asText()).isEqualTo("0x1");
    JsonNode full = node.call("eth_getBlockByNumber", "latest", true);
    assertThat(full.path("transactions").path(0).path("hash").asText()).isEqualTo(txid);
  }

  @Test
  void reorgReturningTransactionsToThePoolMinesThemAgainInBlocksWithNewHashes() throws Exception {
    String first = send(0);
    node.mine(10);
    String second = send(1);
    node.mine(10);
    JsonNode oldOne = block("0x1");
    JsonNode oldTwo = block("0x2");

    assertThat(node.reorg(2, true)).containsExactly(first, second);

    assertThat(node.call("eth_blockNumber").asText()).isEqualTo("0x0");
    assertThat(receipt(first).isNull()).isTrue();
    assertThat(receipt(second).isNull()).isTrue();
    assertThat(node.poolSize()).isEqualTo(2);
    assertThat(node.transfers()).isEmpty();
    assertThat(node.balance(FROM)).isEqualTo(FUNDS);
    assertThat(node.call("eth_getTransactionCount", FROM, "latest").asText()).isEqualTo("0x0");
    assertThat(node.call("eth_getTransactionCount", FROM, "pending").asText()).isEqualTo("0x2");

    node.mine(Integer.MAX_VALUE);
    JsonNode newOne = block("0x1");

    assertThat(newOne.path("hash").asText()).isNotEqualTo(oldOne.path("hash").asText());
    assertThat(newOne.path("parentHash").asText()).isEqualTo(block("0x0").path("hash").asText());
    assertThat(txids(newOne)).containsExactly(first, second);
    assertThat(receipt(second).path("blockHash").asText()).isEqualTo(newOne.path("hash").asText());
    assertThat(node.transfers())
        .extracting(SimEthNode.Transfer::txid)
        .containsExactly(first, second);
    // Blocks taken off the chain are still served by hash, with their old numbers.
    assertThat(byHash(oldOne.path("hash").asText())).isEqualTo(oldOne);
    assertThat(byHash(oldTwo.path("hash").asText()).path("parentHash").asText())
        .isEqualTo(oldOne.path("hash").asText());
    assertThat(byHash(oldTwo.path("hash").asText()).path("number").asText()).isEqualTo("0x2");
  }

  @Test
  void reorgWithoutThePoolLeavesNoReceiptAndTheNonceGoesBack() throws Exception {
    String txid = send(0);
    node.mine(10);
    String mined = block("latest").path("hash").asText();

    node.reorg(1, false);

    assertThat(receipt(txid).isNull()).isTrue();
    assertThat(node.call("eth_getTransactionByHash", txid).isNull()).isTrue();
    assertThat(node.call("eth_getTransactionCount", FROM, "latest").asText()).isEqualTo("0x0");
    assertThat(node.call("eth_getTransactionCount", FROM, "pending").asText()).isEqualTo("0x0");
    assertThat(node.balance(FROM)).isEqualTo(FUNDS);
    assertThat(node.poolSize()).isZero();
    assertThat(node.transfers()).isEmpty();

    // The same bytes are taken and mined again, in another block.
    assertThat(send(0)).isEqualTo(txid);
    node.mine(10);
    assertThat(receipt(txid).path("blockHash").asText()).isNotEqualTo(mined);
    assertThat(node.transfers()).singleElement().satisfies(t -> assertThat(t.block()).isEqualTo(1));
  }

  @Test
  void reorgTakesAtMostEveryBlockButTheFirst() throws Exception {
    node.mine(1);

    assertThatThrownBy(() -> node.reorg(2, true)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> node.reorg(0, true)).isInstanceOf(IllegalArgumentException.class);
    node.reorg(1, true);
    assertThat(node.call("eth_blockNumber").asText()).isEqualTo("0x0");
  }

  @Test
  void laggingNodeAnswersBlockReadsAsOfAnOlderHead() throws Exception {
    node.mine(1);
    clock.advance(Duration.ofSeconds(30));
    node.mine(1);
    String head = block("latest").path("hash").asText();

    node.faults(new SimEthNode.Faults(0, 0, 0, 0, 0, 0, 1));
    assertThat(node.call("eth_blockNumber").asText()).isEqualTo("0x1");
    assertThat(block("latest").path("number").asText()).isEqualTo("0x1");
    assertThat(byHash(head).isNull()).isTrue();
    node.faults(SimEthNode.Faults.NONE);

    assertThat(byHash(head).path("number").asText()).isEqualTo("0x2");
  }
}
