package io.txgw.common.model;

/**
 * The stable code a client is shown for a failed payout. A result's error text can carry a node's
 * own words (balances, which accounts it can sign for, its software): those stay in the results
 * topic and the consumer's log, for the operator; clients get one of these codes, which a program
 * can act on and which do not change with the node's version or wording.
 *
 * <p>The codes are read from the consumer's own wording at the start of the text, never from a
 * node's: what a node said is always {@link #NODE_REFUSED}.
 */
public final class FailureCode {
  /** The client may not spend from the source, or not pay the recipient (its policy). */
  public static final String NOT_PERMITTED = "not-permitted";

  /** The payout breaks a rule the gateway checks (checked again by the consumer). */
  public static final String INVALID_PAYOUT = "invalid-payout";

  /** The sending account cannot cover the payout and its fee. */
  public static final String INSUFFICIENT_FUNDS = "insufficient-funds";

  /** The transaction was mined and reverted. */
  public static final String REVERTED = "reverted";

  /** The source is not an account this gateway's consumers pay from. */
  public static final String UNKNOWN_SOURCE = "unknown-source";

  /**
   * Its transaction was taken out of the chain, then its inputs or nonce by another one, after its
   * payout had left {@code sendto} by retention: nothing was paid and txgw will not pay it again;
   * post it again under a new payout id.
   */
  public static final String EXPIRED = "expired";

  /** The node refused the payout for a reason of its own; the operator's logs say which. */
  public static final String NODE_REFUSED = "node-refused";

  private FailureCode() {}

  /** The code for a result's error text; null for none. */
  public static String of(String error) {
    if (error == null) {
      return null;
    }
    if (error.startsWith("not-permitted:")) {
      return NOT_PERMITTED;
    }
    if (error.startsWith("invalid:")) {
      return INVALID_PAYOUT;
    }
    if (error.startsWith("insufficient funds:")) {
      return INSUFFICIENT_FUNDS;
    }
    if (error.startsWith("transaction ") && error.endsWith(" reverted in the chain")) {
      return REVERTED;
    }
    if (error.startsWith("expired:")) {
      return EXPIRED;
    }
    if (error.startsWith("unknown source wallet")) {
      return UNKNOWN_SOURCE;
    }
    return NODE_REFUSED;
  }
}
