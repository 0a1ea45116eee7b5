package io.txgw.common.validation;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.model.Address;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Asset;
import io.txgw.common.model.Chain;
import io.txgw.common.model.Payout;
import io.txgw.common.security.ClientPolicy;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Checks every item of a batch before anything is written, and reports every problem, not just the
 * first: a client fixing a 10,000-line payroll needs the whole list.
 */
public final class BatchValidator {
  private static final Pattern WALLET_NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final int MAX_MEMO_CHARS = 256;

  private final BatchRules rules;

  public BatchValidator(BatchRules rules) {
    this.rules = rules;
  }

  public BatchRules rules() {
    return rules;
  }

  public ValidatedBatch validate(BatchSubmission batch, String clientId, Instant acceptedAt) {
    List<Violation> violations = new ArrayList<>();
    if (!isId(batch.batchId())) {
      violations.add(Violation.ofBatch("batchId", "required, 1-128 of A-Z a-z 0-9 . _ : @ -"));
    }
    Chain chain = Chain.parse(batch.chain());
    if (chain == null) {
      violations.add(Violation.ofBatch("chain", "must be one of BTC, ETH"));
    }
    String source = chain == null ? null : canonicalSource(chain, batch.source(), violations);
    List<PayoutLine> lines = batch.payouts() == null ? List.of() : batch.payouts();
    if (lines.isEmpty()) {
      violations.add(Violation.ofBatch("payouts", "at least one payout is required"));
    }
    if (lines.size() > rules.maxPayouts()) {
      violations.add(
          Violation.ofBatch(
              "payouts",
              "batch has " + lines.size() + " payouts; the limit is " + rules.maxPayouts()));
      // Checking each of a million lines would only make a larger answer; the limit says it all.
      return new ValidatedBatch(List.of(), null, violations);
    }
    if (chain == null) {
      return new ValidatedBatch(List.of(), null, violations);
    }
    List<Payout> payouts = new ArrayList<>(lines.size());
    Map<String, Integer> firstIndexOfId = new HashMap<>();
    Asset asset = chain.nativeAsset();
    Amount maxPerPayout = rules.maxPerPayout().get(chain);
    if (batch.asset() != null && !batch.asset().equalsIgnoreCase(asset.symbol())) {
      io.txgw.common.model.AssetRegistry.Token token = rules.assets().find(chain, batch.asset());
      if (token == null) {
        // Never paid as something else: an asset this gateway does not know is refused whole.
        violations.add(
            Violation.ofBatch(
                "asset",
                "not an asset of "
                    + chain
                    + " here; known: "
                    + String.join(", ", rules.assets().symbols(chain))));
        return new ValidatedBatch(List.of(), null, violations);
      }
      asset = token.asset();
      maxPerPayout = token.maxPerPayout();
    }
    for (int i = 0; i < lines.size(); i++) {
      PayoutLine line = lines.get(i);
      int before = violations.size();
      if (line == null) {
        violations.add(new Violation(i, null, "payout", "must be an object"));
        continue;
      }
      if (!isId(line.id())) {
        violations.add(
            new Violation(i, line.id(), "id", "required, 1-128 of A-Z a-z 0-9 . _ : @ -"));
      } else {
        Integer first = firstIndexOfId.putIfAbsent(line.id(), i);
        if (first != null) {
          violations.add(
              new Violation(i, line.id(), "id", "duplicate of the payout at index " + first));
        }
      }
      AddressCodec.Decoded to = rules.addresses().decode(chain, line.to());
      if (!to.valid()) {
        violations.add(new Violation(i, line.id(), "to", to.reason()));
      } else if (isBurnAddress(to.address())) {
        violations.add(new Violation(i, line.id(), "to", BURN_ADDRESS_REASON));
      } else if (!asset.isNative() && to.address().value().equalsIgnoreCase(asset.contract())) {
        violations.add(
            new Violation(
                i, line.id(), "to", "the token's own contract, where tokens sent are lost"));
      }
      Amount amount = checkAmount(i, line, asset, maxPerPayout, violations);
      if (line.memo() != null && line.memo().length() > MAX_MEMO_CHARS) {
        violations.add(
            new Violation(i, line.id(), "memo", "longer than " + MAX_MEMO_CHARS + " characters"));
      }
      if (violations.size() == before && violations.isEmpty() && source != null) {
        payouts.add(
            new Payout(
                line.id(),
                batch.batchId(),
                clientId,
                chain,
                asset,
                source,
                to.address(),
                amount,
                line.memo(),
                acceptedAt));
      }
    }
    if (!violations.isEmpty()) {
      return new ValidatedBatch(List.of(), null, violations);
    }
    return new ValidatedBatch(payouts, fingerprint(chain, source, payouts), List.of());
  }

