package io.txgw.consumer.signing;

import static io.txgw.consumer.signing.KeystoreSignerTest.DEV_ACCOUNT;
import static io.txgw.consumer.signing.KeystoreSignerTest.DEV_KEY;
import static io.txgw.consumer.signing.KeystoreSignerTest.TO;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.RawTransaction;
import org.web3j.crypto.Sign;
import org.web3j.crypto.SignedRawTransaction;
import org.web3j.crypto.TransactionDecoder;
import org.web3j.crypto.TransactionEncoder;
import org.web3j.utils.Numeric;

class SignedTransactionsTest {
  private static final EthTransaction ASKED =
      new EthTransaction(
          31337,
          3,
          DEV_ACCOUNT,
          TO,
          BigInteger.TEN,
          21_000,
          new EthFees.Dynamic(BigInteger.valueOf(100), BigInteger.valueOf(2)),
          "0x");

  private final KeystoreSigner keys = KeystoreSigner.ofKeys(List.of(DEV_KEY));

  @Test
  void aSignatureOfExactlyTheAskedTransactionPasses() throws Exception {
    String raw = keys.sign(ASKED);
    assertThat(SignedTransactions.checked(ASKED, raw, "signer")).isEqualTo(raw);
  }

  @Test
  void aSignerThatSignedAnotherRecipientAmountNonceChainOrFeeIsRefusedNamingEachField()
      throws Exception {
    EthTransaction other =
        new EthTransaction(
            1,
            4,
            DEV_ACCOUNT,
            DEV_ACCOUNT,
            BigInteger.TWO,
            21_000,
            new EthFees.Dynamic(BigInteger.valueOf(101), BigInteger.valueOf(2)),
            "0x");
    String raw = keys.sign(other);
    assertThatThrownBy(() -> SignedTransactions.checked(ASKED, raw, "remote signer"))
        .isInstanceOfSatisfying(SigningException.class, e -> assertThat(e.lasting()).isTrue())
        .hasMessageContainingAll("remote signer", "chainId", "nonce", "to", "value", "fees")
        .hasMessageNotContaining("from");
  }

  @Test
  void aTransactionSignedByAnotherKeyIsRefused() throws Exception {
    KeystoreSigner other =
        KeystoreSigner.ofKeys(List.of(org.web3j.crypto.ECKeyPair.create(BigInteger.valueOf(7))));
    String otherAccount = other.accounts().iterator().next();
    String raw =
        other.sign(
            new EthTransaction(
                31337, 3, otherAccount, TO, BigInteger.TEN, 21_000, ASKED.fees(), "0x"));
    assertThatThrownBy(() -> SignedTransactions.checked(ASKED, raw, "node"))
        .hasMessageContaining("from " + otherAccount);
  }

  @Test
  void bytesThatDecodeButThatNodesRefuseAreNotTaken() throws Exception {
    // Trailing bytes after the transaction.
    String raw = keys.sign(ASKED);
    assertThatThrownBy(() -> SignedTransactions.checked(ASKED, raw + "00", "signer"))
        .isInstanceOfSatisfying(SigningException.class, e -> assertThat(e.lasting()).isFalse());
    // The same signature with the high s (and the other parity): it recovers the same sender, and
    // nodes refuse it (EIP-2).
    EthTransaction legacy = ASKED.withFees(new EthFees.Legacy(BigInteger.valueOf(100)));
    String low = keys.sign(legacy);
    SignedRawTransaction decoded = (SignedRawTransaction) TransactionDecoder.decode(low);
    Sign.SignatureData sig = decoded.getSignatureData();
    BigInteger n = Sign.CURVE_PARAMS.getN();
    BigInteger v = new BigInteger(1, sig.getV());
    BigInteger otherV = v.testBit(0) ? v.add(BigInteger.ONE) : v.subtract(BigInteger.ONE);
    Sign.SignatureData high =
        new Sign.SignatureData(
            Numeric.toBytesPadded(otherV, sig.getV().length),
            sig.getR(),
            Numeric.toBytesPadded(n.subtract(new BigInteger(1, sig.getS())), 32));
    String malleated = Numeric.toHexString(TransactionEncoder.encode(decoded, high));
    assertThat(((SignedRawTransaction) TransactionDecoder.decode(malleated)).getFrom())
        .isEqualToIgnoringCase(DEV_ACCOUNT);
    assertThatThrownBy(() -> SignedTransactions.checked(legacy, malleated, "signer"))
        .hasMessageContaining("low one");
  }

  @Test
  void garbageIsNotASignatureAndAnswersWithoutAChainIdAreNeverTaken() {
    assertThatThrownBy(() -> SignedTransactions.checked(ASKED, "0x1234", "node"))
        .isInstanceOfSatisfying(SigningException.class, e -> assertThat(e.lasting()).isFalse());
    // Signed without EIP-155: replayable on every chain.
    RawTransaction legacy =
        RawTransaction.createEtherTransaction(
            BigInteger.ZERO, BigInteger.ONE, BigInteger.valueOf(21_000), TO, BigInteger.ONE);
    String unprotected =
        Numeric.toHexString(TransactionEncoder.signMessage(legacy, Credentials.create(DEV_KEY)));
    assertThatThrownBy(() -> SignedTransactions.decode(unprotected))
        .hasMessageContaining("chain id");
  }
}
