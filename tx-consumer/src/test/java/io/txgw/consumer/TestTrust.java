package io.txgw.consumer;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.address.BitcoinNetwork;
import io.txgw.common.config.Secret;
import io.txgw.common.model.Address;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import io.txgw.common.security.ClientPolicies;
import io.txgw.common.security.ClientPolicy;
import io.txgw.common.security.RecordSeal;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** The seal and policies the consumer's tests pay under, and a forger's key that is not theirs. */
public final class TestTrust {
  /** The gateways' key "gw"; a key "next" is announced and not held (a rotation under way). */
  public static final RecordSeal SEAL = seal("gw", 7);

  public static final RecordSeal FORGER = seal("gw", 9);
  public static final AddressCodec ADDRESSES = new AddressCodec(BitcoinNetwork.BCOIN_REGTEST);

  private TestTrust() {}

  private static RecordSeal seal(String id, int fill) {
    byte[] key = new byte[32];
    java.util.Arrays.fill(key, (byte) fill);
    return RecordSeal.parse(
        new Secret(id + "=" + Base64.getEncoder().encodeToString(key) + ",next="));
  }

  /** An intake under which {@code client} may spend from exactly {@code rights} (CHAIN:source). */
  public static RecordIntake intake(String client, Set<String> rights) {
    ClientPolicies policies =
        new ClientPolicies(
            Map.of(
                client,
                new ClientPolicy(client, rights, Map.of(), Map.of(), Set.of(), null, false)));
    return new RecordIntake(
        SEAL,
        () -> policies,
        ADDRESSES,
        Map.of(Chain.BTC, Amount.parse("100"), Chain.ETH, Amount.parse("1000000")),
        // Shorter than in production (90 s): the simulation's rounds cover seconds, not minutes.
        java.time.Duration.ofSeconds(5));
  }

  /** The canonical (EIP-55) form of a 20-byte Ethereum account given as a number. */
  public static String ethAddress(long n) {
    return ADDRESSES.decode(Chain.ETH, String.format("0x%040x", n)).address().value();
  }

  /** A valid regtest P2WPKH address derived from a number. */
  public static Address btcAddress(long n) {
    byte[] h = new byte[20];
    for (int i = 0; i < 8; i++) {
      h[19 - i] = (byte) (n >>> (8 * i));
    }
    h[0] = 0x5a;
    return ADDRESSES.bitcoinP2wpkh(h);
  }

  /** The record with the gateway's seal on it. */
  public static ConsumerRecord<String, byte[]> sealed(ConsumerRecord<String, byte[]> r) {
    r.headers().add(RecordSeal.HEADER, SEAL.seal(r.key(), r.value()));
    return r;
  }
}
