package io.txgw.consumer.chain;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.consumer.rpc.Rpc;
import io.txgw.consumer.rpc.RpcException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Ethereum blocks through the standard methods every node answers ({@code eth_getBlockByNumber},
 * {@code eth_getBlockByHash} with transaction hashes only, receipts): no node's extensions.
 */
final class EthereumBlocks implements ChainBlocks {
  private final Rpc rpc;

  EthereumBlocks(Rpc rpc) {
    this.rpc = rpc;
  }

  @Override
  public Block head() throws RpcException, InterruptedException {
    JsonNode block = rpc.call("eth_getBlockByNumber", "latest", false);
    if (block == null || block.isNull()) {
      throw ChainBlocks.malformed("eth_getBlockByNumber(latest)", block);
    }
    return parse(block);
  }

  @Override
  public Block byHash(String hash) throws RpcException, InterruptedException {
    JsonNode block = rpc.call("eth_getBlockByHash", hash, false);
    return block == null || block.isNull() ? null : parse(block);
  }

  @Override
  public String hashAt(long height) throws RpcException, InterruptedException {
    JsonNode block = rpc.call("eth_getBlockByNumber", "0x" + Long.toHexString(height), false);
    if (block == null || block.isNull()) {
      return null;
    }
    String hash = block.path("hash").asText("");
    if (!hash.startsWith("0x")) {
      throw ChainBlocks.malformed("eth_getBlockByNumber", block);
    }
    return hash.toLowerCase(Locale.ROOT);
  }

  @Override
  public Location locate(String txid) throws RpcException, InterruptedException {
    JsonNode receipt = rpc.call("eth_getTransactionReceipt", txid);
    if (receipt != null && !receipt.isNull()) {
      BlockRef block = EthereumSender.blockOf(receipt);
      if (block == null) {
        throw ChainBlocks.malformed("eth_getTransactionReceipt", receipt);
      }
      return new Location(Where.MINED, block);
    }
    JsonNode tx = rpc.call("eth_getTransactionByHash", txid);
    // Without a receipt a transaction the node knows is pooled, whatever else it says of it.
    return tx == null || tx.isNull() ? Location.ABSENT : Location.POOLED;
  }

  private static Block parse(JsonNode block) throws RpcException {
    String number = block.path("number").asText("");
    String hash = block.path("hash").asText("");
    String parent = block.path("parentHash").asText("");
    JsonNode txs = block.path("transactions");
    if (!number.startsWith("0x")
        || number.length() < 3
        || !hash.startsWith("0x")
        || !txs.isArray()) {
      throw ChainBlocks.malformed("eth_getBlock", block);
    }
    List<String> txids = new ArrayList<>(txs.size());
    for (JsonNode tx : txs) {
      // Asked without full transactions; a node that sends them anyway still names each by hash.
      String id = tx.isTextual() ? tx.asText() : tx.path("hash").asText("");
      txids.add(id.toLowerCase(Locale.ROOT));
    }
    try {
      return new Block(
          Long.parseLong(number.substring(2), 16),
          hash.toLowerCase(Locale.ROOT),
          parent.toLowerCase(Locale.ROOT),
          txids);
    } catch (NumberFormatException e) {
      throw ChainBlocks.malformed("eth_getBlock", number);
    }
  }
}
