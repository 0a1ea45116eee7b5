package io.txgw.consumer.sim;

import io.txgw.consumer.AccountGuard;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * ZooKeeper account leases as the consumer sees them: each process incarnation has a session; a
 * lease is held by one session; a session that expires (lost connection, frozen or dead process)
 * loses every lease it held, and its holder learns of it at its next check.
 */
final class SimLeases {
  private final Map<String, Integer> holders = new HashMap<>();
  private final Set<Integer> live = new HashSet<>();

  void open(int session) {
    live.add(session);
  }

  /** The session ends: its leases are free for others. */
  void expire(int session) {
    live.remove(session);
    holders.values().removeIf(h -> h == session);
  }

  AccountGuard guardFor(int session) {
    return new AccountGuard() {
      @Override
      public Lease acquire(String account) {
        if (!live.contains(session)) {
          return Lease.REFUSED;
        }
        Integer holder = holders.get(account);
        if (holder == null) {
          holders.put(account, session);
          return Lease.NEW;
        }
        return holder == session ? Lease.KEPT : Lease.REFUSED;
      }

      @Override
      public boolean holds(String account) {
        Integer holder = holders.get(account);
        return live.contains(session) && holder != null && holder == session;
      }

      @Override
      public void release(Set<String> accounts) {
        for (String a : accounts) {
          holders.remove(a, session);
        }
      }
    };
  }
}
