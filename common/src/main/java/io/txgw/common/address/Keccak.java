package io.txgw.common.address;

import org.bouncycastle.crypto.digests.KeccakDigest;

/** Keccak-256 as Ethereum uses it (the original padding, not NIST SHA3-256). */
public final class Keccak {
  // One digest per thread, reused: setting up the sponge cost as much as hashing an address.
  // doFinal leaves the digest reset for the next use.
  private static final ThreadLocal<KeccakDigest> DIGEST =
      ThreadLocal.withInitial(() -> new KeccakDigest(256));

  private Keccak() {}

  public static byte[] hash256(byte[] data) {
    KeccakDigest digest = DIGEST.get();
    digest.update(data, 0, data.length);
    byte[] out = new byte[32];
    digest.doFinal(out, 0);
    return out;
  }
}
