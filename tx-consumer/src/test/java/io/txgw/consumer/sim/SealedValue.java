package io.txgw.consumer.sim;

/**
 * A {@code sendto} value with the seal header it was written with (null: none), as a simulated log
 * keeps it; the simulated consumer hands both over as a real record's value and header.
 */
public record SealedValue(byte[] bytes, byte[] seal) {}
