package io.txgw.common.kafka;

import io.txgw.common.config.ConfigReader;
import io.txgw.common.config.Setting;
import java.util.List;
import java.util.Map;

/**
 * How many brokers hold each txgw topic, and how many must hold a write before it is taken. The
 * journal is the only guard against paying twice: with one replica, one broker's lost disk forgets
 * it. Production keeps three replicas and takes a write ({@code acks=all}) once two hold it, so one
 * broker may be down and none of what was taken is lost; a one-broker cluster (the local stack)
 * says 1 and 1.
 *
 * @param replication replicas of every partition, set when a topic is created and checked at start
 * @param minInsync the topics' {@code min.insync.replicas}, at most {@code replication}
 */
public record TopicSettings(int replication, int minInsync) {
  public static final Setting<Integer> REPLICATION =
      Setting.integer(
          "TXGW_TOPIC_REPLICATION",
          3,
          1,
          32,
          "replicas of every txgw topic, set when created and checked at start (1 only on a"
              + " one-broker cluster)");
  public static final Setting<Integer> MIN_INSYNC =
      Setting.integer(
          "TXGW_TOPIC_MIN_INSYNC",
          2,
          1,
          32,
          "min.insync.replicas of every txgw topic: replicas holding a write before it is taken");

  public static final List<Setting<?>> SETTINGS = List.of(REPLICATION, MIN_INSYNC);

  /** A cluster of one broker: the local stack and the tests. */
  public static final TopicSettings ONE_BROKER = new TopicSettings(1, 1);

  public TopicSettings {
    if (replication < 1 || minInsync < 1 || minInsync > replication) {
      throw new IllegalArgumentException(
          "min.insync.replicas "
              + minInsync
              + " must be between 1 and the replication factor "
              + replication);
    }
  }

  /** From the environment; null after a problem is recorded. */
  public static TopicSettings read(ConfigReader reader) {
    Integer replication = reader.get(REPLICATION);
    Integer minInsync = reader.get(MIN_INSYNC);
    if (replication == null || minInsync == null) {
      return null;
    }
    if (minInsync > replication) {
      // Every write would be refused: no partition ever has that many replicas in sync.
      reader.problem(
          MIN_INSYNC.name()
              + " "
              + minInsync
              + " is above "
              + REPLICATION.name()
              + " "
              + replication
              + ": no write could ever be taken");
      return null;
    }
    return new TopicSettings(replication, minInsync);
  }

  /** These settings as the environment a txgw process reads them from. */
  public Map<String, String> env() {
    return Map.of(
        REPLICATION.name(), Integer.toString(replication),
        MIN_INSYNC.name(), Integer.toString(minInsync));
  }
}
