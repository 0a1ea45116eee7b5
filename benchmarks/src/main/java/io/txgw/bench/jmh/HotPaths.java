package io.txgw.bench.jmh;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.json.Json;
import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import io.txgw.common.model.Payout;
import io.txgw.common.validation.BatchRules;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.BatchValidator;
import io.txgw.common.validation.PayoutLine;
import io.txgw.common.validation.ValidatedBatch;
import io.txgw.gateway.http.BatchRequestParser;
import io.txgw.loadgen.PayoutFactory;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The gateway's per-payout work, each step alone: reading and checking a 1,000-payout batch, the
 * address checksums inside that check, and writing the {@code sendto} records.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class HotPaths {
  private static final int PAYOUTS = 1_000;

  private final AddressCodec codec = new AddressCodec(BitcoinNetwork.MAIN);
  private final BatchValidator validator =
      new BatchValidator(
          new BatchRules(
              10_000,
              Map.of(Chain.ETH, Amount.parse("1000"), Chain.BTC, Amount.parse("100")),
              codec));
  private final JsonSerde<Payout> payoutSerde = new JsonSerde<>(Payout.class);

  private byte[] ethBatchJson;
  private BatchSubmission ethBatch;
  private List<Payout> payouts;
  private String ethMixedCase;
  private String ethLowerCase;
  private String bech32;
  private String base58 = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa";

  @Setup
  public void setUp() throws Exception {
    PayoutFactory factory = new PayoutFactory(codec, 7);
    List<PayoutLine> lines =
        factory.payouts(
            Chain.ETH,
            "p",
            PAYOUTS,
            BigInteger.valueOf(1_000_000_000_000L),
            BigInteger.valueOf(1_000_000_000_000_000L));
    ethBatch = new BatchSubmission("jmh-1", "ETH", factory.recipient(Chain.ETH), lines);
    ethBatchJson = Json.mapper().writeValueAsBytes(ethBatch);
    ValidatedBatch validated = validator.validate(ethBatch, "jmh", Instant.EPOCH);
    if (!validated.valid()) {
      throw new IllegalStateException("benchmark batch is invalid: " + validated.violations());
    }
    payouts = validated.payouts();
    ethMixedCase = lines.get(0).to();
    ethLowerCase = ethMixedCase.toLowerCase(java.util.Locale.ROOT);
    bech32 = factory.recipient(Chain.BTC);
  }

  /** What the gateway does with a posted 1,000-payout JSON body before it writes to Kafka. */
  @Benchmark
  public ValidatedBatch parseAndValidateBatchOf1000() {
    BatchRequestParser.Parsed parsed = BatchRequestParser.json(ethBatchJson);
    return validator.validate(parsed.submission(), "jmh", Instant.EPOCH);
  }

  /** Validation alone, of the same batch already parsed. */
  @Benchmark
  public ValidatedBatch validateBatchOf1000() {
    return validator.validate(ethBatch, "jmh", Instant.EPOCH);
  }

  /** EIP-55: Keccak-256 of the address, compared with its letter case. */
  @Benchmark
  public AddressCodec.Decoded ethereumChecksumMixedCase() {
    return codec.decode(Chain.ETH, ethMixedCase);
  }

  /** No checksum to compare, but the canonical (checksummed) form is still computed. */
  @Benchmark
  public AddressCodec.Decoded ethereumLowerCase() {
    return codec.decode(Chain.ETH, ethLowerCase);
  }

  /** Bech32 checksum (BIP-173) of a P2WPKH address. */
  @Benchmark
  public AddressCodec.Decoded bitcoinBech32() {
    return codec.decode(Chain.BTC, bech32);
  }

  /** Base58Check: double SHA-256 of a legacy address. */
  @Benchmark
  public AddressCodec.Decoded bitcoinBase58() {
    return codec.decode(Chain.BTC, base58);
  }

  /** The {@code sendto} record values of a 1,000-payout batch, as the gateway writes them. */
  @Benchmark
  public int serializeBatchOf1000Records() {
    int bytes = 0;
    for (Payout p : payouts) {
      bytes += payoutSerde.serialize("sendto", p).length;
    }
    return bytes;
  }
}
