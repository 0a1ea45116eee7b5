package io.txgw.consumer.signing;

/**
 * A transaction was not signed. Nothing signed means nothing exists that could be mined: the nonce
 * is still free either way.
 */
public final class SigningException extends Exception {
  private final boolean lasting;

  /**
   * @param lasting true when asking again will not help (no key for the account, the signer refused
   *     the transaction): the payout is refused. False when the signer could not be reached or
   *     answered nothing usable: the payout waits.
   */
  public SigningException(String message, boolean lasting, Throwable cause) {
    super(message, cause);
    this.lasting = lasting;
  }

  public SigningException(String message, boolean lasting) {
    this(message, lasting, null);
  }

  public boolean lasting() {
    return lasting;
  }
}
