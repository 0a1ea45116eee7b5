package io.txgw.cli;

import io.txgw.common.kafka.KafkaAcls;
import io.txgw.common.kafka.KafkaConnection;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.acl.AclBinding;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Prints the Kafka ACLs txgw's principals need, and with {@code --apply} creates them. Applying
 * takes a principal allowed to alter ACLs (the broker admin), given as for every command by
 * TXGW_KAFKA_SECURITY_PROTOCOL, TXGW_KAFKA_USERNAME and TXGW_KAFKA_PASSWORD.
 */
@Command(
    name = "kafka-acls",
    mixinStandardHelpOptions = true,
    description =
        "Print the Kafka ACLs of the gateway, consumer, operator and load generator principals;"
            + " --apply creates them (run it as the broker admin).")
final class KafkaAclsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--gateway", defaultValue = "User:gateway", description = "gateway principal")
  String gateway;

  @Option(names = "--consumer", defaultValue = "User:consumer", description = "consumer principal")
  String consumer;

  @Option(names = "--operator", defaultValue = "User:operator", description = "CLI principal")
  String operator;

  @Option(
      names = "--loadgen",
      defaultValue = "User:loadgen",
      description = "load generator principal (its results check)")
  String loadgen;

  @Option(
      names = "--gateway-id-prefix",
      defaultValue = "gateway",
      description = "what every TXGW_GATEWAY_ID starts with")
  String gatewayIdPrefix;

  @Option(
      names = "--consumer-id-prefix",
      defaultValue = "consumer",
      description = "what every TXGW_CONSUMER_ID starts with")
  String consumerIdPrefix;

  @Option(names = "--group", defaultValue = "txgw-payouts", description = "TXGW_CONSUMER_GROUP")
  String group;

  @Option(names = "--apply", description = "create the ACLs instead of only printing them")
  boolean apply;

  @Option(
      names = {"-b", "--bootstrap"},
      description = "Kafka bootstrap servers (default: $TXGW_KAFKA_BOOTSTRAP or 127.0.0.1:9092)")
  String bootstrap;

  @Option(names = "--timeout", defaultValue = "30", description = "seconds to wait for Kafka")
  int timeoutSeconds;

  @Override
  public Integer call() throws Exception {
    List<AclBinding> acls =
        KafkaAcls.bindings(
            new KafkaAcls.Principals(
                gateway, consumer, operator, loadgen, gatewayIdPrefix, consumerIdPrefix, group));
    PrintWriter out = spec.commandLine().getOut();
    acls.forEach(b -> out.println(KafkaAcls.describe(b)));
    if (!apply) {
      return 0;
    }
    KafkaConnection kafka = CliKafka.connection(bootstrap, System.getenv());
    int timeoutMs = timeoutSeconds * 1_000;
    try (Admin admin =
        Admin.create(
            kafka.clientProperties(
                Map.of(
                    AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs,
                    AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs)))) {
      admin.createAcls(acls).all().get(timeoutSeconds, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new Txgw.Unreachable(
          "cannot reach Kafka at " + kafka + " within " + timeoutSeconds + " s");
    } catch (ExecutionException e) {
      spec.commandLine().getErr().println("error: ACLs not created: " + e.getCause());
      return Txgw.REFUSED;
    }
    out.printf("created %d ACLs at %s%n", acls.size(), kafka);
    return 0;
  }
}
