package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.json.Json;
import io.txgw.common.model.Chain;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.deploy.infra.Chromium;
import io.txgw.deploy.nodes.NodePackages;
import io.txgw.loadgen.PayoutFactory;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The dashboard in a real browser: headless Chromium, driven by playwright-core, signs in at {@code
 * /ui}, posts a batch from the page, and sees its progress bar reach 100% while the stack pays it.
 */
class DashboardBrowserIT {
  private static final Path OUT = Path.of("target", "dashboard");
  private static LocalStack stack;
  private static Path chromium;

  @BeforeAll
  static void start() throws Exception {
    Files.createDirectories(OUT);
    chromium = Chromium.ensureInstalled(OUT);
    stack = LocalStack.start(LocalStack.Options.defaults());
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void aBatchPostedFromTheDashboardShowsItsProgressBarReachAHundredPercent() throws Exception {
    PayoutFactory factory = new PayoutFactory(new AddressCodec(BitcoinNetwork.BCOIN_REGTEST), 3);
    BatchSubmission batch =
        new BatchSubmission(
            "from-the-ui",
            "ETH",
            stack.ethSource(),
            factory.payouts(
                Chain.ETH, "ui", 50, BigInteger.ONE, new BigInteger("1000000000000000000")));
    Path batchFile = OUT.resolve("batch.json");
    Files.write(batchFile, Json.mapper().writeValueAsBytes(batch));
    Path screenshot = OUT.resolve("dashboard.png").toAbsolutePath();
    Files.deleteIfExists(screenshot);

    NodePackages packages = NodePackages.locate().ensureInstalled();
    ProcessBuilder builder =
        new ProcessBuilder(
                "node",
                packages.dir().resolve("browser/dashboard.mjs").toString(),
                stack.gatewayUrl(),
                batchFile.toAbsolutePath().toString(),
                screenshot.toString(),
                "90")
            .redirectErrorStream(true)
            .redirectOutput(OUT.resolve("browser.log").toFile());
    builder.environment().put("TXGW_UI_API_KEY", stack.apiKey().reveal());
    builder.environment().put("TXGW_CHROMIUM", chromium.toString());
    Process browser = builder.start();
    browser.getOutputStream().close();
    try {
      assertThat(browser.waitFor(150, TimeUnit.SECONDS)).as("browser test finished").isTrue();
    } finally {
      browser.destroyForcibly();
    }
    String log = Files.readString(OUT.resolve("browser.log"));
    assertThat(browser.exitValue()).as(log).isZero();
    JsonNode result = Json.mapper().readTree(lastLine(log));
    assertThat(result.path("posted").asInt()).isEqualTo(202);
    assertThat(result.path("percent").asInt()).isEqualTo(100);
    assertThat(result.path("errors")).isEmpty();
    assertThat(pngBytes(screenshot)).isGreaterThan(10_000);
  }

  private static String lastLine(String text) {
    String[] lines = text.strip().split("\n");
    return lines[lines.length - 1];
  }

  private static long pngBytes(Path file) throws IOException {
    byte[] head = Files.readAllBytes(file);
    assertThat(head).startsWith((byte) 0x89, (byte) 'P', (byte) 'N', (byte) 'G');
    return head.length;
  }
}
