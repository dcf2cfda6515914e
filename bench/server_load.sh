#!/bin/bash
# bench/server_load.sh [--seconds=N] [--record]
#
# Load benchmark of `pkictl server` (docs/server.md), loopback only, against Debian's
# `cfssl serve` signing the same CSRs:
#   - leaves per second, p50 / p99 latency over keep-alive connections with 2 and 16
#     connections: pkictl over HTTP (--insecure-http) and HTTPS, cfssl over HTTP (as it
#     serves); N seconds each (default 8) after a 2 s warm-up, 3 rounds of every configuration,
#     the median reported (these machines drift by up to 30% between runs, so the
#     configurations alternate rather than run back to back). The load generator is
#     bench_load (bench/load/loadgen.c, 2 threads), an ordinary process on the same cores;
#   - CPU time of server, signer and load generator over each run, RSS of server and signer
#     at its end;
#   - `openssl speed -seconds 1 ecdsap256` right before each measured run: the limit (one CSR
#     verification + one signature per leaf, on every core) next to that run, and the ratio of
#     the run to it; at the start also `-seconds 3`, and `openssl speed -multi NCPU`, the same
#     with every core busy at once (its ratio to the one-core figure scales each run's limit);
#   - pkictl over HTTP and HTTPS again with --pin-cpus (each worker and its signer on one CPU);
#     PIN_ROWS=0 leaves these out;
#   - WRK_ROWS=1 (default): the same runs with wrk and bench/load/sign.lua as the load
#     generator (pkictl HTTP and HTTPS, cfssl), a cross-check by a tool we did not write;
#   - with NODELAY_ROW=1, a diagnostic row: pkictl over HTTPS with TCP_NODELAY forced on its
#     sockets by a preload (bench/load/nodelay.c), to show what Nagle's algorithm costs;
#   - callgrind: instructions per issuance (CG_LEAVES leaves minus none, front end + signer)
#     and where they go.
# Prints a summary; with --record also writes its section of docs/benchmarks.md (the part
# that starts with the bench/server_load.sh marker; appended if there is none; other
# sections are left as they are).
#
#   PKICTL=/path/to/pkictl   use this binary instead of building build-bench/ (release)
#   LOADGEN=/path/to/bench_load   the load generator (default: next to PKICTL, bench/)
#   ROUNDS=3 CG_LEAVES=500 POOL=64 THREADS=2 CONNS="2 16" WARMUP=2   sizes
#   WORKERS=N                pkictl server --workers=N for the load runs (default: its own)
# About 10 minutes with the defaults. Every server it starts is stopped on exit (trap); every
# load and valgrind run is bounded by `timeout`. Raw results: bench/results/server_load/.
set -euo pipefail

DUR=8
RECORD=0
for a in "$@"; do
  case $a in
    --seconds=*) DUR=${a#--seconds=} ;;
    --record) RECORD=1 ;;
    -h|--help) sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 [--seconds=N] [--record]" >&2; exit 2 ;;
  esac
