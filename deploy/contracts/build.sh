#!/usr/bin/env bash
# Compiles deploy/contracts into the folder given (the deploy module's classes): the build runs
# it, so the contracts a deployment uses are the sources in this folder. Installs the npm
# packages beside the nodes first if they are missing (solc-js and OpenZeppelin among them).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
nodes="$here/../nodes"
if [ ! -f "$nodes/node_modules/solc/soljson.js" ] || [ ! -f "$nodes/node_modules/@openzeppelin/contracts/package.json" ]; then
  (cd "$nodes" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error > npm-install.log 2>&1) \
    || { cat "$nodes/npm-install.log" >&2; exit 1; }
fi
node "$here/compile.js" "$1"
