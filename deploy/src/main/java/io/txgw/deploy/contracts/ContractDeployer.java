package io.txgw.deploy.contracts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.txgw.common.config.ConfigReader;
import io.txgw.common.config.Secret;
import io.txgw.common.json.Json;
import io.txgw.consumer.rpc.JsonRpcClient;
import io.txgw.consumer.rpc.RetryPolicy;
import io.txgw.consumer.rpc.RpcEndpoint;
import io.txgw.consumer.rpc.RpcException;
import io.txgw.consumer.signing.AccountSigners;
import io.txgw.consumer.signing.EthFees;
import io.txgw.consumer.signing.EthTransaction;
import io.txgw.consumer.signing.SignerSettings;
import io.txgw.consumer.signing.SigningException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;

/**
 * Sends the contract transactions of {@link ContractsMain} from one account: signed as the consumer
 * signs (the same environment and signers), each waited for until a successful receipt.
 */
public final class ContractDeployer {
  private static final String MAX_UINT = "f".repeat(64);

  private final JsonRpcClient node;
  private final AccountSigners signers;
  private final long chainId;
  private final String from;

  private ContractDeployer(JsonRpcClient node, AccountSigners signers, long chainId, String from) {
    this.node = node;
    this.signers = signers;
    this.chainId = chainId;
    this.from = from;
  }

  /**
   * From the consumer's variables: {@code TXGW_ETH_RPC_URL} (and _USER, _PASSWORD), {@code
   * TXGW_ETH_CHAIN_ID} and the signers'.
   */
  public static ContractDeployer of(Map<String, String> env, String from)
      throws RpcException, InterruptedException {
    ConfigReader r = new ConfigReader(env);
    SignerSettings signing = SignerSettings.read(r);
    String url = env.getOrDefault("TXGW_ETH_RPC_URL", "");
    if (url.isEmpty()) {
      r.problem("TXGW_ETH_RPC_URL: the Ethereum node to send through");
    }
    r.throwIfProblems();
    String password = env.getOrDefault("TXGW_ETH_RPC_PASSWORD", "");
    JsonRpcClient node =
        new JsonRpcClient(
            new RpcEndpoint(
                "eth",
                url,
                env.get("TXGW_ETH_RPC_USER"),
                password.isEmpty() ? null : new Secret(password),
                true,
                Duration.ofSeconds(30)),
            RetryPolicy.NONE);
    long served = quantity(node.call("eth_chainId")).longValueExact();
    if (signing.chainId() != 0 && signing.chainId() != served) {
      throw new IllegalStateException(
          "the node serves chain id " + served + ", not " + signing.chainId());
    }
    AccountSigners signers =
        signing.build(node, JsonRpcClient.httpClient(), Duration.ofSeconds(30));
    return new ContractDeployer(node, signers, served, from);
  }

  /** Deploys the multi-send contract; its address. */
  public String deployMultiSend() throws RpcException, InterruptedException, SigningException {
    return send("0x", bytecode("TxgwMultiSend")).path("contractAddress").asText();
  }

  /** Deploys the test token, {@code supply} whole tokens minted to the sender; its address. */
  public String deployTestToken(BigInteger supply)
      throws RpcException, InterruptedException, SigningException {
    String data =
        bytecode("TxgwTestToken") + word(supply.multiply(BigInteger.TEN.pow(6)).toString(16));
    return send("0x", data).path("contractAddress").asText();
  }

  /** Lets {@code spender} move the sender's {@code token} without limit; the transaction id. */
  public String approve(String token, String spender)
      throws RpcException, InterruptedException, SigningException {
    // approve(address,uint256) with the largest amount: never counted down by OpenZeppelin's.
    String data = "0x095ea7b3" + word(spender.substring(2)) + MAX_UINT;
    return send(token, data).path("transactionHash").asText();
  }

  /** Signs, sends and waits for a successful receipt; returns it. */
  JsonNode send(String to, String data)
      throws RpcException, InterruptedException, SigningException {
    long nonce = quantity(node.call("eth_getTransactionCount", from, "latest")).longValueExact();
    ObjectNode call = Json.mapper().createObjectNode();
    call.put("from", from);
    if (!to.equals("0x")) {
      call.put("to", to);
    }
    call.put("data", data);
    BigInteger estimate = quantity(node.call("eth_estimateGas", call));
    // A quarter more gas and price than asked: the operator waits for this one transaction.
    BigInteger price = quantity(node.call("eth_gasPrice"));
    EthTransaction tx =
        new EthTransaction(
            chainId,
            nonce,
            from,
            to,
            BigInteger.ZERO,
            estimate.add(estimate.shiftRight(2)).longValueExact(),
            new EthFees.Legacy(price.add(price.shiftRight(2))),
            data);
    String raw = signers.sign(tx);
    String hash = node.call("eth_sendRawTransaction", raw).asText();
    Instant deadline = Instant.now().plus(Duration.ofMinutes(5));
    while (Instant.now().isBefore(deadline)) {
      JsonNode receipt = node.call("eth_getTransactionReceipt", hash);
      if (receipt != null && !receipt.isNull()) {
        if (!"0x1".equals(receipt.path("status").asText())) {
          throw new IllegalStateException("transaction " + hash + " reverted");
        }
        return receipt;
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException(
        "transaction " + hash + " is in no block after 5 minutes; look it up");
  }

  /** The compiled contract shipped in the classes ({@code deploy/contracts}, built by Maven). */
  public static String bytecode(String contract) {
    try (InputStream in =
        ContractDeployer.class.getResourceAsStream("/contracts/" + contract + ".json")) {
      if (in == null) {
        throw new IllegalStateException(contract + " is not compiled into this build");
      }
      return Json.mapper().readTree(in).path("bytecode").asText();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + contract + ": " + e.getMessage(), e);
    }
  }

  static String word(String hex) {
    String lower = hex.toLowerCase(Locale.ROOT);
    return "0".repeat(64 - lower.length()) + lower;
  }

  static BigInteger quantity(JsonNode node) {
    if (node == null || !node.asText("").startsWith("0x")) {
      throw new IllegalStateException("expected a hex quantity, got " + node);
    }
    return new BigInteger(node.asText().substring(2), 16);
  }
}