  /**
   * Checks the batch as {@link #validate(BatchSubmission, String, Instant)} does, then against the
   * posting client's policy: the source must be one it may spend from, no recipient may be one it
   * may not pay, and the batch's total may not pass its per-batch maximum. Every problem is named.
   */
  public ValidatedBatch validate(BatchSubmission batch, ClientPolicy policy, Instant acceptedAt) {
    ValidatedBatch checked = validate(batch, policy.client(), acceptedAt);
    if (!checked.violations().isEmpty()) {
      return new ValidatedBatch(
          List.of(), null, withPolicyProblems(batch, policy, checked.violations()));
    }
    List<Payout> payouts = checked.payouts();
    Payout first = payouts.get(0);
    List<Violation> violations = new ArrayList<>();
    if (!policy.maySpend(first.chain(), first.source(), first.asset())) {
      violations.add(
          Violation.ofBatch(
              "source",
              "client "
                  + policy.client()
                  + " may not spend from "
                  + ClientPolicy.right(first.chain(), first.source(), first.asset())));
    }
    for (int i = 0; i < payouts.size(); i++) {
      Payout p = payouts.get(i);
      int index = i;
      policy
          .recipientRefusal(p.to())
          .ifPresent(why -> violations.add(new Violation(index, p.id(), "to", why)));
    }
    Amount cap = policy.maxBatchTotal().get(first.asset().symbol());
    if (cap != null) {
      Amount total = payouts.stream().map(Payout::amount).reduce(Amount::plus).orElseThrow();
      if (total.compareTo(cap) > 0) {
        violations.add(
            Violation.ofBatch(
                "payouts",
                "the batch pays "
                    + total
                    + " "
                    + first.asset().symbol()
                    + " in total, above this client's per-batch maximum of "
                    + cap));
      }
    }
    return violations.isEmpty() ? checked : new ValidatedBatch(List.of(), null, violations);
  }

  /**
   * A batch that broke a rule is not paid whatever its policy says, but the client hears of every
   * problem at once: the source it may not spend from and the recipients it may not pay too.
   */
  private List<Violation> withPolicyProblems(
      BatchSubmission batch, ClientPolicy policy, List<Violation> found) {
    Chain chain = Chain.parse(batch.chain());
    List<PayoutLine> lines = batch.payouts();
    if (chain == null || lines == null || lines.size() > rules.maxPayouts()) {
      return found;
    }
    List<Violation> all = new ArrayList<>(found);
    String source = canonicalSource(chain, batch.source(), new ArrayList<>());
    if (source != null && !policy.maySpend(chain, source)) {
      all.add(
          Violation.ofBatch(
              "source",
              "client "
                  + policy.client()
                  + " may not spend from "
                  + ClientPolicy.right(chain, source)));
    }
    for (int i = 0; i < lines.size(); i++) {
      PayoutLine line = lines.get(i);
      AddressCodec.Decoded to = line == null ? null : rules.addresses().decode(chain, line.to());
      if (to != null && to.valid()) {
        int index = i;
        policy
            .recipientRefusal(to.address())
            .ifPresent(why -> all.add(new Violation(index, line.id(), "to", why)));
      }
    }
    return all;
  }

