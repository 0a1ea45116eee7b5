package io.txgw.coordinator;

import io.txgw.common.budget.BudgetSnapshot;
import io.txgw.coordinator.zk.ZkAcls;
import io.txgw.coordinator.zk.ZkClients;
import java.io.Closeable;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.nodes.GroupMember;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.BoundedExponentialBackoffRetry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A process's live membership in the txgw group in ZooKeeper: an ephemeral node under {@code
 * /txgw/members/<kind>} that disappears when the process or its session dies, so operators and the
 * budget leader see exactly the live consumers. Lifecycle: LATENT, STARTED, CLOSED.
 */
public final class Membership implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(Membership.class);
  public static final String ROOT = "/txgw/members";

  /** The consumers' group: where {@link BudgetSnapshot#CONSUMERS} reads their reports. */
  public static final String CONSUMERS = "consumers";

  private enum State {
    LATENT,
    STARTED,
    CLOSED
  }

  private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
  private final CuratorFramework client;
  private final GroupMember member;
  private final String id;
  private final ZkClients zooKeeper;

  /**
   * @param kind the group, e.g. {@code consumers}
   * @param payload what the member tells others about itself (host, partitions...)
   */
  public Membership(String connectString, String kind, String id, String payload) {
    this(ZkClients.open(connectString), kind, id, payload);
  }

  /**
   * @param zooKeeper the ensemble and the identity the member's session authenticates as
   * @param kind the group, e.g. {@code consumers}
   * @param payload what the member tells others about itself (host, partitions...)
   */
  public Membership(ZkClients zooKeeper, String kind, String id, String payload) {
    this.id = id;
    this.zooKeeper = zooKeeper;
    this.client =
        zooKeeper
            .builder()
            // As short as the Kafka group's session: a dead consumer's account leases must be
            // free by the time its partitions have moved.
            .sessionTimeoutMs(6_000)
            .connectionTimeoutMs(5_000)
            // Bounded: the plain exponential policy warns each time its sleep reaches the cap.
            .retryPolicy(new BoundedExponentialBackoffRetry(200, 5_000, 10))
            .build();
    this.member =
        new GroupMember(client, ROOT + "/" + kind, id, payload.getBytes(StandardCharsets.UTF_8));
  }

  /** Connects and registers; fails if ZooKeeper cannot be reached within the timeout. */
  public void start(long timeout, TimeUnit unit) throws InterruptedException {
    if (!state.compareAndSet(State.LATENT, State.STARTED)) {
      throw new IllegalStateException("membership already started or closed");
    }
    client
        .getConnectionStateListenable()
        .addListener(
            (c, newState) -> {
              if (newState == ConnectionState.SUSPENDED || newState == ConnectionState.LOST) {
                log.warn("member {}: ZooKeeper connection {}", id, newState);
              } else if (newState == ConnectionState.RECONNECTED) {
                log.info("member {}: ZooKeeper connection restored", id);
              }
            });
    client.start();
    if (!client.blockUntilConnected((int) unit.toMillis(timeout), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException(
          "cannot reach ZooKeeper within " + unit.toMillis(timeout) + " ms");
    }
    member.start();
    checkAcls();
  }

  /**
   * Says loudly when part of the tree is not protected by this identity's ACL: znodes keep the ACL
   * they were created with, so a registry made before the identity was set stays open to anyone.
   */
  private void checkAcls() throws InterruptedException {
    if (!zooKeeper.authenticated()) {
      return;
    }
    try {
      List<ZkAcls.Found> open =
          ZkAcls.differing(client, zooKeeper.acl(), Set.of(AccountLeases.ROOT, ROOT), 100);
      if (!open.isEmpty()) {
        log.error(
            "{}{} znode(s) under {} carry another ACL than this identity's, e.g. {} ({}): made"
                + " before {} was set, or by someone else; run 'txgw zk-acl --apply' as this"
                + " identity",
            open.size(),
            open.size() == 100 ? "+" : "",
            ZkAcls.ROOT,
            open.get(0).path(),
            ZkAcls.describe(open.get(0).acl()),
            ZkClients.AUTH.name());
      }
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      log.warn("member {}: ZooKeeper ACLs not checked: {}", id, e.toString());
    }
  }

  /** The live members of this group with their payloads, as last seen. */
  public Map<String, String> members() {
    return member.getCurrentMembers().entrySet().stream()
        .collect(
            Collectors.toMap(
                Map.Entry::getKey, e -> new String(e.getValue(), StandardCharsets.UTF_8)));
  }

  /** Replaces what this member tells the others; no-op once closed. */
  public void update(String payload) {
    if (state.get() == State.STARTED) {
      member.setThisData(payload.getBytes(StandardCharsets.UTF_8));
    }
  }

  public String id() {
    return id;
  }

  public CuratorFramework client() {
    return client;
  }

  @Override
  public void close() {
    if (state.getAndSet(State.CLOSED) == State.STARTED) {
      member.close();
    }
    client.close();
  }
}
