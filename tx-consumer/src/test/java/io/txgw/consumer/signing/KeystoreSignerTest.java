package io.txgw.consumer.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.txgw.common.config.Secret;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.web3j.crypto.ECKeyPair;
import org.web3j.crypto.Wallet;

class KeystoreSignerTest {
  /** The Web3 Secret Storage definition's PBKDF2 test vector. */
  private static final String SPEC_VECTOR =
      """
      {"crypto":{"cipher":"aes-128-ctr","cipherparams":{"iv":"6087dab2f9fdbbfaddc31a909735c1e6"},
      "ciphertext":"5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46",
      "kdf":"pbkdf2","kdfparams":{"c":262144,"dklen":32,"prf":"hmac-sha256",
      "salt":"ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd"},
      "mac":"517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2"},
      "id":"3198bc9c-6672-5ab3-d995-4942343ae5b6","version":3}
      """;

  /** anvil's first development key. */
  static final ECKeyPair DEV_KEY =
      ECKeyPair.create(
          new BigInteger("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", 16));

  static final String DEV_ACCOUNT = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
  static final String TO = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed";

  @Test
  void opensTheSpecificationsTestVectorToItsKnownKey(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("vector.json"), SPEC_VECTOR);
    KeystoreSigner signer = KeystoreSigner.open(dir, new Secret("testpassword"));
    String expected =
        org.web3j.crypto.Keys.getAddress(
            ECKeyPair.create(
                new BigInteger(
                    "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d", 16)));
    assertThat(signer.accounts()).containsExactly("0x" + expected);
  }

  @Test
  void aWrongPasswordStopsTheStartNamingTheFileAndNeverThePassword(@TempDir Path dir)
      throws Exception {
    write(dir, "hot.json", DEV_KEY, "right horse battery");
    assertThatThrownBy(() -> KeystoreSigner.open(dir, new Secret("wrong horse battery")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("hot.json")
        .hasMessageNotContaining("horse");
  }

  @Test
  void aFolderWithoutKeysOrWithoutAPasswordIsRefused(@TempDir Path dir) {
    assertThatThrownBy(() -> KeystoreSigner.open(dir, new Secret("x")))
        .hasMessageContaining("no *.json key file");
    assertThatThrownBy(() -> KeystoreSigner.open(dir, new Secret("")))
        .hasMessageContaining("password");
  }

  @Test
  void signsTypeTwoAndLegacyTransactionsThatDecodeToExactlyWhatWasAsked(@TempDir Path dir)
      throws Exception {
    write(dir, "hot.json", DEV_KEY, "pw");
    KeystoreSigner signer = KeystoreSigner.open(dir, new Secret("pw"));
    assertThat(signer.holds(DEV_ACCOUNT.toUpperCase().replace("0X", "0x"))).isTrue();
    for (EthFees fees :
        List.of(
            new EthFees.Dynamic(BigInteger.valueOf(3_000_000_000L), BigInteger.ONE),
            new EthFees.Legacy(BigInteger.valueOf(2_000_000_000L)))) {
      EthTransaction tx =
          new EthTransaction(
              31337, 7, DEV_ACCOUNT, TO, new BigInteger("1000000000000000001"), 21_000, fees, "0x");
      SignedTransactions.Decoded got = SignedTransactions.decode(signer.sign(tx));
      assertThat(got)
          .isEqualTo(
              new SignedTransactions.Decoded(
                  DEV_ACCOUNT, 31337, 7, TO, tx.value(), 21_000, fees, "0x"));
    }
  }

  @Test
  void anAccountWithoutAKeyIsALastingRefusal() {
    KeystoreSigner signer = KeystoreSigner.ofKeys(List.of(DEV_KEY));
    EthTransaction tx =
        new EthTransaction(
            1,
            0,
            TO,
            DEV_ACCOUNT,
            BigInteger.ONE,
            21_000,
            new EthFees.Legacy(BigInteger.ONE),
            "0x");
    assertThatThrownBy(() -> signer.sign(tx))
        .isInstanceOfSatisfying(SigningException.class, e -> assertThat(e.lasting()).isTrue());
  }

  static void write(Path dir, String name, ECKeyPair key, String password) throws Exception {
    new ObjectMapper().writeValue(dir.resolve(name).toFile(), Wallet.createLight(password, key));
  }
}
