package io.txgw.loadgen;

import io.txgw.common.address.AddressCodec;
import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.KafkaConnection;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.Amount;
import io.txgw.common.model.Chain;
import io.txgw.common.model.Payout;
import io.txgw.common.security.RecordSeal;
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
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Writes payout records straight to {@code sendto}, as the gateway would after validation, keyed
 * {@code chain:source} with acks=all and sealed with the gateways' record key (consumers pay
 * nothing else): the ceiling without HTTP and the gateway. It needs what a gateway holds, the
 * gateway's Kafka credentials and {@code TXGW_RECORD_KEYS}. The gateway never hears of these
 * batches; their results are read from the results topic.
 */
final class KafkaTarget implements Target {
  private static final JsonSerde<Payout> PAYOUTS = new JsonSerde<>(Payout.class);
  private final KafkaProducer<String, byte[]> producer;
  private final RecordSeal seal;
  private final AddressCodec codec;
  private final String clientId;

  KafkaTarget(KafkaConnection kafka, AddressCodec codec, String clientId, RecordSeal seal) {
    this.seal = java.util.Objects.requireNonNull(seal, "seal");
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
            new ByteArraySerializer());
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
      byte[] value = PAYOUTS.serialize(Topics.SENDTO, payout);
      ProducerRecord<String, byte[]> record =
          new ProducerRecord<>(Topics.SENDTO, payout.accountKey(), value);
      record.headers().add(RecordSeal.HEADER, seal.seal(payout.accountKey(), value));
      acks.add(producer.send(record));
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
