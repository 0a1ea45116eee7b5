package io.txgw.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

class KafkaAclsCommandTest {
  @Test
  void printsOneLinePerAclNamingTheGivenPrincipalsWithoutTouchingKafka() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        Txgw.run(
            new PrintWriter(out, true),
            new PrintWriter(err, true),
            "kafka-acls",
            "--gateway",
            "User:gw-prod",
            "--consumer-id-prefix",
            "payer");
    assertThat(code).as(err.toString()).isZero();
    List<String> lines = out.toString().lines().map(l -> l.replaceAll(" +", " ")).toList();
    assertThat(lines)
        .contains(
            "User:gw-prod WRITE TOPIC sendto",
            "User:consumer WRITE TOPIC results",
            "User:consumer WRITE TRANSACTIONAL_ID txgw-payer*",
            "User:gw-prod WRITE TRANSACTIONAL_ID txgw-gateway*");
    assertThat(lines)
        .filteredOn(l -> l.endsWith("TOPIC sendto") && l.contains(" WRITE "))
        .hasSize(1);
  }
}
