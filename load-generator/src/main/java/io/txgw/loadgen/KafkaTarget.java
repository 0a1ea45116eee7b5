package io.txgw.loadgen;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import io.txgw.common.model.Payout;
import io.txgw.common.validation.BatchSubmission;
import io.txgw.common.validation.PayoutLine;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Writes payout records straight to {@code sendto}, as the gateway would after validation, keyed
 * {@code chain:source} with acks=all: the ceiling without HTTP and the gateway. The gateway never
 * hears of these batches; their results are read from the results topic.
 */
final class KafkaTarget implements Target {
  private final KafkaProducer<String, Payout> producer;
  private final AddressCodec codec;
  private final String clientId;

  KafkaTarget(KafkaConnection kafka, AddressCodec codec, String clientId) {
    this.codec = codec;
    this.clientId = clientId;
    this.producer =
        new KafkaProducer<>(
            kafka.clientProperties(
                Map.of(
                    ProducerConfig.ACKS_CONFIG,
                    "all",
                    ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                    true,
                    ProducerConfig.LINGER_MS_CONFIG,
                    5)),
            new StringSerializer(),
            new JsonSerde<>(Payout.class).serializer());
  }

  @Override
  public String send(BatchSubmission batch) throws Exception {
    Chain chain = Chain.parse(batch.chain());
    Instant now = Instant.now();
    List<Future<?>> acks = new ArrayList<>();
    for (PayoutLine line : batch.payouts()) {
      Payout payout =
          new Payout(
              line.id(),
              batch.batchId(),
              clientId,
              chain,
              chain.nativeAsset(),
              batch.source(),
              codec.decode(chain, line.to()).address(),
              Amount.parse(line.amount()),
              line.memo(),
              now);
      acks.add(producer.send(new ProducerRecord<>(Topics.SENDTO, payout.accountKey(), payout)));
    }
    for (Future<?> ack : acks) {
      ack.get();
    }
    return null;
  }

  @Override
  public void close() {
    producer.close();
  }
}
