package io.txgw.gateway.kafka;

import io.txgw.common.kafka.JsonSerde;
import io.txgw.common.kafka.Topics;
import io.txgw.common.model.BatchRecord;
import io.txgw.common.model.Payout;
import io.txgw.common.security.RecordSeal;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;

/** What writing a batch puts on Kafka: its sealed payout records and its batch record. */
final class BatchRecords {
  private static final JsonSerde<Payout> PAYOUTS = new JsonSerde<>(Payout.class);
  private static final JsonSerde<BatchRecord> BATCHES = new JsonSerde<>(BatchRecord.class);

  /**
   * Below what Kafka takes in one record ({@link Topics#MAX_MESSAGE_BYTES}) by more than a record's
   * framing: a batch with a larger record is refused alone instead of failing its transaction.
   */
  static final int MAX_RECORD_BYTES = Topics.MAX_MESSAGE_BYTES - 1024;

  private final RecordSeal seal;

  /**
   * @param seal seals every {@code sendto} record so that consumers pay it; null writes them
   *     unsealed (writer tests), and consumers then refuse them
   */
  BatchRecords(RecordSeal seal) {
    this.seal = seal;
  }

  /**
   * The batch's records: one sealed {@code sendto} record per payout, then its batch record.
   *
   * @throws BatchWriteException TOO_LARGE when a record is larger than Kafka takes: sent, it would
   *     fail the transaction of every batch that shares it
   */
  List<ProducerRecord<String, byte[]>> of(BatchRecord batch, List<Payout> payouts) {
    List<ProducerRecord<String, byte[]>> records = new ArrayList<>(payouts.size() + 1);
    for (Payout payout : payouts) {
      String key = payout.accountKey();
      byte[] value = PAYOUTS.serialize(Topics.SENDTO, payout);
      ProducerRecord<String, byte[]> record = new ProducerRecord<>(Topics.SENDTO, key, value);
      if (seal != null) {
        record.headers().add(RecordSeal.HEADER, seal.seal(key, value));
      }
      records.add(record);
    }
    records.add(
        new ProducerRecord<>(
            Topics.BATCHES, batch.key(), BATCHES.serialize(Topics.BATCHES, batch)));
    for (ProducerRecord<String, byte[]> record : records) {
      long bytes = record.key().length() * 4L + record.value().length;
      if (bytes > MAX_RECORD_BYTES) {
        throw new BatchWriteException(
            BatchWriteException.Reason.TOO_LARGE,
            "a "
                + record.topic()
                + " record of the batch takes "
                + bytes
                + " bytes, more than the "
                + MAX_RECORD_BYTES
                + " Kafka takes",
            null);
      }
    }
    return records;
  }
}
