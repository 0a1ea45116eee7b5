package io.txgw.gateway.events;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.config.Secret;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class WebhooksTest {
  private static final String SECRET_A = "a".repeat(32);
  private static final String SECRET_B = "b".repeat(40);

  private static Webhooks parse(String urls, String secrets, List<String> problems) {
    return Webhooks.parse(
        urls, new Secret(secrets), Duration.ofSeconds(10), Duration.ofMinutes(5), problems);
  }

  @Test
  void readsOneUrlAndItsSecretsPerClient() {
    List<String> problems = new ArrayList<>();
    Webhooks hooks =
        parse(
            "acme=https://hooks.acme.example/txgw?token=x, beta=http://127.0.0.1:9000/h",
            "acme=" + SECRET_A + "\nacme=" + SECRET_B + ",beta=" + SECRET_B,
            problems);
    assertThat(problems).isEmpty();
    assertThat(hooks.targets()).containsOnlyKeys("acme", "beta");
    assertThat(hooks.targets().get("acme").secrets()).hasSize(2);
    // Logs and the delivery log show where, never the path or query that may hold a token.
    assertThat(hooks.targets().get("acme").origin()).isEqualTo("https://hooks.acme.example");
  }

  @Test
  void noWebhooksIsNoProblem() {
    List<String> problems = new ArrayList<>();
    assertThat(parse("", "", problems).isEmpty()).isTrue();
    assertThat(problems).isEmpty();
  }

  @Test
  void eachMisconfiguredClientIsNamedAndNoSecretIsRepeated() {
    List<String> problems = new ArrayList<>();
    Webhooks hooks =
        parse(
            "plain=http://hooks.example/x,nosecret=https://a.example,"
                + "user=https://me:pw@a.example,ftp=ftp://a.example,twice=https://a.example,"
                + "twice=https://b.example",
            "short=tooshort-secret,orphan="
                + SECRET_A
                + ",plain="
                + SECRET_A
                + ",twice="
                + SECRET_A
                + ",user="
                + SECRET_A
                + ",ftp="
                + SECRET_A,
            problems);
    assertThat(hooks.targets()).containsOnlyKeys("twice");
    assertThat(problems)
        .anyMatch(p -> p.contains("plain") && p.contains("plain http to another machine"))
        .anyMatch(p -> p.contains("nosecret") && p.contains("no secret"))
        .anyMatch(p -> p.contains("user") && p.contains("user name"))
        .anyMatch(p -> p.contains("ftp") && p.contains("not an http(s) URL"))
        .anyMatch(p -> p.contains("twice") && p.contains("more than one URL"))
        .anyMatch(p -> p.contains("short") && p.contains("shorter than 32"))
        .anyMatch(p -> p.contains("orphan") && p.contains("no webhook"));
    assertThat(String.join(" ", problems)).doesNotContain("tooshort-secret", SECRET_A);
  }

  @Test
  void threeSecretsForOneClientAreRefused() {
    List<String> problems = new ArrayList<>();
    parse(
        "acme=https://a.example",
        "acme=" + SECRET_A + ",acme=" + SECRET_B + ",acme=" + "c".repeat(32),
        problems);
    assertThat(problems).singleElement().asString().contains("more than 2 secrets");
  }
}
