package io.txgw.deploy.nodes;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.web3j.crypto.Bip32ECKeyPair;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.ECKeyPair;
import org.web3j.crypto.MnemonicUtils;
import org.web3j.crypto.Wallet;
import org.web3j.crypto.exception.CipherException;

/**
 * The development accounts anvil and hardhat fund at start, derived as they derive them (BIP-44
 * path m/44'/60'/0'/0/i of their published test mnemonic), for runs that sign outside the node: a
 * keystore of them is what an operator's hot wallet would be. Test keys, public and worthless on
 * any real chain.
 */
public final class DevAccounts {
  private static final String MNEMONIC =
      "test test test test test test test test test test test junk";

  private DevAccounts() {}

  /** The key of development account {@code index}. */
  public static ECKeyPair key(int index) {
    Bip32ECKeyPair master =
        Bip32ECKeyPair.generateKeyPair(MnemonicUtils.generateSeed(MNEMONIC, ""));
    int hardened = Bip32ECKeyPair.HARDENED_BIT;
    return Bip32ECKeyPair.deriveKeyPair(
        master, new int[] {44 | hardened, 60 | hardened, hardened, 0, index});
  }

  /** Its address, lower case. */
  public static String address(int index) {
    return Credentials.create(key(index)).getAddress();
  }

  /**
   * Writes a Web3 Secret Storage keystore of the accounts {@code indexes} into {@code dir} (light
   * scrypt: test keys) and its password beside it; returns the consumer settings that sign with it
   * on anvil's or hardhat's chain.
   */
  public static Map<String, String> keystore(Path dir, int... indexes) throws IOException {
    String password = "txgw development keys";
    Files.createDirectories(dir);
    ObjectMapper json = new ObjectMapper();
    for (int i : indexes) {
      try {
        json.writeValue(
            dir.resolve("account-" + i + ".json").toFile(), Wallet.createLight(password, key(i)));
      } catch (CipherException e) {
        throw new IOException("cannot encrypt development key " + i, e);
      }
    }
    Path passwordFile = dir.resolveSibling(dir.getFileName() + ".password");
    Files.writeString(passwordFile, password + "\n");
    Map<String, String> env = new HashMap<>();
    env.put("TXGW_ETH_KEYSTORE_DIR", dir.toString());
    env.put("TXGW_ETH_KEYSTORE_PASSWORD_FILE", passwordFile.toString());
    // anvil's and hardhat's chain id: a signature is for one chain.
    env.put("TXGW_ETH_CHAIN_ID", "31337");
    return env;
  }
}
