package io.txgw.deploy.infra;

import io.txgw.common.config.Secret;
import io.txgw.common.kafka.KafkaAcls;
import io.txgw.common.kafka.Topics;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;

/**
 * A local broker as production should run one: every client logs in with its own SCRAM user and may
 * do only what {@link KafkaAcls} grants it. Topics are created by the admin before any txgw process
 * starts, since no txgw principal may create them.
 */
public final class ScramKafka {
  public static final String GATEWAY = "gateway";
  public static final String CONSUMER = "consumer";
  public static final String OPERATOR = "operator";
  public static final String LOADGEN = "loadgen";

  private ScramKafka() {}

  /**
   * Starts the broker with a random password per principal, creates the topics with {@code
   * partitions} partitions and applies {@link KafkaAcls#bindings} for the default principals.
   */
  public static EmbeddedKafka start(Path dataDir, int partitions) throws InterruptedException {
    Map<String, Secret> users = new LinkedHashMap<>();
    for (String user : new String[] {EmbeddedKafka.ADMIN, GATEWAY, CONSUMER, OPERATOR, LOADGEN}) {
      users.put(user, randomPassword());
    }
    EmbeddedKafka kafka = EmbeddedKafka.withScram(dataDir, users);
    try (Admin admin = Admin.create(kafka.connection(EmbeddedKafka.ADMIN).clientProperties())) {
      Topics.ensure(admin, partitions, io.txgw.common.kafka.TopicSettings.ONE_BROKER);
      List<AclBinding> acls = KafkaAcls.bindings(KafkaAcls.Principals.defaults());
      admin.createAcls(acls).all().get(30, TimeUnit.SECONDS);
      awaitAuthorizer(admin, acls.size());
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      kafka.close();
      throw new IllegalStateException("cannot lay out the SCRAM broker: " + e, e);
    }
    return kafka;
  }

  /**
   * The controller has the ACLs once createAcls returns; the broker's authorizer learns them from
   * the metadata log a moment later, and a client started before would be denied.
   */
  private static void awaitAuthorizer(Admin admin, int count)
      throws ExecutionException, TimeoutException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (admin.describeAcls(AclBindingFilter.ANY).values().get(10, TimeUnit.SECONDS).size()
        < count) {
      if (System.nanoTime() > deadline) {
        throw new TimeoutException("the broker did not apply " + count + " ACLs within 30 s");
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
  }

  private static Secret randomPassword() {
    byte[] bytes = new byte[18];
    new SecureRandom().nextBytes(bytes);
    return new Secret(HexFormat.of().formatHex(bytes));
  }
}
