#!/bin/bash
# bench/sign.sh: time to sign a CSR (ECDSA P-256 and RSA-2048 CAs), side by side:
#   - in-process: bench_sign signs one request N times with pkictl's core
#     (server profile + PEM encoding), after loading CA and request once;
#   - one process per signature: `pkictl cert sign` vs `openssl x509 -req`
#     (hyperfine, interleaved in one invocation);
#   - `openssl speed` as the floor: the signature alone;
#   - callgrind instructions per in-process signature.
# Writes the section of docs/benchmarks.md that starts with the sign.sh marker.
#   PKICTL=/path/to/pkictl and BENCH_SIGN=/path/to/bench_sign skip the build.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/install-deps.sh" --bench
if [ -z "${PKICTL:-}" ]; then
  [ -f "$ROOT/build-bench/build.ninja" ] ||
    meson setup "$ROOT/build-bench" --buildtype=release -Dtests=false >/dev/null
  ninja -C "$ROOT/build-bench" >/dev/null
  PKICTL=$ROOT/build-bench/pkictl
  BENCH_SIGN=$ROOT/build-bench/bench/bench_sign
fi
W=$(mktemp -d /dev/shm/pkictl-sign.XXXXXX)
trap 'rm -rf "$W"' EXIT
OUT=$W/section.md
RUNS=${RUNS:-30}

row() { printf '| %s | %s | %s | %s |\n' "$@" >>"$OUT"; }
median_ms() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["results"]; print(" ".join("%.2f" % (r["median"]*1e3) for r in d))' "$1"; }

{
  echo "<!-- bench/sign.sh section -->"
  echo "## Signing a CSR"
  echo
  echo "Command: \`bench/sign.sh\` ($(date -u '+%Y-%m-%d %H:%M UTC'), same machine and OpenSSL as above,"
  echo "work dir on tmpfs). The request is made once with \`openssl req -new\` (P-256 key, two SANs) and"
  echo "signed under the server profile by a CA of the given type."
  echo
  echo "| CA key | pkictl in-process, per signature | \`pkictl cert sign\` (process) median | \`openssl x509 -req\` (process) median |"
  echo "|---|---:|---:|---:|"
} >"$OUT"

declare -A speed
for kt in ecdsa rsa; do
  d=$W/$kt; mkdir -p "$d/ca"
  "$PKICTL" cert create-ca --certs-dir="$d/ca" --ca-key="$d/ca.key" --key-type=$kt >/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/req.key" \
    -subj /CN=db.example.com -addext "subjectAltName=DNS:db.example.com,IP:10.0.0.5" \
    -out "$d/req.csr" 2>/dev/null
  n=$([ $kt = ecdsa ] && echo 3000 || echo 500)
  inproc=$("$BENCH_SIGN" "$d/ca/ca.crt" "$d/ca.key" "$d/req.csr" $n)
  us=$(echo "$inproc" | awk '{print $3}')
  hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$W/h-$kt.json" \
    "$PKICTL cert sign $d/req.csr --ca-cert=$d/ca/ca.crt --ca-key=$d/ca.key --profile=server --out=$d/p.crt --overwrite" \
    "openssl x509 -req -in $d/req.csr -CA $d/ca/ca.crt -CAkey $d/ca.key -days 365 -copy_extensions copy -out $d/o.crt" \
    >/dev/null 2>&1
  read -r pk os <<<"$(median_ms "$W/h-$kt.json")"
  # Instructions per in-process signature: (11 signatures - 1 signature) / 10.
  i1=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BENCH_SIGN" "$d/ca/ca.crt" "$d/ca.key" "$d/req.csr" 1 2>&1 | awk '/Collected/ {print $4}')
  i11=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BENCH_SIGN" "$d/ca/ca.crt" "$d/ca.key" "$d/req.csr" 11 2>&1 | awk '/Collected/ {print $4}')
  per=$(( (i11 - i1) / 10 ))
  label=$([ $kt = ecdsa ] && echo "ECDSA P-256" || echo "RSA-2048")
  row "$label" "**$us us** ($per instructions)" "$pk ms" "$os ms ($(python3 -c "print('%.1f' % ($os/$pk))")x pkictl)"
  alg=$([ $kt = ecdsa ] && echo ecdsap256 || echo rsa2048)
  speed[$kt]=$(openssl speed -seconds 1 $alg 2>/dev/null | awk -v a=$kt '
    a=="ecdsa" && /256 bits ecdsa \(nistp256\)/ {printf "%.3f", 1000/$7}
    a=="rsa" && /^rsa 2048 bits/ {printf "%.3f", $4*1000}')
done
{
  echo
  echo "The floor, \`openssl speed -seconds 1\`: one P-256 signature takes ${speed[ecdsa]} ms, one RSA-2048"
  echo "signature ${speed[rsa]} ms. In-process, pkictl adds to that signature the building of the"
  echo "certificate (SANs checked, extensions, the public key set through OpenSSL 3.0's encoder), the"
  echo "profile's checks and PEM encoding; one process per signature is dominated by start-up."
} >>"$OUT"

DOC=$ROOT/docs/benchmarks.md
python3 - "$DOC" "$OUT" <<'PY'
import sys
doc, sec = sys.argv[1], open(sys.argv[2]).read()
text = open(doc).read() if __import__("os").path.exists(doc) else ""
at = text.find("<!-- bench/sign.sh section -->")
text = (text[:at] if at >= 0 else text.rstrip() + "\n\n") + sec
open(doc, "w").write(text)
PY
cat "$OUT"
