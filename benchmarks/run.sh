#!/usr/bin/env bash
# Runs one benchmark against a stack it starts itself on loopback, and prints its figures.
#   benchmarks/run.sh exactly-once [payouts per account, default 500] [accounts, default 4]
#   benchmarks/run.sh btc-batching [payouts, default 1000]
#   benchmarks/run.sh budget [budget req/s, default 200] [payouts per account, default 150]
#                            [window seconds, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  exactly-once) main=io.txgw.bench.ExactlyOnceBenchmark ;;
  btc-batching) main=io.txgw.bench.BitcoinBatchingBenchmark ;;
  budget) main=io.txgw.bench.BudgetBenchmark ;;
  ingest) main=io.txgw.bench.IngestBenchmark ;;
  *) echo "usage: $0 exactly-once|btc-batching|budget|ingest [sizes]" >&2; exit 2 ;;
esac
shift
mvn -B -ntp -q -DskipTests install
exec java -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
  -Dtxgw.nodes.dir=deploy/nodes "$main" "$@"
