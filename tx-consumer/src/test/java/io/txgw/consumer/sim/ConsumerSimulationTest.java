package io.txgw.consumer.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Runs the consumer's fault simulation over many seeds. {@code -Dtxgw.sim.seeds=N} and {@code
 * -Dtxgw.sim.first=S} choose which; a failing seed is printed with its event trace and replays
 * exactly with {@code -Dtxgw.sim.first=SEED -Dtxgw.sim.seeds=1}.
 */
class ConsumerSimulationTest {
  @Test
  void noSeedLosesAPayoutPaysOneTwiceOrLeavesAnAccountWaiting() {
    long first = Long.getLong("txgw.sim.first", 1);
    int seeds = Integer.getInteger("txgw.sim.seeds", 300);
    List<ConsumerSimulation.Result> failures = new ArrayList<>();
    long steps = 0;
    long start = System.nanoTime();
    for (long seed = first; seed < first + seeds; seed++) {
      ConsumerSimulation.Result result = ConsumerSimulation.run(seed);
      steps += result.steps();
      if (!result.ok()) {
        failures.add(result);
        System.out.println("FAILED seed " + seed + ": " + result.failure());
      }
    }
    double minutes = (System.nanoTime() - start) / 60e9;
    System.out.printf(
        "simulation: %d seeds from %d, %d steps, %.1f s, %.0f seeds per minute, %d failed%n",
        seeds, first, steps, minutes * 60, seeds / minutes, failures.size());
    if (!failures.isEmpty()) {
      ConsumerSimulation.Result f = failures.get(0);
      List<String> trace = f.trace();
      System.out.println("trace of seed " + f.seed() + " (last 300 events):");
      trace.subList(Math.max(0, trace.size() - 300), trace.size()).forEach(System.out::println);
      System.out.println(
          "failing seeds: " + failures.stream().map(ConsumerSimulation.Result::seed).toList());
    }
    assertThat(failures).extracting(ConsumerSimulation.Result::failure).isEmpty();
  }
}
