#!/bin/bash
# bench/server_ab.sh OLD_PKICTL NEW_PKICTL [--mode=https|http] [--conns="2 16"] [--rounds=3]
#                    [--seconds=8] [--no-pin]
#
# A/B of two pkictl binaries as servers under the same load, run alternately (old, new, old,
# new, ...) so the machine's drift falls on both alike: a change of a point or two is only
# visible this way on shared machines whose speed moves by several per cent between runs.
# Each run: `openssl speed -seconds 1 ecdsap256` right before it (the limit: one CSR
# verification + one signature per leaf on every core), the server (--pin-cpus unless
# --no-pin; HTTPS unless --mode=http), a 2 s warm-up, then bench_load (2 threads) POSTing
# P-256 CSRs to /v1/connect/ca/sign for N seconds. Prints per run: leaves/s, the ratio to
# that limit, and CPU µs per leaf of each server process (utime+stime from /proc, over the
# whole leaves) and of the client; then the mean ratio per binary and connection count, and
# the per-round differences. Loopback only; every run is bounded by `timeout`.
#
#   LOADGEN=/path/to/bench_load   default: build-bench/bench/bench_load (built if missing)
#   WORK=DIR                      data dir and CSR pool (default: a new dir in /dev/shm)
set -euo pipefail

MODE=https CONNS="2 16" ROUNDS=3 DUR=8 PIN=1
[ $# -ge 2 ] || { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
OLD=$(realpath "$1") NEW=$(realpath "$2"); shift 2
for a in "$@"; do
  case $a in
    --mode=http|--mode=https) MODE=${a#--mode=} ;;
    --conns=*) CONNS=${a#--conns=} ;;
    --rounds=*) ROUNDS=${a#--rounds=} ;;
    --seconds=*) DUR=${a#--seconds=} ;;
    --no-pin) PIN=0 ;;
    *) echo "server_ab.sh: unknown argument $a" >&2; exit 2 ;;
  esac
done
for v in "$ROUNDS" "$DUR" $CONNS; do
  case $v in ''|*[!0-9]*|0) echo "server_ab.sh: counts must be positive numbers" >&2; exit 2 ;; esac
done
for b in "$OLD" "$NEW"; do [ -x "$b" ] || { echo "server_ab.sh: $b is not executable" >&2; exit 2; }; done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${LOADGEN:-}" ]; then
  LOADGEN=$ROOT/build-bench/bench/bench_load
  if [ ! -x "$LOADGEN" ]; then
    [ -f "$ROOT/build-bench/build.ninja" ] ||
      meson setup "$ROOT/build-bench" "$ROOT" --buildtype=release -Dtests=false >/dev/null
    ninja -C "$ROOT/build-bench" bench/bench_load >/dev/null
  fi
fi
WORK=${WORK:-$(mktemp -d /dev/shm/pkictl-ab.XXXXXX 2>/dev/null || mktemp -d)}
mkdir -p "$WORK"
D=$WORK/data
SRV=
cleanup() { [ -z "$SRV" ] || { kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null || true; }; }
trap cleanup EXIT

start() { # BINARY [flags]: starts a server on D, sets URL and TOKEN
  local b=$1 i; shift
  rm -f "$D/server.addr"
  "$b" server --data-dir="$D" --listen=127.0.0.1:0 "$@" 2>>"$WORK/server.err" & SRV=$!
  for i in $(seq 200); do [ -s "$D/server.addr" ] && break; sleep 0.05; done
  [ -s "$D/server.addr" ] || { echo "server_ab.sh: $b did not start (see $WORK/server.err)" >&2; exit 1; }
  URL=$(cat "$D/server.addr") TOKEN=$(cat "$D/operator.token")
}
stop() { kill "$SRV"; wait "$SRV" 2>/dev/null || true; SRV=; }

# One data dir for both (the store is the same format); rate limit off; the CSR pool.
if [ ! -d "$WORK/pool" ]; then
  start "$NEW" --insecure-http
  curl -sf -X PUT -H "X-Consul-Token: $TOKEN" \
    -d '{"Provider":"consul","Config":{"CSRMaxPerSecond":0}}' "$URL/v1/connect/ca/configuration" >/dev/null
  TD=$(curl -sf "$URL/v1/connect/ca/roots" | python3 -c 'import json,sys; print(json.load(sys.stdin)["TrustDomain"])')
  stop
  "$ROOT/bench/load/gen_csrs.sh" 64 "$TD" "$WORK/pool" >/dev/null