done
case $DUR in ''|*[!0-9]*|0) echo "server_load.sh: --seconds must be a positive number" >&2; exit 2 ;; esac
: "${ROUNDS:=3}" "${CG_LEAVES:=500}" "${POOL:=64}" "${THREADS:=2}" "${CONNS:=2 16}" "${WARMUP:=2}"
: "${NODELAY_ROW:=0}" "${WORKERS:=}" "${PIN_ROWS:=1}" "${WRK_ROWS:=1}"
START=$(date +%s)
CMDLINE="bench/server_load.sh${*:+ $*}"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
HELPER=$BENCH/server_report.py
LUA=$BENCH/load/sign.lua
RES=$BENCH/results/server_load
mkdir -p "$RES"
rm -rf "$RES"/*.json "$RES"/*.md "$RES"/*.txt "$RES"/cg0 "$RES"/cgN

for t in wrk cfssl cfssljson valgrind callgrind_annotate openssl python3 curl; do
  command -v "$t" >/dev/null || { "$ROOT/scripts/install-deps.sh" --bench; break; }
done
for t in wrk cfssl cfssljson valgrind callgrind_annotate openssl python3 curl cc; do
  command -v "$t" >/dev/null || { echo "server_load.sh: $t not found" >&2; exit 1; }
done

if [ -z "${PKICTL:-}" ]; then
  echo "== building pkictl (release) in build-bench/"
  [ -f "$ROOT/build-bench/build.ninja" ] ||
    meson setup "$ROOT/build-bench" "$ROOT" --buildtype=release -Dtests=false >/dev/null
  ninja -C "$ROOT/build-bench" pkictl bench/bench_load >/dev/null
  PKICTL=$ROOT/build-bench/pkictl
fi
PKICTL=$(realpath "$PKICTL")
# The load generator (bench/load/loadgen.c), built next to pkictl unless LOADGEN is given.
: "${LOADGEN:=$(dirname "$PKICTL")/bench/bench_load}"
if [ ! -x "$LOADGEN" ]; then
  echo "server_load.sh: no load generator at $LOADGEN (ninja -C BUILD bench/bench_load, or set LOADGEN=)" >&2
  exit 1
fi
"$PKICTL" --version
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
if awk '{exit !($1 > 1.0)}' /proc/loadavg; then
  echo "server_load.sh: warning: load average $(cut -d' ' -f1 /proc/loadavg) -- other work is running; timings will be noisy" >&2
fi

# --- servers: every one started is stopped on exit -----------------------------------------
W=$(mktemp -d /dev/shm/pkictl-load.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    kill -0 "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null
  done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
  done
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$NODELAY_ROW" = 1 ]; then
  cc -shared -fPIC -O2 -o "$W/nodelay.so" "$BENCH/load/nodelay.c" -ldl
fi

SRV='' URL=''
# start_pkictl DIR TIMEOUT [WRAPPER...] -- [pkictl server flags]: sets SRV, URL
start_pkictl() {
  local dir=$1 limit=$2 wrap=()
  shift 2
  while [ "$1" != -- ]; do wrap+=("$1"); shift; done
  shift
  rm -f "$dir/server.addr"
  "${wrap[@]}" "$PKICTL" server --data-dir="$dir" --listen=127.0.0.1:0 "$@" 2>>"$W/server.err" &
  SRV=$!
  PIDS+=("$SRV")
  for _ in $(seq $((limit * 10))); do
    [ -s "$dir/server.addr" ] && break
    kill -0 "$SRV" 2>/dev/null || { cat "$W/server.err" >&2; echo "server_load.sh: pkictl server exited" >&2; exit 1; }
    sleep 0.1
  done
  [ -s "$dir/server.addr" ] || { echo "server_load.sh: pkictl server did not listen within $limit s" >&2; exit 1; }
  URL=$(cat "$dir/server.addr")
}
# descendants PID: every process under PID (workers, signers)
descendants() {
  local k
  for k in $(cat /proc/"$1"/task/*/children 2>/dev/null); do echo "$k"; descendants "$k"; done
}
# stop PID [any]: SIGTERM, wait (bounded); the exit status must be 0 unless "any"
stop() {
  local rc=0 kids k
  kids=$(descendants "$1")
  kill -TERM "$1"
  for _ in $(seq 600); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$1" 2>/dev/null; then
    kill -KILL "$1"; echo "server_load.sh: pid $1 still running 60 s after SIGTERM, killed" >&2; exit 1
  fi
  wait "$1" || rc=$?
  if [ "${2:-}" != any ] && [ $rc != 0 ]; then
    echo "server_load.sh: pid $1 exited with status $rc after SIGTERM" >&2; exit 1
  fi
  for k in $kids; do   # workers and signers (under valgrind they write their profiles now)
    for _ in $(seq 600); do kill -0 "$k" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$k" 2>/dev/null && { kill -KILL "$k"; echo "server_load.sh: pid $k (under $1) outlived it, killed" >&2; exit 1; }
  done
  return 0
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- 1. the limit --------------------------------------------------------------------------
echo "== openssl speed -seconds 3 ecdsap256 (the limit)"
timeout 60 openssl speed -seconds 3 ecdsap256 2>/dev/null >"$RES/openssl-speed.txt"
tail -1 "$RES/openssl-speed.txt"
NCPU=$(nproc)
echo "== openssl speed -multi $NCPU -seconds 3 ecdsap256 (every core at once)"
timeout 60 openssl speed -multi "$NCPU" -seconds 3 ecdsap256 2>/dev/null >"$RES/openssl-speed-multi.txt"
tail -1 "$RES/openssl-speed-multi.txt"
# single: "256 bits ecdsa (nistp256) T T SIGN VERIFY"; -multi: the same line with the totals
sp() { awk '/256 bits ecdsa \(nistp256\)/ {s = $(NF - 1); v = $NF} END {print s, v}' "$1"; }
read -r S1 V1 < <(sp "$RES/openssl-speed.txt")
read -r SM VM < <(sp "$RES/openssl-speed-multi.txt")
for v in "$S1" "$V1" "$SM" "$VM"; do
  case $v in ''|*[!0-9.]*) echo "server_load.sh: cannot read openssl speed's output" >&2; exit 1 ;; esac
