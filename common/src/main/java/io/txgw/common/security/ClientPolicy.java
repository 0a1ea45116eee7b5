package io.txgw.common.security;

import io.txgw.common.model.Address;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What one client may do with money: the sources it may spend from, the most one batch may move per
 * asset, and the recipients it may not (or, with an allow list, only may) pay.
 *
 * @param spend the sending accounts, as {@code CHAIN:source} in the validator's canonical form
 * @param maxBatchTotal per asset symbol, the most one batch may pay in total; an asset missing here
 *     has no batch cap beyond the per-payout maximum and the batch size
 * @param maxDailyTotal per asset symbol, the most this client's batches may pay in any 24 hours,
 *     across gateway instances
 * @param deny recipients never paid for this client, canonical form
 * @param allow when not null, the only recipients paid for this client
 * @param payContracts whether a native transfer may go to a contract; off, a recipient with code is
 *     refused before anything is signed (a contract that cannot handle the coin keeps it)
 * @param approveAbove per asset symbol, the batch total above which a batch waits for another
 *     person of the client to approve it before anything of it is written to {@code sendto}
 */
public record ClientPolicy(
    String client,
    Set<String> spend,
    Map<String, Amount> maxBatchTotal,
    Map<String, Amount> maxDailyTotal,
    Set<String> deny,
    Set<String> allow,
    boolean payContracts,
    Map<String, Amount> approveAbove) {
  public ClientPolicy {
    approveAbove = approveAbove == null ? Map.of() : Map.copyOf(approveAbove);
    spend = Set.copyOf(spend);
    maxBatchTotal = Map.copyOf(maxBatchTotal);
    maxDailyTotal = Map.copyOf(maxDailyTotal);
    deny = Set.copyOf(deny);
    allow = allow == null ? null : Set.copyOf(allow);
  }

  /** A policy under which no batch waits for approval. */
  public ClientPolicy(
      String client,
      Set<String> spend,
      Map<String, Amount> maxBatchTotal,
      Map<String, Amount> maxDailyTotal,
      Set<String> deny,
      Set<String> allow,
      boolean payContracts) {
    this(client, spend, maxBatchTotal, maxDailyTotal, deny, allow, payContracts, Map.of());
  }

  /**
   * The total above which a batch of {@code asset} paying {@code total} waits for approval, if it
   * does.
   */
  public Optional<Amount> approvalThreshold(String asset, Amount total) {
    Amount above = approveAbove.get(asset);
    return above != null && total.compareTo(above) > 0 ? Optional.of(above) : Optional.empty();
  }

  /** The right to spend from {@code source} on {@code chain}, written as the policy names it. */
  public static String right(Chain chain, String source) {
    return chain.name() + ":" + source;
  }

  /** Whether the client may pay the chain's native coin from {@code source}. */
  public boolean maySpend(Chain chain, String source) {
    return spend.contains(right(chain, source));
  }

  /**
   * Whether the client may pay {@code asset} from {@code source}: its native coin with the right
   * {@code CHAIN:source}, a token only with {@code CHAIN:source:SYMBOL} (a right to a source's coin
   * is none to the tokens it holds).
   */
  public boolean maySpend(Chain chain, String source, io.txgw.common.model.Asset asset) {
    return asset.isNative()
        ? maySpend(chain, source)
        : spend.contains(right(chain, source) + ":" + asset.symbol());
  }

  /** The right that names {@code asset} from {@code source}. */
  public static String right(Chain chain, String source, io.txgw.common.model.Asset asset) {
    return asset.isNative() ? right(chain, source) : right(chain, source) + ":" + asset.symbol();
  }

  /** Why this client may not pay {@code to}, if it may not. */
  public Optional<String> recipientRefusal(Address to) {
    if (deny.contains(to.value())) {
      return Optional.of("recipient is on this client's deny list");
    }
    if (allow != null && !allow.contains(to.value())) {
      return Optional.of("recipient is not on this client's allow list");
    }
    return Optional.empty();
  }
}
