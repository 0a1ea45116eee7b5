package io.txgw.gateway.http;

/** A request body that cannot be read at all (not JSON, broken CSV): answered with 400. */
public final class MalformedRequestException extends RuntimeException {
  public MalformedRequestException(String message) {
    super(message);
  }
}
