package io.txgw.deploy.contracts;

import io.txgw.consumer.rpc.RpcException;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The operator's contract commands: deploy the multi-send contract (and record its address), let it
 * move an account's token, deploy the test token for a development chain. Transactions are signed
 * as the consumer signs them, from the same environment ({@code TXGW_ETH_RPC_URL}, {@code
 * TXGW_ETH_CHAIN_ID}, the keystore, remote signer or node), and each waits for its receipt.
 *
 * <p>Send from an account no consumer is paying from at the same moment: the nonce is read from the
 * node, and a consumer signing at it too would see one of the two refused.
 */
@Command(
    name = "txgw-contracts",
    mixinStandardHelpOptions = true,
    subcommands = {
      ContractsMain.DeployMultiSend.class,
      ContractsMain.Approve.class,
      ContractsMain.DeployTestToken.class
    },
    description = "Deploys and approves txgw's Ethereum contracts.")
public final class ContractsMain implements Callable<Integer> {
  public static void main(String[] args) {
    System.exit(new CommandLine(new ContractsMain()).execute(args));
  }

  @Override
  public Integer call() {
    new CommandLine(this).usage(System.out);
    return 2;
  }

  abstract static class Sending implements Callable<Integer> {
    @Option(names = "--from", required = true, description = "the account that signs and pays")
    String from;

    @Option(names = "--record", description = "a file the printed line is written to as well")
    Path record;

    ContractDeployer deployer() throws RpcException, InterruptedException {
      return ContractDeployer.of(System.getenv(), from);
    }

    void print(String line) throws IOException {
      System.out.println(line);
      if (record != null) {
        Files.writeString(record, line + System.lineSeparator());
      }
    }
  }

  @Command(
      name = "deploy",
      mixinStandardHelpOptions = true,
      description =
          "Deploys the multi-send contract and prints TXGW_ETH_MULTISEND=<address> for the"
              + " consumers' environment.")
  static final class DeployMultiSend extends Sending {
    @Override
    public Integer call() throws Exception {
      print("TXGW_ETH_MULTISEND=" + deployer().deployMultiSend());
      return 0;
    }
  }

  @Command(
      name = "approve",
      mixinStandardHelpOptions = true,
      description =
          "Lets the multi-send contract move the account's token without limit: token payouts"
              + " of the account are then paid many to one transaction.")
  static final class Approve extends Sending {
    @Option(names = "--token", required = true, description = "the token's contract")
    String token;

    @Option(names = "--spender", required = true, description = "the multi-send contract")
    String spender;

    @Override
    public Integer call() throws Exception {
      print("approved in " + deployer().approve(token, spender));
      return 0;
    }
  }

  @Command(
      name = "test-token",
      mixinStandardHelpOptions = true,
      description =
          "Development chains only: deploys TxgwTestToken (TUSD, 6 decimals), its supply minted"
              + " to --from, and prints its address.")
  static final class DeployTestToken extends Sending {
    @Option(names = "--supply", defaultValue = "1000000000", description = "whole tokens")
    BigInteger supply;

    @Override
    public Integer call() throws Exception {
      print("TXGW_TEST_TOKEN=" + deployer().deployTestToken(supply));
      return 0;
    }
  }
}
