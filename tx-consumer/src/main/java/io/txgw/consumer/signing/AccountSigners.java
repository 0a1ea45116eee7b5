package io.txgw.consumer.signing;

import java.util.List;

/**
 * Which signer signs for which account: the first of the configured signers that holds its key
 * (keystore, then remote signer, then the node where allowed). Chosen per account, so one consumer
 * can pay from a hot wallet in a keystore and from accounts kept behind a remote signer.
 */
public final class AccountSigners {
  private final List<EthSigner> signers;

  public AccountSigners(List<EthSigner> signers) {
    if (signers.isEmpty()) {
      throw new IllegalArgumentException("no Ethereum signer configured");
    }
    this.signers = List.copyOf(signers);
  }

  /** The node signs everything: how txgw paid before it signed itself. */
  public static AccountSigners nodeOnly(io.txgw.consumer.rpc.Rpc node) {
    return new AccountSigners(List.of(RpcSigner.node(node)));
  }

  /** Signs with the first signer holding the account; a lasting refusal when none does. */
  public String sign(EthTransaction tx) throws SigningException, InterruptedException {
    for (EthSigner signer : signers) {
      if (signer.holds(tx.from())) {
        return signer.sign(tx);
      }
    }
    throw new SigningException(
        "no signer of this consumer holds a key for " + tx.from() + " (" + names() + ")", true);
  }

  private String names() {
    return String.join(", ", signers.stream().map(EthSigner::name).toList());
  }

  public List<EthSigner> signers() {
    return signers;
  }
}
