package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.model.Chain;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.model.PayoutStatus;
import io.txgw.common.validation.PayoutLine;
import io.txgw.deploy.nodes.HardhatNode;
import io.txgw.deploy.nodes.NodePackages;
import io.txgw.loadgen.GatewayClient;
import io.txgw.loadgen.PayoutFactory;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.ECKeyPair;
import org.web3j.crypto.Wallet;

/**
 * txgw signs its own Ethereum transactions and pays through a node that holds no keys: hardhat, the
 * second real development node, which answers the standard methods and refuses {@code
 * eth_signTransaction}. One consumer signs for the first account from a keystore file, for the
 * second through a remote signer (anvil, speaking {@code eth_signTransaction} at its own address),
 * and for no other: the node may not sign.
 */
class SigningIT {
  /** anvil's and hardhat's first two development keys (the same mnemonic). */
  private static final ECKeyPair KEY_0 =
      ECKeyPair.create(
          new BigInteger("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", 16));

  private static LocalStack stack;
  private static HardhatNode hardhat;
  private static GatewayClient client;
  private static PayoutFactory factory;
  private static Map<String, String> signing;

  @BeforeAll
  static void startStack() throws Exception {
    // No Ethereum node in the registry: the consumer pays through the node its environment names.
    stack =
        LocalStack.start(
            new LocalStack.Options(0, 0, 400, Duration.ofMillis(500))
                .withLimits(null, LocalStack.Options.GENEROUS));
    hardhat = HardhatNode.start(NodePackages.locate(), stack.workDir());
    Path keystore = Files.createDirectories(stack.workDir().resolve("keystore"));
    new ObjectMapper()
        .writeValue(
            keystore.resolve("hot-wallet.json").toFile(),
            Wallet.createLight("correct horse", KEY_0));
    Path password = stack.workDir().resolve("keystore.password");
    Files.writeString(password, "correct horse\n");
    signing = new HashMap<>();
    signing.put("TXGW_ETH_RPC_URL", hardhat.rpcUrl());
    signing.put("TXGW_ETH_CHAIN_ID", "31337");
    signing.put("TXGW_ETH_KEYSTORE_DIR", keystore.toString());
    signing.put("TXGW_ETH_KEYSTORE_PASSWORD_FILE", password.toString());
    signing.put("TXGW_ETH_SIGNER_URL", stack.anvil().rpcUrl());
    signing.put("TXGW_ETH_SIGNER_ACCOUNTS", stack.ethAccount(1));
    signing.put("TXGW_ETH_NODE_SIGNS", "false");
    // The stack lists its test token (deployed on anvil): deployed on hardhat too, from the same
    // account's first nonce, it has the same address. Signed from the keystore by the operator's
    // deployer, as hardhat signs nothing: the consumer checks it answers decimals() 6.
    String token =
        io.txgw.deploy.contracts.ContractDeployer.of(signing, stack.ethAccount(0))
            .deployTestToken(BigInteger.valueOf(1_000));
    assertThat(token).isEqualToIgnoringCase(stack.token());
    stack.startConsumer("consumer-1", signing);
    client = new GatewayClient(stack.gatewayUrl(), stack.apiKey());
    factory = new PayoutFactory(new AddressCodec(BitcoinNetwork.BCOIN_REGTEST), 43);
  }

