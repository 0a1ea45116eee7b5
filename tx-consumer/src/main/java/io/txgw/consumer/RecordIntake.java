package io.txgw.consumer;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.TopicLayout;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import io.txgw.common.model.Payout;
import io.txgw.common.security.ClientPolicies;
import io.txgw.common.security.ClientPolicy;
import io.txgw.common.security.RecordSeal;
import io.txgw.common.validation.BatchValidator;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Header;

/**
 * What a consumer checks of a {@code sendto} record before anything is prepared for it, whatever
 * the gateway checked: the gateway's seal, then the payout itself (address, amount, the per-payout
 * maximum) and the client's spending right and recipient lists as they stand now. A record without
 * a valid seal was not written by a gateway: it goes to the dead-letter topic, unpaid and without a
 * result, since its client id is as untrustworthy as the rest. A sealed payout that fails a check
 * (a right withdrawn since it was accepted, a limit lowered) is recorded FAILED and never signed.
 */
public final class RecordIntake {
  private static final JsonSerde<Payout> PAYOUTS = new JsonSerde<>(Payout.class);

  /** The verdict on one record. */
  public sealed interface Verdict {
    /** Pay it. */
    record Pay(Payout payout) implements Verdict {}

    /** Not a record a gateway vouched for, or unreadable: moved aside, unpaid. */
    record Dead(String reason) implements Verdict {}

    /** A vouched payout this consumer must not pay: recorded FAILED with the reason. */
    record Refuse(Payout payout, String reason) implements Verdict {}

    /**
     * Not decided yet, and neither paid nor moved aside: read again after a rest. Sealed by a key
     * this consumer was told is coming (a gateway ahead in a key rotation): until it is given, or
     * {@link #EXPECTED_KEY_LIMIT}. Sealed, but outside the partition its key hashes to by this
     * consumer's partition count, which may be stale for minutes after the topic grew: for {@code
     * limit}. Then moved aside, with an alert.
     *
     * @param limit how long the record may hold its partition; null for as long as it takes
     */
    record Wait(String reason, java.time.Duration limit) implements Verdict {}
  }

  /**
   * How long a record outside its account's partition holds the partition before it is moved aside:
   * longer than a consumer takes to see a grown topic's new partition count.
   */
  static final java.time.Duration MISPLACED_LIMIT = java.time.Duration.ofSeconds(90);

  private final RecordSeal seal;
  private final Supplier<ClientPolicies> policies;
  private final AddressCodec addresses;
  private final Map<Chain, Amount> maxPerPayout;
  private final java.time.Duration misplacedLimit;
  private io.txgw.common.model.AssetRegistry assets = io.txgw.common.model.AssetRegistry.NONE;

  /**
   * The token assets this consumer pays: a token payout is paid only if this list has its asset
   * with the same contract and decimals, and its amount within the asset's maximum.
   */
  /** The token assets it pays. */
  public io.txgw.common.model.AssetRegistry assets() {
    return assets;
  }

  public RecordIntake withAssets(io.txgw.common.model.AssetRegistry assets) {
    this.assets = java.util.Objects.requireNonNull(assets, "assets");
    return this;
  }

  /**
   * @param seal the keys records are sealed with; required, since an unsealed topic is one anyone
   *     who can produce to it spends from
   */
  public RecordIntake(
      RecordSeal seal,
      Supplier<ClientPolicies> policies,
      AddressCodec addresses,
      Map<Chain, Amount> maxPerPayout) {
    this(seal, policies, addresses, maxPerPayout, MISPLACED_LIMIT);
  }

  /**
   * @param misplacedLimit how long a record outside its account's partition may hold it
   */
  public RecordIntake(
      RecordSeal seal,
      Supplier<ClientPolicies> policies,
      AddressCodec addresses,
      Map<Chain, Amount> maxPerPayout,
      java.time.Duration misplacedLimit) {
    this.seal = java.util.Objects.requireNonNull(seal, "seal");
    this.policies = policies;
    this.addresses = addresses;
    this.maxPerPayout = Map.copyOf(maxPerPayout);
    this.misplacedLimit = misplacedLimit;
  }

  /**
   * @param partitions {@code sendto}'s partition count: a record is its account's only in the
   *     partition its key hashes to, where that account's journal and dedup index live
   */
  /**
   * How long a record sealed by an announced key waits for that key before it is moved aside, with
   * an alert: time for an operator to give the consumers a key announced to the gateways.
   */
  public static final java.time.Duration EXPECTED_KEY_LIMIT = java.time.Duration.ofHours(1);

