package io.txgw.loadgen;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.model.Chain;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LoadGenMainTest {
  private String err;

  private int run(String... args) {
    StringWriter e = new StringWriter();
    int code = LoadGenMain.run(new PrintWriter(new StringWriter()), new PrintWriter(e, true), args);
    err = e.toString();
    return code;
  }

  @Test
  void aBoxIndexOutsideTheRunIsAUsageError() {
    assertThat(run("--box-index", "5", "--boxes", "5", "--source", "x", "--api-key-file", "/nope"))
        .isEqualTo(2);
    assertThat(err).contains("box-index");
  }

  @Test
  void anUnreachableGatewayIsSaidClearlyAndExitsNonZero(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    java.nio.file.Path key = dir.resolve("key");
    java.nio.file.Files.writeString(key, "k".repeat(20));
    assertThat(
            run(
                "--box-index",
                "0",
                "--source",
                "0xabc",
                "--gateway",
                "http://127.0.0.1:" + port,
                "--api-key-file",
                key.toString()))
        .isEqualTo(3);
    assertThat(err).contains("cannot reach the gateway at http://127.0.0.1:" + port);
  }

  @Test
  void boxesAndWorkersNeverShareARecipientAndThePlanCanBeReplayedForTheCheck() {
    AddressCodec codec = new AddressCodec(BitcoinNetwork.BCOIN_REGTEST);
    Set<String> recipients = new HashSet<>();
    int total = 0;
    for (int box = 0; box < 3; box++) {
      LoadRun.Plan plan = LoadRun.Plan.of("r", box, 3, 4, 5, 2, Chain.ETH, "0xabc");
      var batches = LoadRun.planned(plan, codec);
      assertThat(batches).hasSize(20);
      assertThat(LoadRun.planned(plan, codec)).isEqualTo(batches);
      for (var lines : batches.values()) {
        lines.forEach(l -> recipients.add(l.to()));
        total += lines.size();
      }
    }
    assertThat(recipients).hasSize(total);
  }
}
