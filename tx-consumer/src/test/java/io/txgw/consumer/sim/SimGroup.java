package io.txgw.consumer.sim;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * The consumer group on {@code sendto} as its coordinator sees it: the members of the current
 * generation, who owns which partition, and the committed offsets.
 *
 * <p>Models the classic group protocol with an eager assignor, the kafka-clients default (range
 * before cooperative-sticky): every rebalance takes every partition from every member and deals
 * them out again under a new generation. A member learns its new generation and partitions only at
 * its next poll, so until then its commits carry the old generation and fail, as they would for a
 * member the real coordinator had to evict to finish the rebalance.
 */
final class SimGroup {
  static final String ID = "txgw";

  static final Comparator<TopicPartition> ORDER =
      Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

  private final List<TopicPartition> partitions;
  private int generation;

  /** Members the next rebalance deals to; sorted by id so that only the seed decides a deal. */
  private final Map<String, SimConsumer> live = new TreeMap<>();

  /** Members whose session expired; each learns of it at its next poll. */
  private final Set<String> expired = new TreeSet<>();

  /** The generation each member was last dealt partitions in, and the partitions. */
  private final Map<String, Integer> dealtIn = new TreeMap<>();

  private final Map<String, List<TopicPartition>> owners = new TreeMap<>();
  private final Map<TopicPartition, Long> offsets = new HashMap<>();
  private final Map<TopicPartition, String> metadata = new HashMap<>();

  /** What a member is told at the poll after a rebalance. */
  record Deal(int generation, List<TopicPartition> partitions) {}

  SimGroup(List<TopicPartition> partitions) {
    this.partitions = List.copyOf(partitions);
  }

  int generation() {
    return generation;
  }

  void join(SimConsumer member) {
    SimConsumer holder = live.get(member.memberId());
    if (holder != null && holder != member) {
      throw new IllegalArgumentException("member id " + member.memberId() + " is in use");
    }
    expired.remove(member.memberId());
    live.put(member.memberId(), member);
  }

  /** A clean leave or a crash: the member's partitions wait for the next rebalance. */
  void leave(String memberId) {
    live.remove(memberId);
    expired.remove(memberId);
    dealtIn.remove(memberId);
    owners.remove(memberId);
  }

  void expire(String memberId) {
    if (!live.containsKey(memberId)) {
      throw new IllegalStateException(memberId + " is not a live member");
    }
    leave(memberId);
    expired.add(memberId);
  }

  /** True once, at the first poll after the member's session expired. */
  boolean takeExpired(String memberId) {
    return expired.remove(memberId);
  }

  boolean isLive(String memberId) {
    return live.containsKey(memberId);
  }

  List<SimConsumer> liveMembers() {
    return List.copyOf(live.values());
  }

  void rebalance(Random random) {
    generation++;
    List<String> members = new ArrayList<>(live.keySet());
    Collections.shuffle(members, random);
    List<TopicPartition> deck = new ArrayList<>(partitions);
    Collections.shuffle(deck, random);
    dealtIn.clear();
    owners.clear();
    for (String m : members) {
      dealtIn.put(m, generation);
      owners.put(m, new ArrayList<>());
    }
    for (int i = 0; !members.isEmpty() && i < deck.size(); i++) {
      owners.get(members.get(i % members.size())).add(deck.get(i));
    }
    owners.values().forEach(list -> list.sort(ORDER));
  }

  /** The deal of a generation newer than {@code known}, or null if there is none for the member. */
  Deal newDeal(String memberId, int known) {
    Integer dealt = dealtIn.get(memberId);
    if (dealt == null || dealt <= known) {
      return null;
    }
    return new Deal(dealt, List.copyOf(owners.get(memberId)));
  }

  Map<String, List<TopicPartition>> assignments() {
    Map<String, List<TopicPartition>> copy = new LinkedHashMap<>();
    owners.forEach((m, ps) -> copy.put(m, List.copyOf(ps)));
    return copy;
  }

  /**
   * Why offsets sent to a transaction must be refused, or null if they are accepted. Member and
   * generation are what the coordinator checks on a TxnOffsetCommit since KIP-447; ownership it
   * does not check (a current member's assignment is current), but a member committing a partition
   * it was not dealt is a bug worth a loud failure here.
   */
  CommitFailedException refusal(ConsumerGroupMetadata metadata, Collection<TopicPartition> tps) {
    String member = metadata.memberId();
    if (!ID.equals(metadata.groupId())) {
      return new CommitFailedException("unknown group " + metadata.groupId());
    }
    if (!live.containsKey(member)) {
      return new CommitFailedException("member " + member + " is not in the group");
    }
    if (metadata.generationId() != generation) {
      return new CommitFailedException(
          "member "
              + member
              + " commits with generation "
              + metadata.generationId()
              + "; the group is at "
              + generation);
    }
    List<TopicPartition> owned = owners.getOrDefault(member, List.of());
    for (TopicPartition tp : tps) {
      if (!owned.contains(tp)) {
        return new CommitFailedException("member " + member + " does not own " + tp);
      }
    }
    return null;
  }

  void commit(Map<TopicPartition, OffsetAndMetadata> committed) {
    committed.forEach((tp, o) -> offsets.put(tp, o.offset()));
    committed.forEach((tp, o) -> metadata.put(tp, o.metadata()));
  }

  /** The metadata committed with the partition's offset, as the broker keeps it. */
  String metadata(TopicPartition tp) {
    return metadata.get(tp);
  }

  Long offset(TopicPartition tp) {
    return offsets.get(tp);
  }

  Map<TopicPartition, Long> offsets() {
    Map<TopicPartition, Long> sorted = new LinkedHashMap<>();
    offsets.keySet().stream().sorted(ORDER).forEach(tp -> sorted.put(tp, offsets.get(tp)));
    return sorted;
  }
}