  @AfterAll
  static void stopStack() {
    if (hardhat != null) {
      hardhat.close();
    }
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void payoutsSignedByTheKeystoreOrTheRemoteSignerArePaidExactlyThroughANodeHoldingNoKeys()
      throws Exception {
    List<PayoutLine> keystore =
        factory.payouts(Chain.ETH, "ks", 40, BigInteger.ONE, new BigInteger("10000000000000000"));
    List<PayoutLine> remote =
        factory.payouts(Chain.ETH, "rs", 40, BigInteger.ONE, new BigInteger("10000000000000000"));
    post("keystore", stack.ethAccount(0), keystore);
    post("remote", stack.ethAccount(1), remote);
    Demo.awaitFinal(client, "keystore", keystore.size(), Duration.ofMinutes(2));
    Demo.awaitFinal(client, "remote", remote.size(), Duration.ofMinutes(2));

    List<PayoutLine> all = new ArrayList<>(keystore);
    all.addAll(remote);
    Map<String, List<PayoutResult>> history = ResultHistory.of(stack, all);
    for (PayoutLine line : all) {
      List<PayoutResult> h = history.get(line.id());
      PayoutResult last = h.get(h.size() - 1);
      assertThat(last.status()).as(line.id()).isEqualTo(PayoutStatus.CONFIRMED);
      // Each fresh recipient holds exactly its amount: paid once, to the wei.
      assertThat(balance(line.to())).as(line.id()).isEqualTo(wei(line.amount()));
      JsonNode tx = hardhat.rpc().call("eth_getTransactionByHash", last.txid());
      assertThat(tx.path("type").asText()).isEqualTo("0x2");
      assertThat(tx.path("chainId").asText()).isEqualTo("0x7a69");
      assertThat(tx.path("from").asText())
          .isEqualToIgnoringCase(stack.ethAccount(line.id().startsWith("ks") ? 0 : 1));
    }
    // hardhat was asked to sign nothing: it would have refused.
    assertThat(Files.readString(stack.workDir().resolve("hardhat.log")))
        .contains("eth_sendRawTransaction")
        .doesNotContain("eth_signTransaction");
  }

  @Test
  void manyAddressesCodeSizesAreReadInOneCallAlikeOnAnvilAndHardhat() throws Exception {
    String fresh =
        factory.payouts(Chain.ETH, "code", 1, BigInteger.ONE, BigInteger.TEN).get(0).to();
    List<String> addresses =
        List.of(
            stack.token(),
            stack.ethAccount(5),
            fresh,
            "0x0000000000000000000000000000000000000001");
    for (io.txgw.consumer.rpc.Rpc node : List.of(hardhat.rpc(), stack.anvil().rpc())) {
      List<BigInteger> sizes = io.txgw.consumer.chain.CodeSizes.of(node, addresses);
      String code = node.call("eth_getCode", stack.token(), "latest").asText();
      assertThat(sizes)
          .as(node.name())
          .containsExactly(
              BigInteger.valueOf((code.length() - 2) / 2L),
              BigInteger.ZERO,
              BigInteger.ZERO,
              BigInteger.ZERO);
    }
  }

  @Test
  void anAccountNoSignerHoldsIsRefusedWithNothingPaid() throws Exception {
    List<PayoutLine> lines = factory.payouts(Chain.ETH, "nokey", 2, BigInteger.ONE, BigInteger.TEN);
    post("no-key", stack.ethAccount(2), lines);
    Demo.awaitFinal(client, "no-key", lines.size(), Duration.ofMinutes(1));
    Map<String, List<PayoutResult>> history = ResultHistory.of(stack, lines);
    for (PayoutLine line : lines) {
      List<PayoutResult> h = history.get(line.id());
      PayoutResult last = h.get(h.size() - 1);
      assertThat(last.status()).isEqualTo(PayoutStatus.FAILED);
      assertThat(last.error()).contains("no signer of this consumer holds a key");
      assertThat(balance(line.to())).isZero();
    }
  }

  @Test
  void aConsumerConfiguredForAnotherChainThanItsNodeServesRefusesToStart() {
    Map<String, String> wrong = new HashMap<>(signing);
    wrong.put("TXGW_ETH_CHAIN_ID", "1");
    assertThatThrownBy(() -> stack.startConsumer("consumer-wrong-chain", wrong))
        .hasMessageContaining("serves chain id 31337")
        .hasMessageContaining("signs for chain id 1");
  }

  private static void post(String batchId, String source, List<PayoutLine> lines) throws Exception {
    assertThat(
            client
                .postBatch(
                    new io.txgw.common.validation.BatchSubmission(
                        batchId, Chain.ETH.name(), source, lines))
                .status())
        .isEqualTo(202);
  }

  private static BigInteger balance(String address) throws Exception {
    return new BigInteger(
        hardhat.rpc().call("eth_getBalance", address, "latest").asText().substring(2), 16);
  }

  private static BigInteger wei(String eth) {
    return new BigDecimal(eth).movePointRight(18).toBigIntegerExact();
  }
}
