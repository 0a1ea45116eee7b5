package io.txgw.consumer;

import io.txgw.coordinator.AccountLeases;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Who may broadcast for a sending account: the holder of its lease. The loop acquires before it
 * prepares and checks before every broadcast.
 */
public interface AccountGuard {
  /** What {@link #acquire} got. */
  enum Lease {
    /** Held elsewhere, or ZooKeeper cannot be trusted now. */
    REFUSED,
    /** Held since before: nothing but this process sent for the account meanwhile. */
    KEPT,
    /** Newly taken: others may have sent for the account since this process last held it. */
    NEW;

    boolean granted() {
      return this != REFUSED;
    }
  }

  /** Takes (or keeps) the account's lease. */
  Lease acquire(String account) throws InterruptedException;

  /** True while the lease is held and trusted. */
  boolean holds(String account);

  void release(Set<String> accounts);

  /** Without ZooKeeper: the Kafka group generation and the pause detector are the only fences. */
  static AccountGuard unguarded() {
    return new AccountGuard() {
      @Override
      public Lease acquire(String account) {
        return Lease.KEPT;
      }

      @Override
      public boolean holds(String account) {
        return true;
      }

      @Override
      public void release(Set<String> accounts) {}
    };
  }

  /** Leases in ZooKeeper, waiting briefly for one another process is giving up. */
  static AccountGuard of(AccountLeases leases) {
    return new AccountGuard() {
      @Override
      public Lease acquire(String account) throws InterruptedException {
        boolean before = leases.isHeld(account);
        if (!leases.acquire(account, 2, TimeUnit.SECONDS)) {
          return Lease.REFUSED;
        }
        return before ? Lease.KEPT : Lease.NEW;
      }

      @Override
      public boolean holds(String account) {
        return leases.holds(account);
      }

      @Override
      public void release(Set<String> accounts) {
        leases.release(accounts);
      }
    };
  }
}
