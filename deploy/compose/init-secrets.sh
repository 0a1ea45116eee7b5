#!/usr/bin/env bash
# Makes the secrets docker-compose.yml mounts, in deploy/compose/secrets/, once: a record-sealing
# key, an API key, a ZooKeeper identity, Grafana's admin password and a clients file to edit.
# Existing files are kept. Prints the API key once; it is not shown again.
#
# The directory is its owner's only (0700): that is what keeps the secrets on this machine. The
# files in it are 0644 because Compose bind-mounts each one as it is into the containers, whose
# users (not root, not you) must read them.
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)/secrets"
mkdir -p "$dir"
chmod 700 "$dir"

random() { head -c "$1" /dev/urandom | base64 | tr -d '\n=+/' ; }

make() {
  local file="$dir/$1"
  if [[ -e "$file" ]]; then
    echo "kept $file"
    return 1
  fi
  ( umask 022; cat > "$file" )
  echo "made $file"
}

# id=base64 of 32 random bytes: the first key seals sendto records, every listed key verifies.
make record-keys <<< "k1=$(head -c 32 /dev/urandom | base64 | tr -d '\n')" || true
make zk-auth <<< "txgw:$(random 24)" || true
make grafana-admin-password <<< "$(random 24)" || true
key="$(random 32)"
if make api-keys <<< "demo/operator:read+pay=$key"; then
  echo "API key of client demo (person operator): $key"
fi
# A client may spend only from the sources listed: put yours (CHAIN:account or CHAIN:wallet).
make clients.json <<'JSON' || true
{
  "clients": {
    "demo": {
      "spend": ["ETH:0x0000000000000000000000000000000000000001", "BTC:primary"]
    }
  }
}
JSON
