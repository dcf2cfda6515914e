#!/bin/bash
# bench/run.sh [--quick]
#
# Times the same job -- a CA, a node certificate (3 DNS SANs + 1 IP) and a client certificate,
# each with a new key, in a fresh directory -- done by pkictl, the openssl CLI, GnuTLS certtool
# and cfssl, for ECDSA P-256 and RSA-2048, and writes docs/benchmarks.md.
#
#   PKICTL=/path/to/pkictl   use this binary instead of building build-bench/ (release)
#   ECDSA_RUNS, RSA_RUNS, WARMUP   override the hyperfine run counts
#   --quick                  few runs, for a smoke test (the report says so)
#
# Needs: hyperfine, openssl, certtool (gnutls-bin), cfssl + cfssljson (golang-cfssl), valgrind,
# python3, meson + ninja (unless PKICTL is set). Raw results go to bench/results/.
set -euo pipefail

QUICK=0
case ${1:-} in
  "") ;;
  --quick) QUICK=1 ;;
  -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
esac
if [ $QUICK = 1 ]; then
  : "${ECDSA_RUNS:=5}" "${RSA_RUNS:=5}" "${WARMUP:=1}" "${KEYGEN_RUNS:=5}"
else
  # RSA gets as many runs as ECDSA: a whole RSA round of the four tools takes ~1.5 s here,
  # and RSA key generation time is random, so its median needs the samples more.
  : "${ECDSA_RUNS:=30}" "${RSA_RUNS:=30}" "${WARMUP:=3}" "${KEYGEN_RUNS:=20}"
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
JOBS=$BENCH/jobs
RES=$BENCH/results
mkdir -p "$RES"
rm -rf "${RES:?}"/*

"$ROOT/scripts/install-deps.sh" --bench
for t in hyperfine openssl certtool cfssl cfssljson valgrind python3; do
  command -v "$t" >/dev/null || { echo "run.sh: $t not found" >&2; exit 1; }
done

# --- pkictl, release build ---------------------------------------------------------------
if [ -z "${PKICTL:-}" ]; then
  echo "== building pkictl (release) in build-bench/"
  if [ ! -f "$ROOT/build-bench/build.ninja" ]; then
    rm -rf "$ROOT/build-bench"    # left over from a failed setup
    meson setup "$ROOT/build-bench" "$ROOT" --buildtype=release -Dtests=false
  fi
  ninja -C "$ROOT/build-bench"
  PKICTL=$ROOT/build-bench/pkictl
fi
PKICTL=$(realpath "$PKICTL")
export PKICTL
"$PKICTL" --version

cut -d' ' -f1-3 /proc/loadavg >"$RES/loadavg-start.txt"
if awk '{exit !($1 > 1.0)}' /proc/loadavg; then
  echo "run.sh: warning: load average $(cut -d' ' -f1 /proc/loadavg) -- other work is running; timings will be noisy" >&2
fi

# --- work dir on tmpfs ---------------------------------------------------------------------
# /dev/shm: pkictl fsyncs every file and its folder, the others do not; on a real disk the
# fsyncs would dominate and vary with the device. On tmpfs fsync returns at once.
WORK=$(mktemp -d /dev/shm/pkictl-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
TOOLS=(pkictl openssl certtool cfssl)

# --- verify once per tool and key type before timing -------------------------------------
echo "== verifying each job's output"
for kt in ecdsa rsa; do
  for t in "${TOOLS[@]}"; do
    "$JOBS/$t-job.sh" "$WORK/$t" "$kt" >/dev/null 2>"$WORK/$t.err" \
      || { cat "$WORK/$t.err" >&2; echo "run.sh: $t job ($kt) failed" >&2; exit 1; }
    "$BENCH/verify.sh" "$t" "$WORK/$t" "$kt"
  done
  "$JOBS/openssl-min-job.sh" "$WORK/openssl-min" "$kt" >/dev/null 2>&1
  "$BENCH/verify.sh" openssl "$WORK/openssl-min" "$kt" | sed 's/openssl/openssl-min/'
done

# --- wall clock: one hyperfine invocation per key type, the four jobs side by side --------
for kt in ecdsa rsa; do
  if [ $kt = ecdsa ]; then runs=$ECDSA_RUNS; else runs=$RSA_RUNS; fi
  echo "== hyperfine, $kt, $runs runs"
  args=()
  for t in "${TOOLS[@]}"; do args+=(-n "$t" "$JOBS/$t-job.sh $WORK/$t $kt"); done
  hyperfine -N --warmup "$WARMUP" --runs "$runs" --export-json "$RES/hyperfine-$kt.json" "${args[@]}"
done

# --- physical limits -----------------------------------------------------------------------
echo "== openssl speed"
openssl speed -seconds 1 ecdsap256 rsa2048 >"$RES/openssl-speed.txt" 2>/dev/null
tail -4 "$RES/openssl-speed.txt"
# openssl speed has no key generation figure; RSA keygen dominates the RSA job, so estimate
# it as (genpkey RSA-2048) - (genpkey P-256), the latter being nearly all process start-up.
echo "== reference timings: RSA-2048 key generation, empty job, 3-process openssl ($KEYGEN_RUNS runs)"
hyperfine -N --warmup 1 --runs "$KEYGEN_RUNS" --export-json "$RES/hyperfine-reference.json" \
  -n genpkey-rsa2048 "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out /dev/null" \
  -n genpkey-p256 "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out /dev/null" \
  -n empty-job "$JOBS/_empty-job.sh $WORK/empty ecdsa" \
  -n pkictl "$JOBS/pkictl-job.sh $WORK/pkictl ecdsa" \
  -n openssl-min "$JOBS/openssl-min-job.sh $WORK/openssl-min ecdsa"

# --- what tmpfs hides: the pkictl ECDSA job on the disk that holds the repo ------------------
echo "== pkictl ecdsa job on disk ($(df -T "$RES" | awk 'NR==2 {print $2}'), $KEYGEN_RUNS runs)"
hyperfine -N --warmup 1 --runs "$KEYGEN_RUNS" --export-json "$RES/hyperfine-disk.json" \
  -n pkictl-disk "$JOBS/pkictl-job.sh $RES/disk-work ecdsa" \
  -n openssl-disk "$JOBS/openssl-job.sh $RES/disk-work ecdsa"
rm -rf "$RES/disk-work"
df -T "$RES" | awk 'NR==2 {print $1, $2}' >"$RES/disk-fs.txt"

# --- instruction counts (callgrind), ECDSA ---------------------------------------------------
# Every tool process of the job runs under callgrind (BENCH_WRAP); the per-process totals are
# summed. cfssl is Go and does not run under valgrind, so it is left out.
echo "== callgrind, ecdsa"
for t in pkictl openssl openssl-min certtool; do
  cg=$WORK/cg-$t
  mkdir -p "$cg"
  BENCH_WRAP="valgrind --tool=callgrind --callgrind-out-file=$cg/callgrind.out.%p" \
    "$JOBS/$t-job.sh" "$WORK/cgout-$t" ecdsa >/dev/null 2>"$cg/log"
  "$BENCH/verify.sh" "${t%-min}" "$WORK/cgout-$t" ecdsa >/dev/null
  # one line per process, in start order: instructions <TAB> command line
  # (the "totals:" line of a callgrind.out file is callgrind_annotate's PROGRAM TOTALS and
  # valgrind's "Collected")
  for f in $(cd "$cg" && ls callgrind.out.* | sort -t. -k3 -n); do
    n=$(awk '/^totals:/ {print $2}' "$cg/$f")
    cmd=$(awk '/^cmd:/ {sub(/^cmd: +/, ""); print; exit}' "$cg/$f")
    printf '%s\t%s\n' "$n" "$cmd"
  done >"$RES/callgrind-$t.tsv"
  mkdir -p "$RES/callgrind-$t" && cp "$cg"/callgrind.out.* "$RES/callgrind-$t/"
  awk -F'\t' -v t=$t '{s+=$1; n++} END {printf "%-11s %2d processes %'"'"'15d instructions\n", t, n, s}' "$RES/callgrind-$t.tsv"
done

cut -d' ' -f1-3 /proc/loadavg >"$RES/loadavg-end.txt"

# --- report ----------------------------------------------------------------------------------
python3 "$BENCH/report.py" --results "$RES" --out "$ROOT/docs/benchmarks.md" \
  --pkictl "$PKICTL" --quick "$QUICK" --warmup "$WARMUP" --work "$WORK"
echo "== wrote docs/benchmarks.md"
