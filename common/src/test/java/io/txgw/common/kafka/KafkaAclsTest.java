package io.txgw.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;

class KafkaAclsTest {
  private static final List<AclBinding> ACLS = KafkaAcls.bindings(KafkaAcls.Principals.defaults());

  /** Who may do {@code op} on a topic of that name, by a literal ACL or a prefix that covers it. */
  private static Set<String> allowed(AclOperation op, ResourceType type, String name) {
    return ACLS.stream()
        .filter(b -> b.pattern().resourceType() == type)
        .filter(
            b ->
                b.pattern().patternType() == PatternType.LITERAL
                    ? b.pattern().name().equals(name)
                    : name.startsWith(b.pattern().name()))
        .filter(b -> b.entry().operation() == op || b.entry().operation() == AclOperation.ALL)
        .map(b -> b.entry().principal())
        .collect(Collectors.toSet());
  }

  @Test
  void onlyTheGatewayWritesSendtoAndBatches() {
    assertThat(allowed(AclOperation.WRITE, ResourceType.TOPIC, Topics.SENDTO))
        .containsExactly("User:gateway");
    assertThat(allowed(AclOperation.WRITE, ResourceType.TOPIC, Topics.BATCHES))
        .containsExactly("User:gateway");
  }

  @Test
  void onlyTheConsumerWritesResultsTheJournalAndDeadLetters() {
    for (String topic : List.of(Topics.RESULTS, Topics.JOURNAL, Topics.SENDTO_DEAD_LETTER)) {
      assertThat(allowed(AclOperation.WRITE, ResourceType.TOPIC, topic))
          .as(topic)
          .containsExactly("User:consumer");
    }
  }

  @Test
  void eachTakesOnlyItsOwnTransactionalIdsAndOnlyTheConsumerCommitsInThePayoutGroup() {
    assertThat(allowed(AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, "txgw-gateway-1-0"))
        .containsExactly("User:gateway");
    assertThat(allowed(AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, "txgw-consumer-1"))
        .containsExactly("User:consumer");
    assertThat(allowed(AclOperation.READ, ResourceType.GROUP, "txgw-payouts"))
        .containsExactly("User:consumer");
  }

  @Test
  void nothingIsDeniedNothingIsGrantedOnTheClusterAndNoWildcardResource() {
    assertThat(ACLS).allMatch(b -> b.entry().permissionType() == AclPermissionType.ALLOW);
    assertThat(ACLS).noneMatch(b -> b.pattern().resourceType() == ResourceType.CLUSTER);
    assertThat(ACLS).noneMatch(b -> b.pattern().name().equals("*"));
    assertThat(ACLS).noneMatch(b -> b.entry().principal().equals("User:*"));
  }

  @Test
  void overlappingInstanceIdPrefixesAreRefused() {
    assertThatThrownBy(
            () ->
                new KafkaAcls.Principals(
                    "User:g", "User:c", "User:o", "User:l", "node", "node-c", "txgw-payouts"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("overlap");
  }
}
