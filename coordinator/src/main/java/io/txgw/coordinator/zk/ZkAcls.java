package io.txgw.coordinator.zk;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.ACL;

/**
 * The znodes under {@code /txgw} whose ACL is not the one txgw's clients give: created before an
 * identity was configured, or by someone else while the tree was open. Such a znode keeps its ACL
 * when txgw later writes to it, so a registry entry created world-open stays world-writable until
 * its ACL is set again ({@code txgw zk-acl --apply}).
 */
public final class ZkAcls {
  public static final String ROOT = "/txgw";

  private ZkAcls() {}

  /** One znode and its ACL as found. */
  public record Found(String path, List<ACL> acl) {}

  /**
   * Every znode under {@link #ROOT} (itself included) whose ACL differs from {@code expected},
   * children of {@code skipChildrenOf} not visited, at most {@code limit} of them.
   */
  public static List<Found> differing(
      CuratorFramework client, List<ACL> expected, Set<String> skipChildrenOf, int limit)
      throws Exception {
    Set<ACL> want = new HashSet<>(expected);
    List<Found> found = new ArrayList<>();
    Deque<String> todo = new ArrayDeque<>(List.of(ROOT));
    while (!todo.isEmpty() && found.size() < limit) {
      String path = todo.pop();
      List<ACL> acl;
      List<String> children;
      try {
        acl = client.getACL().forPath(path);
        children = skipChildrenOf.contains(path) ? List.of() : client.getChildren().forPath(path);
      } catch (KeeperException.NoNodeException e) {
        // Gone meanwhile (an ephemeral member, a released lease): nothing to check.
        continue;
      } catch (KeeperException.NoAuthException e) {
        // Not even readable by this identity: someone else's.
        found.add(new Found(path, List.of()));
        continue;
      }
      if (!new HashSet<>(acl).equals(want)) {
        found.add(new Found(path, acl));
      }
      for (String child : children) {
        todo.push(path + "/" + child);
      }
    }
    return found;
  }

  /** An ACL as text, digest ids by user name only (the rest is a password hash). */
  public static String describe(List<ACL> acl) {
    if (acl.isEmpty()) {
      return "(unreadable)";
    }
    List<String> entries = new ArrayList<>();
    for (ACL a : acl) {
      String id = a.getId().getId();
      if (a.getId().getScheme().equals("digest") && id.contains(":")) {
        id = id.substring(0, id.indexOf(':'));
      }
      entries.add(a.getId().getScheme() + ":" + id + "=" + perms(a.getPerms()));
    }
    return String.join(",", entries);
  }

  private static String perms(int perms) {
    StringBuilder s = new StringBuilder();
    String letters = "rwcda";
    for (int i = 0; i < letters.length(); i++) {
      if ((perms & (1 << i)) != 0) {
        s.append(letters.charAt(i));
      }
    }
    return s.toString();
  }

  /**
   * Sets {@code acl} on every znode under {@link #ROOT} whose ACL differs; returns the paths it
   * could not set (no ADMIN permission on them for this identity).
   */
  public static List<String> apply(CuratorFramework client, List<ACL> acl) throws Exception {
    List<String> refused = new ArrayList<>();
    for (Found f : differing(client, acl, Set.of(), Integer.MAX_VALUE)) {
      try {
        client.setACL().withACL(acl).forPath(f.path());
      } catch (KeeperException.NoAuthException e) {
        refused.add(f.path());
      } catch (KeeperException.NoNodeException e) {
        // Gone meanwhile: nothing left to protect.
      }
    }
    return refused;
  }
}