done
printf '{"sign_s": %s, "verify_s": %s, "multi_sign_s": %s, "multi_verify_s": %s, "multi_n": %s}\n' \
  "$S1" "$V1" "$SM" "$VM" "$NCPU" >"$RES/speed.json"

# --- 2. set-up: pkictl data dir (no rate limit), CSR pool, cfssl CA ------------------------
echo "== set-up: pkictl data dir, $POOL CSRs, cfssl CA"
D=$W/pkictl
start_pkictl "$D" 30 -- --insecure-http
TOKEN=$(cat "$D/operator.token")
curl -sf -X PUT -H "X-Consul-Token: $TOKEN" \
  -d '{"Provider":"consul","Config":{"CSRMaxPerSecond":0}}' "$URL/v1/connect/ca/configuration" >/dev/null
curl -sf -H "X-Consul-Token: $TOKEN" "$URL/v1/connect/ca/configuration" | grep -q '"CSRMaxPerSecond":0' ||
  { echo "server_load.sh: CSRMaxPerSecond is not 0" >&2; exit 1; }
TD=$(curl -sf "$URL/v1/connect/ca/roots" | python3 -c 'import json,sys; print(json.load(sys.stdin)["TrustDomain"])')
"$BENCH/load/gen_csrs.sh" "$POOL" "$TD" "$W/pool"
# Both sides must reject a CSR whose signature does not verify (so both do the check we time).
code=$(curl -s -o "$W/neg.txt" -w '%{http_code}' -H "X-Consul-Token: $TOKEN" \
  --data-binary @"$W/pool/bad-sig-pkictl.json" "$URL/v1/connect/ca/sign")
[ "$code" = 400 ] || { echo "server_load.sh: pkictl took a CSR with a bad signature ($code)" >&2; exit 1; }
curl -sf -H "X-Consul-Token: $TOKEN" --data-binary @"$W/pool/pkictl/000.json" \
  "$URL/v1/connect/ca/sign" | python3 -c 'import json,sys; print(json.load(sys.stdin)["CertPEM"], end="")' >"$W/pkictl-leaf.pem"
stop "$SRV"
cp -a "$D" "$W/pkictl-snapshot"   # for the callgrind runs: same state, no load history

CF=$W/cfssl
mkdir -p "$CF"
(cd "$CF" && cfssl gencert -initca "$BENCH/load/cfssl-ca-csr.json" 2>/dev/null | cfssljson -bare ca)
CFPORT=$(free_port)
start_cfssl() {
  cfssl serve -address 127.0.0.1 -port "$CFPORT" -ca "$CF/ca.pem" -ca-key "$CF/ca-key.pem" \
    -config "$BENCH/load/cfssl-config.json" >>"$W/cfssl.log" 2>&1 &
  CFPID=$!
  PIDS+=("$CFPID")
  for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$CFPORT/api/v1/cfssl/scaninfo" && return 0
    kill -0 "$CFPID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$W/cfssl.log" >&2; echo "server_load.sh: cfssl serve did not start" >&2; exit 1
}
start_cfssl
neg=$(curl -s --data-binary @"$W/pool/bad-sig-cfssl.json" "http://127.0.0.1:$CFPORT/api/v1/cfssl/sign")
case $neg in *'"success":false'*) ;; *) echo "server_load.sh: cfssl took a CSR with a bad signature: $neg" >&2; exit 1 ;; esac
curl -sf --data-binary @"$W/pool/cfssl/000.json" "http://127.0.0.1:$CFPORT/api/v1/cfssl/sign" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["certificate"])' >"$W/cfssl-leaf.pem"
stop "$CFPID" any
for t in pkictl cfssl; do
  openssl x509 -in "$W/$t-leaf.pem" -noout -ext subjectAltName,extendedKeyUsage,keyUsage 2>/dev/null |
    tr -s ' \n' ' ' | sed "s/^/$t leaf: /"; echo
