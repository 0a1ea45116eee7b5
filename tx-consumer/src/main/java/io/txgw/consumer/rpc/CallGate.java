package io.txgw.consumer.rpc;

/**
 * What every call to a node passes before it is sent: throttling, the in-flight cap, a pause. A
 * gate that refuses throws {@link RpcException.Kind#HELD_BACK}: the node never saw the call.
 */
public interface CallGate {
  /** A gate that lets everything through at once. */
  CallGate OPEN = method -> (failure, nanos) -> {};

  /**
   * Waits until the call may go out.
   *
   * @throws RpcException of kind HELD_BACK when it may not go out in time
   */
  Permit enter(String method) throws RpcException, InterruptedException;

  /** Given back once the call has an answer or failed; exactly once. */
  interface Permit {
    /**
     * @param failure null for an answer (a JSON-RPC error counts as one), else why it failed
     * @param nanos how long the node took
     */
    void done(RpcException.Kind failure, long nanos);
  }
}
