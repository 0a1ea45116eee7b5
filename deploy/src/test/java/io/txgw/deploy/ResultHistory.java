package io.txgw.deploy;

import io.txgw.common.kafka.Topics;
import io.txgw.common.model.PayoutResult;
import io.txgw.common.validation.PayoutLine;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** What the results topic told about some payouts. */
final class ResultHistory {
  private ResultHistory() {}

  /** Each payout's results in the order they were recorded, by payout id. */
  static Map<String, List<PayoutResult>> of(LocalStack stack, List<PayoutLine> lines) {
    List<String> ids = lines.stream().map(PayoutLine::id).toList();
    Map<String, List<PayoutResult>> out = new LinkedHashMap<>();
    ids.forEach(id -> out.put(id, new ArrayList<>()));
    for (ConsumerRecord<String, PayoutResult> r :
        TopicReader.readAll(stack.kafkaBootstrap(), Topics.RESULTS, PayoutResult.class)) {
      if (out.containsKey(r.value().payoutId())) {
        out.get(r.value().payoutId()).add(r.value());
      }
    }
    return out;
  }
}
