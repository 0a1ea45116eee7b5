package io.txgw.consumer.signing;

import java.math.BigInteger;
import java.util.Objects;

/** What an Ethereum transaction pays per gas: one price (legacy) or a cap and a tip (EIP-1559). */
public sealed interface EthFees {
  /** The most the transaction can pay per gas: what its sender must hold funds for. */
  BigInteger cap();

  /** A legacy (type 0) transaction's single gas price. */
  record Legacy(BigInteger gasPrice) implements EthFees {
    public Legacy {
      Objects.requireNonNull(gasPrice, "gasPrice");
    }

    @Override
    public BigInteger cap() {
      return gasPrice;
    }
  }

  /**
   * An EIP-1559 (type 2) transaction's fee cap and priority fee (tip); the chain charges the
   * block's base fee plus the tip, never more than the cap.
   */
  record Dynamic(BigInteger maxFeePerGas, BigInteger maxPriorityFeePerGas) implements EthFees {
    public Dynamic {
      Objects.requireNonNull(maxFeePerGas, "maxFeePerGas");
      Objects.requireNonNull(maxPriorityFeePerGas, "maxPriorityFeePerGas");
      if (maxPriorityFeePerGas.compareTo(maxFeePerGas) > 0) {
        throw new IllegalArgumentException("the tip cannot exceed the fee cap");
      }
    }

    @Override
    public BigInteger cap() {
      return maxFeePerGas;
    }
  }
}
