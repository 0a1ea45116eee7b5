package io.txgw.consumer.rpc;

/**
 * A JSON-RPC call that did not return a result, classified once by what it tells about the node:
 * whether the request reached it, and whether it acted on it.
 */
public final class RpcException extends Exception {
  /** Why the call failed. */
  public enum Kind {
    /** The connection was never made: the node did not see the request. Safe to retry. */
    CONNECT_FAILED(false),
    /**
     * txgw itself held the call back (the chain is paused, or no share of the node's budget came
     * free in time): the node never saw it.
     */
    HELD_BACK(false),
    /** The node asked us to slow down (HTTP 429, JSON-RPC -32005) and did not act. */
    RATE_LIMITED(false),
    /** The request was sent and no answer came in time: the node may have acted. */
    TIMEOUT(true),
    /** The connection broke after the request was sent: the node may have acted. */
    DISCONNECTED(true),
    /** An HTTP status without a JSON-RPC answer (401, 502...): whether it acted is unknown. */
    HTTP_ERROR(true),
    /** An answer that is not JSON-RPC: whether the node acted is unknown. */
    MALFORMED(true),
    /** The node answered with a JSON-RPC error: it decided, and {@link #code()} says what. */
    NODE_ERROR(false);

    private final boolean outcomeUnknown;

    Kind(boolean outcomeUnknown) {
      this.outcomeUnknown = outcomeUnknown;
    }

    /** True when the node may have carried the call out although no result came back. */
    public boolean outcomeUnknown() {
      return outcomeUnknown;
    }
  }

  private final Kind kind;
  private final Integer code;
  private final int httpStatus;

  public RpcException(Kind kind, Integer code, int httpStatus, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
    this.code = code;
    this.httpStatus = httpStatus;
  }

  public Kind kind() {
    return kind;
  }

  /** The JSON-RPC error code, for {@link Kind#NODE_ERROR} and rate limiting; null otherwise. */
  public Integer code() {
    return code;
  }

  /** The HTTP status, or 0 when there was no HTTP answer. */
  public int httpStatus() {
    return httpStatus;
  }

  /** The node's own words for a node error, for recording with a failed payout. */
  public String reason() {
    return code == null ? getMessage() : getMessage() + " (code " + code + ")";
  }
}
