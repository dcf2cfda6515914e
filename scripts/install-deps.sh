#!/usr/bin/env bash
# Installs the Debian packages pkictl needs to build and test (idempotent).
# Usage: scripts/install-deps.sh [--bench]   (--bench adds the benchmark peers)
set -euo pipefail

pkgs=(
  gcc meson ninja-build pkg-config       # build
  libssl-dev libjansson-dev              # OpenSSL 3, JSON output
  libcmocka-dev                          # unit tests
  libevent-dev libsqlite3-dev            # the server: event loop + TLS, embedded store
  libcurl4-openssl-dev                   # the client commands (ca roots, ca leaf, token ...)
  openssl gnutls-bin postgresql python3 etcd-server etcd-client  # interop and e2e peers
  nginx-light curl                       # interop: TLS server and client
  clang libclang-rt-14-dev               # libFuzzer targets
  procps iproute2                        # process and port helpers in tests
)
if [ "${1:-}" = "--bench" ]; then
  pkgs+=(hyperfine golang-cfssl valgrind wrk)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ] && [ -z "${CI:-}" ]; then
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
