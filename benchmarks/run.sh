#!/usr/bin/env bash
# Runs one benchmark against a stack it starts itself on loopback, and prints its figures.
#   benchmarks/run.sh exactly-once [payouts per account, default 500] [accounts, default 4]
#   benchmarks/run.sh btc-batching [payouts, default 1000]
#   benchmarks/run.sh budget [budget req/s, default 200] [payouts per account, default 150]
#                            [window seconds, default 10]
#   benchmarks/run.sh ingest [batches, default 300] [single payouts, default 60000]
#                            [single-payout concurrency, default 256]
#   benchmarks/run.sh before-after [payouts, default 1000] [client threads, default 50]
#                                  [node capacity req/s, default 200] [btc payouts, default 1000]
#   benchmarks/run.sh visibility [payouts, default 2000]
#   benchmarks/run.sh takeover [payouts of history, default 1000000] [dedup window, default 50000]
#   benchmarks/run.sh simulate [seeds, default 100000] [first seed, default 1]
#   benchmarks/run.sh fuzz [seconds, default 60] [threads, default 8]
#   benchmarks/run.sh streams [open streams, default 2000] [batch payouts, default 10000]
#   benchmarks/run.sh finality [payouts per chain, default 1000]
#   benchmarks/run.sh airdrop [token payouts, default 1000]
#   benchmarks/run.sh jmh [JMH options]
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  simulate)
    # The consumer's seeded fault simulation, as many seeds as asked: seeds per minute and every
    # failing seed with its trace. It lives in the consumer's tests, with the simulated parts.
    mvn -B -ntp -q -DskipTests -pl tx-consumer -am install
    exec mvn -B -ntp -q -pl tx-consumer surefire:test -Dtest=ConsumerSimulationTest \
      -Dsurefire.failIfNoSpecifiedTests=false -Dtxgw.sim.seeds="${2:-100000}" \
      -Dtxgw.sim.first="${3:-1}" ;;
  takeover) main=io.txgw.consumer.JournalTakeoverBenchmark ;;
  exactly-once) main=io.txgw.bench.ExactlyOnceBenchmark ;;
  btc-batching) main=io.txgw.bench.BitcoinBatchingBenchmark ;;
  budget) main=io.txgw.bench.BudgetBenchmark ;;
  ingest) main=io.txgw.bench.IngestBenchmark ;;
  replicated-ingest) main=io.txgw.bench.ReplicatedIngestBenchmark ;;
  before-after) main=io.txgw.bench.BeforeAfterBenchmark ;;
  visibility) main=io.txgw.bench.VisibilityBenchmark ;;
  fuzz) main=io.txgw.bench.ApiFuzzBenchmark ;;
  streams) main=io.txgw.bench.EventStreamBenchmark ;;
  finality) main=io.txgw.bench.FinalityBenchmark ;;
  airdrop) main=io.txgw.bench.AirdropBenchmark ;;
  jmh) main=org.openjdk.jmh.Main
       # One fork, 3 x 2 s warm-up, 5 x 2 s measured; any JMH option given after 'jmh' wins.
       set -- jmh io.txgw.bench.jmh -f 1 -wi 3 -w 2s -i 5 -r 2s "${@:2}" ;;
  *) echo "usage: $0 exactly-once|btc-batching|budget|ingest|replicated-ingest|before-after|visibility|takeover|simulate|fuzz|streams|finality|airdrop|jmh [sizes]" >&2
     exit 2 ;;
esac
shift
mvn -B -ntp -q -DskipTests install
exec java -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
  -Dtxgw.nodes.dir=deploy/nodes "$main" "$@"
