package io.txgw.consumer.signing;

import java.math.BigInteger;
import java.security.SignatureException;
import java.util.ArrayList;
import java.util.List;
import org.web3j.crypto.RawTransaction;
import org.web3j.crypto.Sign;
import org.web3j.crypto.SignedRawTransaction;
import org.web3j.crypto.TransactionDecoder;
import org.web3j.crypto.TransactionEncoder;
import org.web3j.crypto.transaction.type.ITransaction;
import org.web3j.crypto.transaction.type.Transaction1559;
import org.web3j.crypto.transaction.type.TransactionType;
import org.web3j.utils.Numeric;

/**
 * Reads signed Ethereum transactions back, so that what a signer returned is what was asked: a
 * remote signer or a node answering with another recipient, amount, nonce, chain or fee would
 * otherwise be journaled and broadcast as the payout.
 */
public final class SignedTransactions {
  private SignedTransactions() {}

  /** What a signed transaction says, as far as txgw ever asks. */
  public record Decoded(
      String from,
      long chainId,
      long nonce,
      String to,
      BigInteger value,
      long gas,
      EthFees fees,
      String data) {
    /** What its sender must hold for it: see {@link EthTransaction#cost()}. */
    public BigInteger cost() {
      return EthTransaction.cost(value, gas, fees);
    }
  }

  /**
   * {@code raw} if it is {@code asked} signed by {@code asked.from()}; otherwise a lasting refusal
   * naming each field that differs (nothing of it is journaled or sent).
   */
  public static String checked(EthTransaction asked, String raw, String signer)
      throws SigningException {
    return checked(asked, raw, signer, false);
  }

  /**
   * As {@link #checked(EthTransaction, String, String)} for a signature made in this process with
   * the key of {@code asked.from()}, whose recovery id the signing library found by recovering that
   * very key: the sender is not recovered a second time (about a third of signing's cost). Every
   * field is still read back and compared, the chain id (and so a legacy transaction's v) included.
   */
  public static String checkedSignedHere(EthTransaction asked, String raw, String signer)
      throws SigningException {
    return checked(asked, raw, signer, true);
  }

  private static String checked(EthTransaction asked, String raw, String signer, boolean here)
      throws SigningException {
    Decoded got;
    try {
      got = decode(raw, here ? EthTransaction.lower(asked.from()) : null);
    } catch (RuntimeException e) {
      // Bytes no node would take: nothing that could be mined exists, and asking again may help.
      throw new SigningException(
          signer + " returned no readable signed transaction: " + e.getMessage(), false);
    }
    List<String> differ = new ArrayList<>();
    compare(differ, "from", EthTransaction.lower(asked.from()), got.from());
    compare(differ, "chainId", asked.chainId(), got.chainId());
    compare(differ, "nonce", asked.nonce(), got.nonce());
    compare(differ, "to", EthTransaction.lower(asked.to()), got.to());
    compare(differ, "value", asked.value(), got.value());
    compare(differ, "gas", asked.gas(), got.gas());
    compare(differ, "fees", asked.fees(), got.fees());
    compare(differ, "data", EthTransaction.lower(asked.data()), got.data());
    if (!differ.isEmpty()) {
      throw new SigningException(
          signer + " signed another transaction than asked: " + String.join(", ", differ), true);
    }
    return raw;
  }

  private static void compare(List<String> differ, String field, Object asked, Object got) {
    if (!asked.equals(got)) {
      differ.add(field + " " + got + " instead of " + asked);
    }
  }

  /** Half the order of secp256k1: nodes take only signatures with an s no larger (EIP-2). */
  private static final BigInteger HALF_ORDER = Sign.CURVE_PARAMS.getN().shiftRight(1);

  /**
   * Decodes a signed legacy (EIP-155) or type-2 transaction in the one encoding nodes take.
   *
   * @throws IllegalArgumentException when it is neither, unsigned, not protected by a chain id, or
   *     not canonical: trailing bytes, an access list, a high s, an odd-length or padded encoding
   *     (bytes a decoder reads but a node refuses would hold the account's nonce for ever)
   */
  public static Decoded decode(String raw) {
    return decode(raw, null);
  }

  /**
   * As {@link #decode(String)} for bytes this process journaled after {@link #checked} them: the
   * sender is {@code from}, the account the journal names, not recovered from the signature again.
   * Recovering it is most of a decode's cost, and a consumer reads each unit's bytes again when it
   * is mined, replaced or priced.
   */
  public static Decoded journaled(String raw, String from) {
    return decode(raw, java.util.Objects.requireNonNull(from, "from"));
  }

  private static Decoded decode(String raw, String knownFrom) {
    RawTransaction tx;
    try {
      tx = TransactionDecoder.decode(raw);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not an RLP-encoded transaction", e);
    }
    if (!(tx instanceof SignedRawTransaction signed)) {
      throw new IllegalArgumentException("the transaction is not signed");
    }
    Sign.SignatureData signature = signed.getSignatureData();
    if (new BigInteger(1, signature.getS()).compareTo(HALF_ORDER) > 0) {
      throw new IllegalArgumentException("its signature's s is not the low one nodes take");
    }
    if (tx.getTransaction() instanceof Transaction1559 typed
        && typed.getAccessList() != null
        && !typed.getAccessList().isEmpty()) {
      throw new IllegalArgumentException("it carries an access list, never asked for");
    }
    String again = Numeric.toHexString(TransactionEncoder.encode(tx, signature));
    if (!again.equalsIgnoreCase(raw)) {
      throw new IllegalArgumentException("it is not in the one encoding nodes take");
    }
    ITransaction body = tx.getTransaction();
    EthFees fees;
    long chainId;
    if (tx.getType() == TransactionType.EIP1559 && body instanceof Transaction1559 dynamic) {
      fees = new EthFees.Dynamic(dynamic.getMaxFeePerGas(), dynamic.getMaxPriorityFeePerGas());
      chainId = dynamic.getChainId();
      byte[] v = signature.getV();
      if (v.length != 1 || (v[0] != 27 && v[0] != 28)) {
        throw new IllegalArgumentException("its y-parity is neither 0 nor 1");
      }
    } else if (tx.getType() == TransactionType.LEGACY) {
      fees = new EthFees.Legacy(tx.getGasPrice());
      Long id = signed.getChainId();
      if (id == null) {
        // Valid on every chain with the same nonce: never signed or accepted here.
        throw new IllegalArgumentException("a legacy transaction without a chain id (EIP-155)");
      }
      chainId = id;
    } else {
      throw new IllegalArgumentException(
          "transaction type " + tx.getType() + " is not signed here");
    }
    String from = knownFrom;
    if (from == null) {
      try {
        from = signed.getFrom();
      } catch (SignatureException | RuntimeException e) {
        throw new IllegalArgumentException("its signature names no sender", e);
      }
    }
    String to = tx.getTo() == null ? "" : tx.getTo();
    String data = tx.getData() == null || tx.getData().isEmpty() ? "" : tx.getData();
    return new Decoded(
        EthTransaction.lower(from),
        chainId,
        tx.getNonce().longValueExact(),
        EthTransaction.lower(to.startsWith("0x") ? to : "0x" + to),
        tx.getValue(),
        tx.getGasLimit().longValueExact(),
        fees,
        EthTransaction.lower(data.startsWith("0x") ? data : "0x" + data));
  }
}
