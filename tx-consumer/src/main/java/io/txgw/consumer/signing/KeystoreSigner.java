package io.txgw.consumer.signing;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.txgw.common.config.Secret;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.RawTransaction;
import org.web3j.crypto.TransactionEncoder;
import org.web3j.crypto.Wallet;
import org.web3j.crypto.WalletFile;
import org.web3j.crypto.exception.CipherException;
import org.web3j.utils.Numeric;

/**
 * Signs with keys read from Web3 Secret Storage (V3 JSON) files, decrypted once at start with one
 * password. The keys stay in this object's memory only: never logged, written or sent, and no
 * message of this class holds the password or a key.
 */
public final class KeystoreSigner implements EthSigner {
  private static final Logger log = LoggerFactory.getLogger(KeystoreSigner.class);

  /**
   * Files read from the folder at most. A standard file costs about a second and 256 MB of scrypt
   * work to open, so a folder of thousands would hold the start for an hour.
   */
  public static final int MAX_KEYS = 256;

  /** Files larger than this are no keystore (one is about 500 bytes). */
  private static final long MAX_FILE_BYTES = 64 * 1024;

  private final Map<String, Credentials> keys;

  private KeystoreSigner(Map<String, Credentials> keys) {
    this.keys = keys;
  }

  /**
   * Opens every {@code *.json} file in {@code dir}. A file that cannot be read or opened with the
   * password stops the start with its name: a consumer that silently lacked a key would refuse that
   * account's payouts instead.
   */
  public static KeystoreSigner open(Path dir, Secret password) {
    if (password == null || password.reveal().isEmpty()) {
      throw new IllegalArgumentException("a keystore needs its password (or password file)");
    }
    ObjectMapper mapper =
        new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    Map<String, Credentials> keys = new TreeMap<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.json")) {
      for (Path file : files) {
        if (keys.size() == MAX_KEYS) {
          throw new IllegalArgumentException(
              "keystore " + dir + " holds more than " + MAX_KEYS + " key files");
        }
        if (Files.size(file) > MAX_FILE_BYTES) {
          throw new IllegalArgumentException("keystore file " + file + " is too large to be one");
        }
        Credentials key;
        try {
          WalletFile wallet = mapper.readValue(file.toFile(), WalletFile.class);
          bounded(wallet);
          key = Credentials.create(Wallet.decrypt(password.reveal(), wallet));
        } catch (CipherException e) {
          // Names the check that failed ("Invalid password provided"), never the password.
          throw new IllegalArgumentException(
              "cannot open keystore file " + file + ": " + e.getMessage(), null);
        } catch (IOException | RuntimeException e) {
          // Only the kind of failure: a parser's message quotes the content it stumbled on, which
          // may be a key saved in the clear.
          throw new IllegalArgumentException(
              "cannot open keystore file "
                  + file
                  + ": not a V3 key file ("
                  + e.getClass().getSimpleName()
                  + ")",
              null);
        }
        String address = EthTransaction.lower(key.getAddress());
        if (keys.put(address, key) != null) {
          throw new IllegalArgumentException("keystore " + dir + " holds " + address + " twice");
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read keystore " + dir + ": " + e.getMessage());
    }
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("keystore " + dir + " holds no *.json key file");
    }
    log.info("keystore {}: keys for {}", dir, keys.keySet());
    return new KeystoreSigner(keys);
  }

  /** A signer holding {@code keys}: for tests and benchmarks, which make their keys. */
  public static KeystoreSigner ofKeys(java.util.Collection<org.web3j.crypto.ECKeyPair> keys) {
    Map<String, Credentials> held = new TreeMap<>();
    for (org.web3j.crypto.ECKeyPair key : keys) {
      Credentials credentials = Credentials.create(key);
      held.put(EthTransaction.lower(credentials.getAddress()), credentials);
    }
    return new KeystoreSigner(held);
  }

  /**
   * scrypt's memory is 128 x n x r bytes: a file asking more than the standard parameters (n
   * 262,144, r 8: 256 MB) is refused before it is opened.
   */
  private static void bounded(WalletFile wallet) throws CipherException {
    if (wallet.getCrypto() != null
        && wallet.getCrypto().getKdfparams() instanceof WalletFile.ScryptKdfParams scrypt
        && (scrypt.getN() > 262_144 || scrypt.getR() > 8 || scrypt.getP() > 16)) {
      throw new CipherException("its scrypt parameters ask more memory than a standard key file");
    }
  }

  @Override
  public String name() {
    return "keystore";
  }

  @Override
  public boolean holds(String account) {
    return keys.containsKey(EthTransaction.lower(account));
  }

  /** The accounts whose keys it holds, lower-case hex. */
  public java.util.Set<String> accounts() {
    return java.util.Collections.unmodifiableSet(keys.keySet());
  }

  @Override
  public String sign(EthTransaction tx) throws SigningException {
    Credentials key = keys.get(EthTransaction.lower(tx.from()));
    if (key == null) {
      throw new SigningException("the keystore holds no key for " + tx.from(), true);
    }
    BigInteger nonce = BigInteger.valueOf(tx.nonce());
    BigInteger gas = BigInteger.valueOf(tx.gas());
    byte[] signed;
    if (tx.fees() instanceof EthFees.Dynamic fees) {
      RawTransaction raw =
          RawTransaction.createTransaction(
              tx.chainId(),
              nonce,
              gas,
              tx.to(),
              tx.value(),
              tx.data(),
              fees.maxPriorityFeePerGas(),
              fees.maxFeePerGas());
      signed = TransactionEncoder.signMessage(raw, key);
    } else {
      RawTransaction raw =
          RawTransaction.createTransaction(
              nonce, tx.fees().cap(), gas, tx.to(), tx.value(), tx.data());
      signed = TransactionEncoder.signMessage(raw, tx.chainId(), key);
    }
    return SignedTransactions.checkedSignedHere(tx, Numeric.toHexString(signed), name());
  }

  @Override
  public String toString() {
    return "KeystoreSigner" + keys.keySet();
  }
}
