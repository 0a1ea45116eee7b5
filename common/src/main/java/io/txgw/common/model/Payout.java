package io.txgw.common.model;

import java.time.Instant;
import java.util.Objects;

/**
 * One payment instruction as it travels on {@code sendto}. {@code id} is unique per client forever;
 * {@code source} is the sending account (an Ethereum address, a Bitcoin wallet name).
 */
public record Payout(
    String id,
    String batchId,
    String clientId,
    Chain chain,
    Asset asset,
    String source,
    Address to,
    Amount amount,
    String memo,
    Instant acceptedAt) {
  public Payout {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(batchId, "batchId");
    Objects.requireNonNull(clientId, "clientId");
    Objects.requireNonNull(chain, "chain");
    Objects.requireNonNull(asset, "asset");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(to, "to");
    Objects.requireNonNull(amount, "amount");
    Objects.requireNonNull(acceptedAt, "acceptedAt");
  }

  /** The {@code sendto} key: every payout of one sending account lands in one partition. */
  public String accountKey() {
    return accountKey(chain, source);
  }

  public static String accountKey(Chain chain, String source) {
    return chain.name() + ":" + source;
  }

  /** The results key: payout ids are unique per client, not globally. */
  public String resultKey() {
    return clientId + "/" + id;
  }
}
