#!/usr/bin/env bash
# Installs dependencies, builds pkictl, and runs the main job in DIR:
# a CA, a node certificate for localhost 127.0.0.1 ::1, a client
# certificate for root, then lists them.
# Usage: scripts/demo.sh DIR    (DIR/certs gets the certificates,
#                                DIR/ca.key the CA key, outside the certs dir)
set -euo pipefail
dir=${1:?usage: scripts/demo.sh DIR}
top=$(cd "$(dirname "$0")/.." && pwd)

"$top/scripts/install-deps.sh"
[ -d "$top/build" ] || meson setup "$top/build" --buildtype=release -Dtests=false >/dev/null
ninja -C "$top/build" >/dev/null
pkictl="$top/build/pkictl"

mkdir -p -m 0700 "$dir/certs"
if [ -e "$dir/ca.key" ]; then
  # pkictl never replaces a key without --overwrite; a second demo run lists.
  echo "$dir already holds a CA; listing it (remove $dir to start over)"
else
  "$pkictl" cert create-ca     --certs-dir="$dir/certs" --ca-key="$dir/ca.key"
  "$pkictl" cert create-node localhost 127.0.0.1 ::1 --certs-dir="$dir/certs" --ca-key="$dir/ca.key"
  "$pkictl" cert create-client root --certs-dir="$dir/certs" --ca-key="$dir/ca.key"
fi
"$pkictl" cert list --certs-dir="$dir/certs"