done | tee "$RES/leaves.txt"

# --- 3. load ---------------------------------------------------------------------------------
# load NAME URL KIND PIDS [wrk]: warm-up, then the measured run, for every connection count.
# The load generator is bench_load (bench/load/loadgen.c); with "wrk", wrk with
# bench/load/sign.lua instead (same requests, same checks), as a cross-check. Both run as
# ordinary processes on the same cores as the server.
load() {
  local name=$1 url=$2 kind=$3 pids=$4 c tok=() ca=() gen phase dur
  [ "$kind" = pkictl ] && tok=("$TOKEN")
  [ "$kind" = pkictl ] && [ "${url#https}" != "$url" ] && ca=(--cafile="$D/ca.pem")
  for c in $CONNS; do
    for phase in warmup run; do
      dur=$DUR
      [ $phase = warmup ] && dur=$WARMUP
      if [ "${5:-}" = wrk ]; then
        gen=(wrk -t"$THREADS" -c"$c" -d"${dur}s" --latency --timeout 10s -s "$LUA" "$url" --
             "$kind" "$W/pool" "${tok[@]}")
      else
        gen=("$LOADGEN" --url="$url" --kind="$kind" --dir="$W/pool" ${tok:+--token="$tok"}
             "${ca[@]}" --threads="$THREADS" --connections="$c" --duration="$dur" --timeout=10)
      fi
      if [ $phase = warmup ]; then
        timeout $((WARMUP + 30)) "${gen[@]}" >"$W/warmup.txt" ||
          { cat "$W/warmup.txt" >&2; echo "server_load.sh: warm-up of $name failed" >&2; exit 1; }
      else
        # The limit right before the run: the machine's speed drifts over the ~10 minutes of
        # the benchmark, so each run is compared with the limit measured next to it.
        timeout 30 openssl speed -seconds 1 ecdsap256 2>/dev/null >"$RES/speed-$name-c$c-r$ROUND.txt"
        printf '%-14s c=%-3s' "$name" "$c"
        python3 "$HELPER" run "$RES/run-$name-c$c-r$ROUND.json" "$DUR" "$pids" -- "${gen[@]}"
      fi
    done
  done
}
WFLAG=()
[ -n "$WORKERS" ] && WFLAG=(--workers="$WORKERS")
for ROUND in $(seq "$ROUNDS"); do
  echo "== load, round $ROUND/$ROUNDS: ${DUR} s per run after ${WARMUP} s warm-up, $THREADS client threads, connections: $CONNS"
  start_pkictl "$D" 30 -- --insecure-http "${WFLAG[@]}"
  load pkictl-http "$URL" pkictl "$SRV"
  stop "$SRV"
  start_cfssl
  load cfssl-http "http://127.0.0.1:$CFPORT" cfssl "$CFPID"
  stop "$CFPID" any
  start_pkictl "$D" 30 -- "${WFLAG[@]}"
  load pkictl-https "$URL" pkictl "$SRV"
  stop "$SRV"
  if [ "$PIN_ROWS" = 1 ]; then
    start_pkictl "$D" 30 -- --insecure-http --pin-cpus "${WFLAG[@]}"
    load pkictl-http-pinned "$URL" pkictl "$SRV"
    stop "$SRV"
    start_pkictl "$D" 30 -- --pin-cpus "${WFLAG[@]}"
    load pkictl-https-pinned "$URL" pkictl "$SRV"
    stop "$SRV"
  fi
  if [ "$WRK_ROWS" = 1 ]; then
    start_pkictl "$D" 30 -- --insecure-http "${WFLAG[@]}"
    load pkictl-http-wrk "$URL" pkictl "$SRV" wrk
    stop "$SRV"
    start_pkictl "$D" 30 -- "${WFLAG[@]}"
    load pkictl-https-wrk "$URL" pkictl "$SRV" wrk
    stop "$SRV"
    start_cfssl
    load cfssl-http-wrk "http://127.0.0.1:$CFPORT" cfssl "$CFPID" wrk
    stop "$CFPID" any
  fi
  if [ "$NODELAY_ROW" = 1 ]; then
    start_pkictl "$D" 30 env LD_PRELOAD="$W/nodelay.so" -- "${WFLAG[@]}"
    load pkictl-https-nodelay "$URL" pkictl "$SRV"
    stop "$SRV"
  fi
