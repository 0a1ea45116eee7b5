package io.txgw.deploy.nodes;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import org.junit.jupiter.api.Test;

class DevAccountsTest {
  @Test
  void theAccountsAreDerivedAsAnvilAndHardhatDeriveThem() {
    assertThat(DevAccounts.key(0).getPrivateKey())
        .isEqualTo(
            new BigInteger("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", 16));
    assertThat(DevAccounts.address(0)).isEqualTo("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266");
    assertThat(DevAccounts.address(9)).isEqualTo("0xa0ee7a142d267c1f36714e4a8f75612f20a79720");
  }
}
