package io.txgw.loadgen;

import java.util.List;
import java.util.Map;

/**
 * What one producer box measured, as written to its JSON report.
 *
 * @param sentPerSecond payouts whose request was answered, per second from the barrier's release
 * @param latencyMillis request latency percentiles (p50, p90, p99, p99.9, max) in milliseconds
 * @param errors by kind (HTTP status or exception), requests that were not accepted
 * @param results by final status, once waited for; empty if not waited for
 * @param duplicates payout ids with more than one result; missing: ids with none
 */
public record LoadReport(
    int boxIndex,
    int boxes,
    int workers,
    int iterations,
    int batchSize,
    String target,
    String chain,
    long payouts,
    long requests,
    long accepted,
    double seconds,
    double payoutsPerSecond,
    List<Long> sentPerSecond,
    Map<String, Double> latencyMillis,
    Map<String, Long> errors,
    Map<String, Long> results,
    long duplicates,
    long missing,
    double secondsUntilAllFinal) {}
