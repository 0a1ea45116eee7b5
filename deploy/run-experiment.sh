#!/usr/bin/env bash
# The paper's experiment on this machine: the local stack, and BOXES producer boxes (own JVMs) x
# WORKERS threads x ITERATIONS single-payout requests (default 5 x 10 x 20 = 1,000 payouts),
# started together by a ZooKeeper barrier. Checks every payout on chain and writes
# deploy/target/experiment/report.html (throughput, latency, consumer lag, node rate vs budget).
# The consumers sign from a keystore of the development accounts and the node only takes signed
# bytes; "node-signs" as a fourth argument has the node sign each payout instead, as in the paper.
#   deploy/run-experiment.sh [boxes] [workers] [iterations] [node-signs]
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -ntp -q -DskipTests install
exec java -cp "deploy/target/classes:$(cat deploy/target/classpath.txt)" \
  -Dtxgw.nodes.dir=deploy/nodes io.txgw.deploy.PaperExperiment "${1:-5}" "${2:-10}" "${3:-20}" \
  deploy/target/experiment "${4:-keystore}"