  public Verdict check(ConsumerRecord<String, byte[]> record, int partitions) {
    Header header = record.headers().lastHeader(RecordSeal.HEADER);
    RecordSeal.Verdict sealed =
        seal.verify(record.key(), record.value(), header == null ? null : header.value());
    if (sealed == RecordSeal.Verdict.EXPECTED_KEY) {
      // Not for ever: a record carrying an announced key's id is not known to be a gateway's
      // until the key is given, and a forged one would hold its partition (and, through the
      // lag, every client's intake) while nobody gives it.
      return new Verdict.Wait(
          "sealed by a key announced but not given to this consumer", EXPECTED_KEY_LIMIT);
    }
    if (sealed != RecordSeal.Verdict.VALID) {
      return new Verdict.Dead("not sealed by a gateway: " + sealed);
    }
    if (record.key() == null) {
      return new Verdict.Dead("a sealed record without a key");
    }
    if (partitions <= 0
        || record.partition() != TopicLayout.partitionOf(record.key(), partitions)) {
      // A gateway's record in another partition than its account's: that partition's index does
      // not know the payout and would pay it again. Or this consumer's partition count is stale.
      return new Verdict.Wait(
          "a sealed record in partition "
              + record.partition()
              + ", not its account's by "
              + partitions
              + " partitions",
          misplacedLimit);
    }
    Payout payout;
    try {
      payout = PAYOUTS.deserialize(record.topic(), record.value());
    } catch (SerializationException e) {
      return new Verdict.Dead(e.getMessage());
    }
    if (payout == null || !payout.accountKey().equals(record.key())) {
      return new Verdict.Dead("the record's key is not its payout's account");
    }
    return problem(payout)
        .<Verdict>map(why -> new Verdict.Refuse(payout, why))
        .orElse(new Verdict.Pay(payout));
  }

  /**
   * The payout a record says it holds, unverified: only to see whether it is already journaled, in
   * which case skipping it never pays. Null when unreadable.
   */
  static Payout readUnverified(ConsumerRecord<String, byte[]> record) {
    try {
      return PAYOUTS.deserialize(record.topic(), record.value());
    } catch (SerializationException e) {
      return null;
    }
  }

  /**
   * Whether the payout's client may pay a contract with a native transfer, as its policy says now.
   */
  public boolean contractsAllowed(Payout p) {
    return policies.get().of(p.clientId()).payContracts();
  }

  /** Why this payout must not be paid, if so: the gateway's rules and the client's policy. */
  Optional<String> problem(Payout p) {
    Amount max = maxPerPayout.get(p.chain());
    if (!p.asset().equals(p.chain().nativeAsset())) {
      io.txgw.common.model.AssetRegistry.Token token = assets.find(p.chain(), p.asset().symbol());
      if (token == null || !token.asset().equals(p.asset())) {
        // Sealed by a gateway whose list differs: never paid from a contract this consumer was
        // not told of, nor with other decimals.
        return Optional.of(
            "invalid: asset " + p.asset().symbol() + " is not paid by this consumer as sent");
      }
      max = token.maxPerPayout();
    }
    AddressCodec.Decoded to = addresses.decode(p.chain(), p.to().value());
    if (!to.valid() || !to.address().equals(p.to())) {
      return Optional.of(
          "invalid: recipient " + (to.valid() ? "not in canonical form" : to.reason()));
    }
    if (BatchValidator.isBurnAddress(p.to())) {
      return Optional.of("invalid: the zero address burns what it is sent");
    }
    Amount amount = p.amount();
    if (!amount.isPositive()
        || amount.scale() > p.asset().decimals()
        || amount.compareTo(max) > 0) {
      return Optional.of("invalid: amount outside what the gateway accepts");
    }
    ClientPolicy policy = policies.get().of(p.clientId());
    if (!policy.maySpend(p.chain(), p.source(), p.asset())) {
      return Optional.of(
          "not-permitted: client "
              + p.clientId()
              + " may not spend from "
              + ClientPolicy.right(p.chain(), p.source(), p.asset()));
    }
    return policy.recipientRefusal(p.to()).map(why -> "not-permitted: " + why);
  }
}
