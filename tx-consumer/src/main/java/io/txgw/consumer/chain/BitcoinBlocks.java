package io.txgw.consumer.chain;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.consumer.rpc.Rpc;
import io.txgw.consumer.rpc.RpcException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Bitcoin blocks through the node RPC that Bitcoin Core and bcoin share ({@code getbestblockhash},
 * {@code getblock}, {@code getrawtransaction}); they differ only in how {@code getblock} is asked
 * for transaction ids without their details.
 */
final class BitcoinBlocks implements ChainBlocks {
  private final Rpc node;
  private final Rpc wallet;
  private final boolean core;

  /** The last head read: asking for the best hash alone then settles an unchanged head. */
  private Block last;

  /**
   * @param wallet the paying wallet: Bitcoin Core without a transaction index finds a mined
   *     transaction of its own only there
   * @param core Bitcoin Core ({@code getblock hash 1}); bcoin otherwise ({@code getblock hash true
   *     false})
   */
  BitcoinBlocks(Rpc node, Rpc wallet, boolean core) {
    this.node = node;
    this.wallet = wallet;
    this.core = core;
  }

  @Override
  public Block head() throws RpcException, InterruptedException {
    JsonNode best = node.call("getbestblockhash");
    if (best == null || !best.isTextual()) {
      throw ChainBlocks.malformed("getbestblockhash", best);
    }
    String hash = best.asText().toLowerCase(Locale.ROOT);
    Block cached = last;
    if (cached != null && cached.hash().equals(hash)) {
      return cached;
    }
    Block head = byHash(hash);
    if (head == null) {
      throw ChainBlocks.malformed("getblock(best)", hash);
    }
    last = head;
    return head;
  }

  @Override
  public Block byHash(String hash) throws RpcException, InterruptedException {
    JsonNode block;
    try {
      block = core ? node.call("getblock", hash, 1) : node.call("getblock", hash, true, false);
    } catch (RpcException e) {
      if (e.kind() == RpcException.Kind.NODE_ERROR) {
        // "Block not found": the node knows no such block.
        return null;
      }
      throw e;
    }
    if (block == null || block.isNull()) {
      return null;
    }
    JsonNode txs = block.path("tx");
    if (!block.path("height").canConvertToLong()
        || !block.path("hash").isTextual()
        || !txs.isArray()) {
      throw ChainBlocks.malformed("getblock", block);
    }
    List<String> txids = new ArrayList<>(txs.size());
    for (JsonNode tx : txs) {
      String id = tx.isTextual() ? tx.asText() : tx.path("txid").asText("");
      txids.add(id.toLowerCase(Locale.ROOT));
    }
    return new Block(
        block.path("height").asLong(),
        block.path("hash").asText().toLowerCase(Locale.ROOT),
        block.path("previousblockhash").asText("").toLowerCase(Locale.ROOT),
        txids);
  }

  @Override
  public String hashAt(long height) throws RpcException, InterruptedException {
    JsonNode hash;
    try {
      hash = node.call("getblockhash", height);
    } catch (RpcException e) {
      if (e.kind() == RpcException.Kind.NODE_ERROR) {
        // "Block height out of range": above the node's head.
        return null;
      }
      throw e;
    }
    if (hash == null || !hash.isTextual()) {
      throw ChainBlocks.malformed("getblockhash", hash);
    }
    return hash.asText().toLowerCase(Locale.ROOT);
  }

  /**
   * Mined: the wallet's own record (Bitcoin Core: {@code gettransaction}, which needs no
   * transaction index) or the node's ({@code getrawtransaction}, bcoin's index). Not mined: pooled
   * only if the mempool has an entry for it now; an index or a wallet that still shows a
   * transaction a reorganisation took out is not taken for the pool.
   */
  @Override
  public Location locate(String txid) throws RpcException, InterruptedException {
    JsonNode tx;
    try {
      tx = core ? wallet.call("gettransaction", txid) : node.call("getrawtransaction", txid, true);
    } catch (RpcException e) {
      if (e.kind() != RpcException.Kind.NODE_ERROR) {
        throw e;
      }
      // "No such mempool or blockchain transaction" / "Invalid or non-wallet transaction id".
      tx = null;
    }
    if (tx != null && !tx.isNull()) {
      String blockHash = tx.path("blockhash").asText("");
      if (!blockHash.isEmpty() && tx.path("confirmations").asLong(0) > 0) {
        Block block = byHash(blockHash.toLowerCase(Locale.ROOT));
        if (block == null) {
          throw ChainBlocks.malformed("getblock(" + blockHash + ")", null);
        }
        return new Location(Where.MINED, block.ref());
      }
    }
    try {
      JsonNode entry = node.call("getmempoolentry", txid);
      return entry == null || entry.isNull() ? Location.ABSENT : Location.POOLED;
    } catch (RpcException e) {
      if (e.kind() == RpcException.Kind.NODE_ERROR) {
        // "Transaction not in mempool".
        return Location.ABSENT;
      }
      throw e;
    }
  }
}
