package io.txgw.common.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class AssetRegistryTest {
  @Test
  void readsTokensPerChainWithTheirContractDecimalsAndMaximum() {
    AssetRegistry r =
        AssetRegistry.parse(
            "ETH:USDC=0xA0b86991c6218b36c1d19d4a2e9eb0ce3606eB48:6:1000000,\n"
                + " eth:dai=0x6B175474E89094C44Da98b954EedeAC495271d0F:18:50000.5");
    assertThat(r.find(Chain.ETH, "usdc").asset())
        .isEqualTo(new Asset("USDC", 6, "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"));
    assertThat(r.find(Chain.ETH, "DAI").maxPerPayout()).isEqualTo(Amount.parse("50000.5"));
    assertThat(r.find(Chain.BTC, "USDC")).isNull();
    assertThat(r.symbols(Chain.ETH)).containsExactly("DAI", "ETH", "USDC");
    assertThat(AssetRegistry.parse("").symbols(Chain.ETH)).containsExactly("ETH");
  }

  @Test
  void namesEveryBadEntry() {
    assertThatThrownBy(
            () ->
                AssetRegistry.parse(
                    "BTC:X=0xA0b86991c6218b36c1d19d4a2e9eb0ce3606eB48:6:1,"
                        + "ETH:ETH=0xA0b86991c6218b36c1d19d4a2e9eb0ce3606eB48:6:1,"
                        + "ETH:T=0x12:6:1,"
                        + "ETH:U=0xA0b86991c6218b36c1d19d4a2e9eb0ce3606eB48:6:0.0000001,"
                        + "ETH:V"))
        .hasMessageContaining("only ETH has token assets")
        .hasMessageContaining("native coin's symbol")
        .hasMessageContaining("40 hex digits")
        .hasMessageContaining("a positive maximum within them")
        .hasMessageContaining("expected CHAIN:SYMBOL=contract:decimals:maxPerPayout");
  }
}