fi

flags=(); [ "$MODE" = http ] && flags+=(--insecure-http); [ "$PIN" = 1 ] && flags+=(--pin-cpus)
echo "server_ab.sh: $MODE, connections: $CONNS, $ROUNDS rounds of ${DUR}s, pinned: $PIN"
echo "  old: $OLD ($("$OLD" --version 2>/dev/null | head -1))"
echo "  new: $NEW ($("$NEW" --version 2>/dev/null | head -1))"
RESULTS=$WORK/results.txt; : >"$RESULTS"

procs() { # the server and every process below it
  local p=$1 k
  echo "$p"
  for k in $(cat /proc/"$p"/task/*/children 2>/dev/null); do procs "$k"; done
}
cpu_of() { local p; for p in $1; do awk '{printf "%s %s ", $14, $15}' /proc/"$p"/stat; done; }

run() { # NAME BINARY CONNS
  local name=$1 bin=$2 c=$3 sp lim ps a b lg ca=()
  sp=$(openssl speed -seconds 1 ecdsap256 2>/dev/null | awk '/256 bits ecdsa/ {print $(NF-1), $NF}')
  lim=$(python3 -c "import sys; s,v=map(float,sys.argv[1:]); print(2/(1/s+1/v))" $sp)
  start "$bin" "${flags[@]}"
  [ "$MODE" = https ] && ca=(--cafile="$D/ca.pem")
  timeout 30 "$LOADGEN" --url="$URL" --kind=pkictl --dir="$WORK/pool" --token="$TOKEN" "${ca[@]}" \
    --threads=2 --connections="$c" --duration=2 >/dev/null 2>&1
  ps=$(procs "$SRV" | tr '\n' ' ')
  a=$(cpu_of "$ps")
  timeout $((DUR + 30)) "$LOADGEN" --url="$URL" --kind=pkictl --dir="$WORK/pool" --token="$TOKEN" \
    "${ca[@]}" --threads=2 --connections="$c" --duration="$DUR" >"$WORK/lg.out" 2>"$WORK/lg.err" &
  lg=$!
  wait "$lg" || { echo "server_ab.sh: the load generator failed:" >&2; cat "$WORK/lg.err" >&2; exit 1; }
  b=$(cpu_of "$ps")
  stop
  python3 - "$name" "$c" "$lim" "$DUR" "$a" "$b" "$WORK/lg.out" "$RESULTS" <<'PY'
import json, re, sys
name, c, lim, dur, a, b, out, res = sys.argv[1:]
text = open(out).read()
rate = float(re.search(r"Requests/sec:\s*([\d.]+)", text).group(1))
r = json.loads(re.search(r"^RESULT (.*)$", text, re.M).group(1))
if r["bad"] or r["ok"] == 0:
    sys.exit(f"server_ab.sh: {r['bad']} bad answers ({r['first_bad']})")
a = list(map(int, a.split())); b = list(map(int, b.split()))
n = rate * float(dur)
cpu = [((b[i] - a[i]) + (b[i + 1] - a[i + 1])) * 1e4 / n for i in range(0, len(a), 2)]
ratio = 100 * rate / float(lim)
print(f"  {name} c={c}: {rate:8.0f} leaves/s, limit {float(lim):6.0f}, {ratio:5.1f}%"
      f"  server CPU µs/leaf: {' + '.join(f'{x:.1f}' for x in cpu if x >= 0.5)} = {sum(cpu):.1f}")
with open(res, "a") as f:
    f.write(f"{name} {c} {ratio:.2f}\n")
PY
}

for r in $(seq "$ROUNDS"); do
  echo "round $r"
  for c in $CONNS; do
    run old "$OLD" "$c"
    run new "$NEW" "$c"
  done
done

python3 - "$RESULTS" <<'PY'
import collections, sys
rows = [l.split() for l in open(sys.argv[1])]
by = collections.defaultdict(list)
for name, c, ratio in rows:
    by[(name, int(c))].append(float(ratio))
print("mean ratio to the limit (each run's own):")
for c in sorted({k[1] for k in by}):
    o, n = by[("old", c)], by[("new", c)]
    diffs = [b - a for a, b in zip(o, n)]
    print(f"  c={c}: old {sum(o)/len(o):.1f}%  new {sum(n)/len(n):.1f}%  "
          f"new - old per round: {', '.join(f'{d:+.1f}' for d in diffs)}")
PY