done
ISSUED=$(grep -c '"leaf.issue"' "$D/audit.log" || true)
"$PKICTL" audit verify "$D/audit.log" --data-dir="$D" >"$W/audit-verify.txt" 2>&1 &&
  AUDIT="\`pkictl audit verify\` passes on the audit log after the load ($ISSUED \`leaf.issue\` lines)" ||
  AUDIT="\`pkictl audit verify\` FAILS on the audit log after the load: $(head -c 300 "$W/audit-verify.txt")"
echo "$AUDIT"

# --- 4. callgrind: instructions per issuance -------------------------------------------------
# One worker if the server has workers, so the profile is one request path end to end.
CGFLAGS=(--insecure-http)
"$PKICTL" server --help | grep -q -- '--workers' && CGFLAGS+=(--workers=1)
CG_COMMAND="pkictl server ${CGFLAGS[*]}"
echo "== callgrind: $CG_COMMAND, $CG_LEAVES leaves and none"
for n in 0 "$CG_LEAVES"; do
  out=$RES/cg$([ "$n" = 0 ] && echo 0 || echo N)
  rm -rf "$out" "$W/cgdir" && mkdir -p "$out" && cp -a "$W/pkictl-snapshot" "$W/cgdir"
  start_pkictl "$W/cgdir" 120 valgrind --tool=callgrind --trace-children=yes \
    --callgrind-out-file="$out/callgrind.out.%p" -- "${CGFLAGS[@]}"
  # One request in both runs (so it cancels out): the worker is serving, and a SIGTERM now
  # cannot reach it before it handles SIGTERM (a SIGTERM in that window makes the server exit 1).
  curl -sf --max-time 120 -o /dev/null "$URL/v1/connect/ca/roots"
  [ "$n" = 0 ] || timeout 300 python3 "$HELPER" client "$URL" "$TOKEN" "$W/pool" "$n"
  stop "$SRV"
done
python3 "$HELPER" callgrind "$RES" "$CG_LEAVES"

# --- report -----------------------------------------------------------------------------------
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
START="$START" PKICTL="$PKICTL" ROOT="$ROOT" LOAD_START="$LOAD_START" LOAD_END="$LOAD_END" \
  CMDLINE="$CMDLINE" DUR="$DUR" WARMUP="$WARMUP" POOL="$POOL" THREADS="$THREADS" CONNS="$CONNS" \
  AUDIT="$AUDIT" CG_COMMAND="$CG_COMMAND" python3 - "$RES/meta.json" <<'PY'
import json, os, subprocess, sys, time
E = os.environ
def sh(*c):
    r = subprocess.run(c, capture_output=True, text=True)
    return (r.stdout + r.stderr).strip()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
json.dump({
    "command": E["CMDLINE"], "date": sh("date", "-u", "+%Y-%m-%d %H:%M UTC"),
    "elapsed_min": max(1, round((time.time() - int(E["START"])) / 60)),
    "pkictl_version": sh(E["PKICTL"], "--version").splitlines()[0],
    "git": sh("git", "-C", E["ROOT"], "describe", "--always", "--dirty"),
    "ncpu": len(os.sched_getaffinity(0)), "cpu": cpu, "openssl": sh("openssl", "version"),
    "wrk": sh("wrk", "-v").splitlines()[0].split(" [")[0],
    "cfssl": sh("cfssl", "version").splitlines()[0].replace("Version: ", ""),
    "valgrind": sh("valgrind", "--version"),
    "load_start": E["LOAD_START"], "load_end": E["LOAD_END"],
    "seconds": int(E["DUR"]), "warmup": int(E["WARMUP"]), "pool": int(E["POOL"]),
    "threads": int(E["THREADS"]), "conns": [int(c) for c in E["CONNS"].split()],
    "audit": E["AUDIT"], "cg_command": E["CG_COMMAND"],
    "leaves": open(os.path.dirname(sys.argv[1]) + "/leaves.txt").read().strip(),
}, open(sys.argv[1], "w"), indent=1)
PY
python3 "$HELPER" section "$RES" "$RES/section.md"
if [ $RECORD = 1 ]; then
  python3 "$HELPER" record "$ROOT/docs/benchmarks.md" "$RES/section.md"
  echo "== wrote the bench/server_load.sh section of docs/benchmarks.md"
else
  echo "== section for docs/benchmarks.md in $RES/section.md (--record writes it)"
fi
echo "== done in $(( $(date +%s) - START )) s"
