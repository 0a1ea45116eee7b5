package io.txgw.loadgen;

import io.txgw.common.validation.BatchSubmission;

/** Posts each batch to the gateway; 202 is accepted, anything else is counted by its status. */
final class GatewayTarget implements Target {
  private final GatewayClient client;

  GatewayTarget(GatewayClient client) {
    this.client = client;
  }

  @Override
  public String send(BatchSubmission batch) throws Exception {
    GatewayClient.Answer answer = client.postBatch(batch);
    return answer.status() == 202 ? null : "HTTP " + answer.status();
  }
}