  static final String BURN_ADDRESS_REASON = "the zero address burns what it is sent";

  /** The Ethereum zero address: coins sent there are gone, and no exchange means to. */
  public static boolean isBurnAddress(Address to) {
    return to.value().equals("0x0000000000000000000000000000000000000000");
  }

  /** Whether {@code id} is a valid batch or payout id. */
  public static boolean isValidId(String id) {
    return isId(id);
  }

  /**
   * 1-128 of A-Z a-z 0-9 . _ : @ -, checked by hand rather than by a regex: it runs for every
   * payout.
   */
  static boolean isId(String id) {
    if (id == null || id.isEmpty() || id.length() > 128) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      boolean allowed =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '.'
              || c == '_'
              || c == ':'
              || c == '@'
              || c == '-';
      if (!allowed) {
        return false;
      }
    }
    return true;
  }

  private String canonicalSource(Chain chain, String source, List<Violation> violations) {
    if (source == null || source.isBlank()) {
      violations.add(Violation.ofBatch("source", "required: the sending account"));
      return null;
    }
    if (chain == Chain.ETH) {
      AddressCodec.Decoded decoded = rules.addresses().decode(chain, source);
      if (!decoded.valid()) {
        violations.add(Violation.ofBatch("source", decoded.reason()));
        return null;
      }
      return decoded.address().value();
    }
    // A Bitcoin source is the wallet that pays, not an address: coins come from many addresses.
    // "." and ".." would name no wallet but a path above it in a wallet URL.
    if (!WALLET_NAME.matcher(source).matches() || source.equals(".") || source.equals("..")) {
      violations.add(Violation.ofBatch("source", "a wallet name: 1-64 of A-Z a-z 0-9 . _ -"));
      return null;
    }
    return source;
  }

  private static Amount checkAmount(
      int index, PayoutLine line, Asset asset, Amount max, List<Violation> violations) {
    Amount amount;
    try {
      amount = Amount.parse(line.amount());
    } catch (IllegalArgumentException e) {
      violations.add(new Violation(index, line.id(), "amount", e.getMessage()));
      return null;
    }
    if (!amount.isPositive()) {
      violations.add(new Violation(index, line.id(), "amount", "must be greater than zero"));
    } else if (amount.scale() > asset.decimals()) {
      violations.add(
          new Violation(
              index,
              line.id(),
              "amount",
              "more than " + asset.decimals() + " decimal places for " + asset.symbol()));
    } else if (amount.compareTo(max) > 0) {
      violations.add(
          new Violation(
              index,
              line.id(),
              "amount",
              "above the per-payout maximum of " + max + " " + asset.symbol()));
    }
    return amount;
  }

  /** A digest of everything that makes two postings of one batch id the same batch. */
  static String fingerprint(Chain chain, String source, List<Payout> payouts) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      update(sha, chain.name());
      update(sha, source);
      if (!payouts.isEmpty() && !payouts.get(0).asset().isNative()) {
        // Only for tokens: a native batch's digest stays what it was before tokens were paid.
        Asset asset = payouts.get(0).asset();
        update(sha, "asset:" + asset.symbol() + ":" + asset.contract() + ":" + asset.decimals());
      }
      for (Payout p : payouts) {
        update(sha, p.id());
        update(sha, p.to().value());
        update(sha, p.amount().toString());
        update(sha, p.memo() == null ? "\u0000" : p.memo());
      }
      return HexFormat.of().formatHex(sha.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java runtime", e);
    }
  }

  private static void update(MessageDigest sha, String field) {
    byte[] bytes = field.getBytes(StandardCharsets.UTF_8);
    // Length-prefix each field so that ("ab","c") and ("a","bc") differ.
    sha.update(
        new byte[] {
          (byte) (bytes.length >>> 24), (byte) (bytes.length >>> 16),
          (byte) (bytes.length >>> 8), (byte) bytes.length
        });
    sha.update(bytes);
  }
}
