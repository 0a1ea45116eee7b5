package io.txgw.consumer.signing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.txgw.common.json.Json;
import io.txgw.consumer.rpc.Rpc;
import io.txgw.consumer.rpc.RpcException;
import java.math.BigInteger;
import java.util.Set;
import java.util.TreeSet;

/**
 * Signs through {@code eth_signTransaction}: the interface of remote signers (Web3Signer,
 * EthSigner) and of nodes that hold unlocked keys (geth, anvil). Its answer is trusted for nothing:
 * it must decode to exactly the transaction asked, signed by the paying account.
 */
public final class RpcSigner implements EthSigner {
  private final Rpc rpc;
  private final String name;
  private final Set<String> accounts;

  private RpcSigner(Rpc rpc, String name, Set<String> accounts) {
    this.rpc = rpc;
    this.name = name;
    this.accounts = accounts;
  }

  /**
   * The chain's node signs, for any account (as before txgw signed itself). A node that answers
   * with an error will not sign for that account (it holds no key): the payout is refused.
   */
  public static RpcSigner node(Rpc node) {
    return new RpcSigner(node, "the node", null);
  }

  /**
   * A remote signer for {@code accounts}; empty asks it which it holds ({@code eth_accounts}) now.
   * As with the node, a refusal it answers (a JSON-RPC error: a key removed, a policy refusing the
   * recipient) refuses the payout, with nothing signed; a signer that cannot be reached or answers
   * nothing usable makes it wait.
   */
  public static RpcSigner remote(Rpc signer, Set<String> accounts)
      throws RpcException, InterruptedException {
    Set<String> held = new TreeSet<>();
    if (accounts.isEmpty()) {
      JsonNode listed = signer.call("eth_accounts");
      if (listed == null || !listed.isArray()) {
        throw new RpcException(
            RpcException.Kind.MALFORMED, null, 200, "eth_accounts: not a list", null);
      }
      listed.forEach(a -> held.add(EthTransaction.lower(a.asText())));
    } else {
      accounts.forEach(a -> held.add(EthTransaction.lower(a)));
    }
    return new RpcSigner(signer, "remote signer " + signer.name(), Set.copyOf(held));
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public boolean holds(String account) {
    return accounts == null || accounts.contains(EthTransaction.lower(account));
  }

  /** The accounts it signs for; null for the node, which is asked for any. */
  public Set<String> accounts() {
    return accounts;
  }

  @Override
  public String sign(EthTransaction tx) throws SigningException, InterruptedException {
    ObjectNode request = Json.mapper().createObjectNode();
    request.put("from", tx.from());
    if (!tx.to().equals("0x")) {
      // "0x" creates a contract: no recipient at all.
      request.put("to", tx.to());
    }
    request.put("value", hex(tx.value()));
    request.put("gas", hex(BigInteger.valueOf(tx.gas())));
    request.put("nonce", hex(BigInteger.valueOf(tx.nonce())));
    request.put("chainId", hex(BigInteger.valueOf(tx.chainId())));
    if (tx.fees() instanceof EthFees.Dynamic fees) {
      request.put("type", "0x2");
      request.put("maxFeePerGas", hex(fees.maxFeePerGas()));
      request.put("maxPriorityFeePerGas", hex(fees.maxPriorityFeePerGas()));
    } else {
      request.put("gasPrice", hex(tx.fees().cap()));
    }
    if (!tx.data().equals("0x")) {
      request.put("data", tx.data());
    }
    JsonNode signed;
    try {
      signed = rpc.call("eth_signTransaction", request);
    } catch (RpcException e) {
      // A refusal it answered is lasting; no answer is not.
      boolean lasting = e.kind() == RpcException.Kind.NODE_ERROR;
      throw new SigningException(
          name + " did not sign: " + (lasting ? e.reason() : e.getMessage()), lasting, e);
    }
    // geth answers {raw, tx}; anvil and remote signers the raw hex alone.
    String raw =
        signed != null && signed.isObject()
            ? signed.path("raw").asText("")
            : signed == null ? "" : signed.asText("");
    if (!raw.startsWith("0x")) {
      throw new SigningException(name + " returned no raw transaction", false);
    }
    return SignedTransactions.checked(tx, raw, name);
  }

  private static String hex(BigInteger value) {
    return "0x" + value.toString(16);
  }

  @Override
  public String toString() {
    return "RpcSigner[" + name + "]";
  }
}
