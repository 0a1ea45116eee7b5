package io.txgw.common.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FailureCodeTest {
  @Test
  void theConsumersOwnWordingMapsToItsCodeAndANodesWordsToNodeRefused() {
    assertThat(FailureCode.of("not-permitted: client acme may not spend from ETH:0x1"))
        .isEqualTo("not-permitted");
    assertThat(FailureCode.of("invalid: amount outside what the gateway accepts"))
        .isEqualTo("invalid-payout");
    assertThat(FailureCode.of("insufficient funds: the account holds 12 wei"))
        .isEqualTo("insufficient-funds");
    assertThat(FailureCode.of("transaction 0xab reverted in the chain")).isEqualTo("reverted");
    assertThat(FailureCode.of("expired: its transaction left the chain")).isEqualTo("expired");
    assertThat(FailureCode.of("unknown source wallet 'x'; this node pays from 'y'"))
        .isEqualTo("unknown-source");
    // A node's words, whatever they say, are never passed on.
    assertThat(FailureCode.of("insufficient funds for gas * price + value: balance 5"))
        .isEqualTo("node-refused");
    assertThat(FailureCode.of("unknown account 0xf39f")).isEqualTo("node-refused");
    assertThat(FailureCode.of(null)).isNull();
  }
}
