package io.txgw.common.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Objects;

/**
 * A destination or source address in its canonical text form (EIP-55 for Ethereum, as encoded for
 * Bitcoin). Construct through {@code io.txgw.common.address.AddressCodec}, which validates it.
 */
public record Address(@JsonValue String value) {
  @JsonCreator
  public Address {
    Objects.requireNonNull(value, "address");
  }

  @Override
  public String toString() {
    return value;
  }
}
