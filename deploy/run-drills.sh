#!/usr/bin/env bash
# The five fault drills on the local cluster (three Kafka nodes, three ZooKeeper servers, two
# gateways, three consumers, anvil, three peered bcoin nodes), each during a run of its own:
#   deploy/run-drills.sh [payouts per drill, default 10000]
# (1) kill -9 the Kafka node leading most sendto partitions, restart it; (2) kill -9 the ZooKeeper
# leader, restart it; (3) kill -9 one gateway while clients post, clients retrying the other;
# (4) cut one consumer off Kafka and ZooKeeper for longer than its sessions, then reconnect it;
# (5) kill the bcoin node in use and start it again. After each: every payout checked on chain
# and on the results topic. Prints the report and keeps it in deploy/target/drills/report.md.
set -euo pipefail
cd "$(dirname "$0")/.."
payouts="${1:-10000}"
case "$payouts" in
  ''|*[!0-9]*) echo "usage: $0 [payouts per drill, default 10000]" >&2; exit 2 ;;
esac
mvn -B -ntp -q -DskipTests install 2>&1 | sed $'s/\e\\[[0-9;]*m//g'
rm -f deploy/target/drills/report.tsv deploy/target/drills/report.md
set +e
mvn -B -ntp -pl deploy verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
  -Dit.test=DrillsIT -Dtxgw.drill.payouts="$payouts" 2>&1 \
  | sed $'s/\e\\[[0-9;]*m//g' > deploy/target/drills.log
status=${PIPESTATUS[0]}
set -e
report=deploy/target/drills/report.tsv
if [ ! -s "$report" ]; then
  echo "no drill finished; see deploy/target/drills.log" >&2
  exit 1
fi
{
  echo "| drill | payouts | lost | paid twice | results wrong | not once on sendto | copies of batches in doubt | batches taken during fault | client retries | longest wait for a batch s | fault lasted s | whole again after repair s | first payout posted during fault paid after s | all final after s |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  sed 's/\t/ | /g; s/^/| /; s/$/ |/' "$report"
} | tee deploy/target/drills/report.md
grep -E "Tests run:|FAIL" deploy/target/drills.log | tail -3
exit "$status"
