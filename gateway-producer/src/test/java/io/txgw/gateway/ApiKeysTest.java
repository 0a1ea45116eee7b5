package io.txgw.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.txgw.common.config.Secret;
import org.junit.jupiter.api.Test;

class ApiKeysTest {
  @Test
  void aKeyNamesItsClientItsPersonAndItsScopes() {
    ApiKeys keys =
        ApiKeys.parse(
            new Secret(
                "acme/alice:pay+read=alice-key-0123456789\n"
                    + "acme/bob:approve+read=bob-key-0123456789\n"
                    + "acme=robot-key-0123456789"));
    ApiKeys.Caller alice = keys.callerFor("alice-key-0123456789").orElseThrow();
    assertThat(alice.client()).isEqualTo("acme");
    assertThat(alice.person()).isEqualTo("alice");
    assertThat(alice.may(ApiKeys.Scope.APPROVE)).isFalse();
    ApiKeys.Caller bob = keys.callerFor("bob-key-0123456789").orElseThrow();
    assertThat(bob.person()).isEqualTo("bob");
    assertThat(bob.may(ApiKeys.Scope.APPROVE)).isTrue();
    assertThat(bob.may(ApiKeys.Scope.PAY)).isFalse();
    ApiKeys.Caller robot = keys.callerFor("robot-key-0123456789").orElseThrow();
    assertThat(robot.person()).isNull();
    assertThat(robot.may(ApiKeys.Scope.PAY)).isTrue();
  }

  @Test
  void aKeyThatMayApproveMustNameItsPerson() {
    assertThatThrownBy(() -> ApiKeys.parse(new Secret("acme:approve=some-key-0123456789")))
        .hasMessageContaining("entry 1")
        .hasMessageContaining("must name its person")
        .hasMessageNotContaining("some-key");
  }

  @Test
  void aPersonNameIsShortAndPlain() {
    assertThatThrownBy(() -> ApiKeys.parse(new Secret("acme/a b:pay=some-key-0123456789")))
        .hasMessageContaining("a person is");
    assertThatThrownBy(() -> ApiKeys.parse(new Secret("acme/:pay=some-key-0123456789")))
        .hasMessageContaining("a person is");
  }
}
