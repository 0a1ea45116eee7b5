#!/usr/bin/env bash
# The main job: builds txgw, starts Kafka (KRaft), ZooKeeper, anvil, bcoin regtest, the gateway
# and a consumer on loopback, posts a payroll batch per chain (1,000 payouts each unless given
# another count), waits for every result, checks every recipient on chain, and stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
# Maven 3.8 prints colour resets even in batch mode: stripped here, its messages kept.
mvn -B -ntp -q -DskipTests install 2>&1 | sed $'s/\e\\[[0-9;]*m//g'

exec java -cp "deploy/target/classes:$(cat deploy/target/classpath.txt)" \
  -Dtxgw.nodes.dir=deploy/nodes io.txgw.deploy.Demo "$@"
