package io.txgw.common.config;

/** A password or key: its text is only reachable through {@link #reveal()}, never toString. */
public final class Secret {
  private final String value;

  public Secret(String value) {
    this.value = value;
  }

  public String reveal() {
    return value;
  }

  @Override
  public String toString() {
    return "****";
  }
}
