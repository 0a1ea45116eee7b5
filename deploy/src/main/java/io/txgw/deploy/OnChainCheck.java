package io.txgw.deploy;

import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import io.txgw.common.validation.PayoutLine;
import io.txgw.consumer.rpc.RpcException;
import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * Compares what each recipient holds on chain with what its payout said: exactly the amount, in
 * exactly one output for Bitcoin. Recipients are fresh addresses, so anything else is a missing or
 * a double payment.
 */
public final class OnChainCheck {
  private final LocalStack stack;

  public OnChainCheck(LocalStack stack) {
    this.stack = stack;
  }

  /** One recipient whose chain state does not match its payout. */
  public record Mismatch(String payoutId, String address, String expected, String found) {}

  public List<Mismatch> check(Chain chain, List<PayoutLine> payouts)
      throws IOException, RpcException, InterruptedException {
    List<Mismatch> mismatches = new ArrayList<>();
    int decimals = chain.nativeAsset().decimals();
    for (PayoutLine p : payouts) {
      BigInteger expected = Amount.parse(p.amount()).toUnits(decimals);
      String found;
      boolean ok;
      if (chain == Chain.ETH) {
        BigInteger balance = stack.anvil().balanceWei(p.to());
        ok = balance.equals(expected);
        found = Amount.ofUnits(balance, decimals).toString();
      } else {
        List<BigInteger> outputs = stack.bcoin().outputsTo(p.to());
        ok = outputs.size() == 1 && outputs.get(0).equals(expected);
        found =
            outputs.stream().map(o -> Amount.ofUnits(o, decimals).toString()).toList().toString();
      }
      if (!ok) {
        mismatches.add(new Mismatch(p.id(), p.to(), p.amount(), found));
      }
    }
    return mismatches;
  }

  /**
   * The same for payouts of the stack's test token: each recipient's {@code balanceOf} is exactly
   * its amount, and it holds no ether (a token payout moves none).
   */
  public List<Mismatch> checkToken(List<PayoutLine> payouts)
      throws RpcException, InterruptedException {
    List<Mismatch> mismatches = new ArrayList<>();
    for (PayoutLine p : payouts) {
      BigInteger expected = Amount.parse(p.amount()).toUnits(6);
      BigInteger held = tokenBalance(p.to());
      BigInteger ether = stack.anvil().balanceWei(p.to());
      if (!held.equals(expected) || ether.signum() != 0) {
        mismatches.add(
            new Mismatch(
                p.id(),
                p.to(),
                p.amount(),
                Amount.ofUnits(held, 6) + " TUSD and " + ether + " wei"));
      }
    }
    return mismatches;
  }

  /** The test token's {@code balanceOf(holder)} at the latest block. */
  public BigInteger tokenBalance(String holder) throws RpcException, InterruptedException {
    com.fasterxml.jackson.databind.node.ObjectNode call =
        io.txgw.common.json.Json.mapper().createObjectNode();
    call.put("to", stack.token());
    call.put(
        "data",
        "0x70a08231" + "0".repeat(24) + holder.substring(2).toLowerCase(java.util.Locale.ROOT));
    String word = stack.anvil().rpc().call("eth_call", call, "latest").asText();
    return new BigInteger(word.substring(2), 16);
  }
}
