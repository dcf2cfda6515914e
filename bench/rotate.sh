#!/bin/bash
# bench/rotate.sh [--record]
#
# Times, on tmpfs:
#   - `pkictl cluster init --profile=k3s` (5 CAs, 13 leaves, 3 plain keys, one RSA-2048), next to
#     the same manifest with no RSA key and `openssl genpkey` RSA-2048 / P-256, to show what the
#     RSA key generation costs;
#   - a full CA rotation of a cluster of LEAVES (1,000) P-256 leaves: `ca stage`, then `ca rotate`
#     (every leaf re-issued under the new CA), each on a fresh copy of the initialized cluster;
#   - `openssl speed -seconds 3 ecdsap256`, the floor, and the ratio of the rotation to it;
#   - callgrind instruction counts (init, stage, rotate) and where `ca rotate` spends them.
# Prints a summary; with --record also writes its section of docs/benchmarks.md (the part that
# starts with the bench/rotate.sh marker; appended if there is none).
#
#   PKICTL=/path/to/pkictl   use this binary instead of building build-bench/ (release)
#   LEAVES=1000 ROT_RUNS=5 STAGE_RUNS=10 INIT_RUNS=30 K3S_CG_RUNS=3   sizes and run counts
# Takes 2-3 minutes here (the callgrind run of `ca rotate` is about 1.5 minutes of it); every
# long step runs under `timeout`. Needs hyperfine, valgrind, openssl, python3, script (util-linux).
# Raw results: bench/results/rotate/.
set -euo pipefail

RECORD=0
case ${1:-} in
  "") ;;
  --record) RECORD=1 ;;
  -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0 [--record]" >&2; exit 2 ;;
esac
: "${LEAVES:=1000}" "${ROT_RUNS:=5}" "${STAGE_RUNS:=10}" "${INIT_RUNS:=30}" "${K3S_CG_RUNS:=3}"
START=$(date +%s)

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
HELPER=$BENCH/rotate_report.py
RES=$BENCH/results/rotate
mkdir -p "$RES"
rm -f "$RES"/*.json "$RES"/*.md "$RES"/*.txt "$RES"/callgrind.out.*

for t in hyperfine valgrind callgrind_annotate openssl python3 script; do
  command -v "$t" >/dev/null || { "$ROOT/scripts/install-deps.sh" --bench; break; }
done
for t in hyperfine valgrind openssl python3 script; do
  command -v "$t" >/dev/null || { echo "rotate.sh: $t not found" >&2; exit 1; }
done

if [ -z "${PKICTL:-}" ]; then
  echo "== building pkictl (release) in build-bench/"
  [ -f "$ROOT/build-bench/build.ninja" ] ||
    meson setup "$ROOT/build-bench" "$ROOT" --buildtype=release -Dtests=false >/dev/null
  ninja -C "$ROOT/build-bench" >/dev/null
  PKICTL=$ROOT/build-bench/pkictl
fi
PKICTL=$(realpath "$PKICTL")
"$PKICTL" --version
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
if awk '{exit !($1 > 1.0)}' /proc/loadavg; then
  echo "rotate.sh: warning: load average $(cut -d' ' -f1 /proc/loadavg) -- other work is running; timings will be noisy" >&2
fi

# --- work dir on tmpfs (pkictl fsyncs every file; on tmpfs that returns at once) ------------
W=$(mktemp -d /dev/shm/pkictl-rotate.XXXXXX)
trap 'rm -rf "$W"' EXIT
D=$W/d          # the cluster a run works on
S=$W/s          # its staging folder
C0=$W/c0        # the initialized cluster, copied for every run
CG="valgrind --tool=callgrind"

# --- 1. cluster init, k3s ------------------------------------------------------------------
echo "== cluster init --profile=k3s ($INIT_RUNS runs), with and without the RSA key"
"$PKICTL" cluster profile k3s >"$W/k3s.json"
python3 - "$W/k3s.json" "$W/k3s-no-rsa.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for k in m.get("keys", []):
    if k.get("key_type", "rsa") == "rsa":   # service.key: P-256 instead of RSA-2048
        k["key_type"] = "ecdsa"; k.pop("key_size", None)
json.dump(m, open(sys.argv[2], "w"), indent=1)
PY
mkdir "$D"
"$PKICTL" cluster init --profile=k3s --dir="$D" >/dev/null   # must work before timing
python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print("k3s: %d CAs, %d leaves, %d keys (%s)" % (len(m["cas"]), len(m["leaves"]), len(m["keys"]), ", ".join(k["name"]+" "+k.get("key_type","rsa") for k in m["keys"])))' "$D/pkictl-cluster.json"
FRESH="bash -c 'rm -rf $D $S && mkdir $D'"
timeout 300 hyperfine -N --warmup 2 --runs "$INIT_RUNS" --export-json "$RES/hf-init.json" \
  --prepare "$FRESH" -n k3s "$PKICTL cluster init --profile=k3s --dir=$D" \
  --prepare "$FRESH" -n k3s-no-rsa "$PKICTL cluster init --manifest=$W/k3s-no-rsa.json --dir=$D" \
  --prepare "$FRESH" -n genpkey-rsa2048 "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out /dev/null" \
  --prepare "$FRESH" -n genpkey-p256 "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out /dev/null" \
  | grep -E '^(Benchmark|  Time)'

collected() { awk '/Collected/ {print $4}'; }
echo "== callgrind: cluster init (k3s x$K3S_CG_RUNS, no-rsa x1)"
K3S_IR=()
for _ in $(seq "$K3S_CG_RUNS"); do
  rm -rf "$D" && mkdir "$D"
  K3S_IR+=("$(timeout 120 $CG --callgrind-out-file=/dev/null "$PKICTL" cluster init --profile=k3s --dir="$D" 2>&1 >/dev/null | collected)")
done
rm -rf "$D" && mkdir "$D"
NORSA_IR=$(timeout 120 $CG --callgrind-out-file=/dev/null "$PKICTL" cluster init --manifest="$W/k3s-no-rsa.json" --dir="$D" 2>&1 >/dev/null | collected)
echo "k3s: ${K3S_IR[*]} instructions; no-rsa: $NORSA_IR"

# --- 2. CA rotation of LEAVES leaves --------------------------------------------------------
echo "== ca stage / ca rotate, $LEAVES P-256 leaves"
python3 "$HELPER" manifest "$LEAVES" "$W/rot.json"
mkdir "$C0"
"$PKICTL" cluster init --manifest="$W/rot.json" --dir="$C0" | tail -1
FRESH_COPY="rm -rf $D $S && cp -a $C0 $D"

# Progress line on a terminal (script gives pkictl a pty), and none on a pipe.
bash -c "$FRESH_COPY" && "$PKICTL" ca stage --dir="$D" --out="$S" >/dev/null
timeout 120 script -qec "$PKICTL ca rotate --dir=$D --path=$S" /dev/null >"$W/tty.txt"
if grep -aq "re-issuing leaves: $LEAVES/$LEAVES" "$W/tty.txt"; then
  PROGRESS="\`re-issuing leaves: $LEAVES/$LEAVES\` shown, rewritten in place (carriage return) $(tr '\r' '\n' <"$W/tty.txt" | grep -ac '^re-issuing leaves: ') updates"
else
  PROGRESS="NOT shown"
fi
"$PKICTL" cluster status --dir="$D" >/dev/null || { echo "rotate.sh: cluster status not ok after the rotation" >&2; exit 1; }
FILES=$(find "$D" -type f | wc -l)
bash -c "$FRESH_COPY" && "$PKICTL" ca stage --dir="$D" --out="$S" >/dev/null
"$PKICTL" ca rotate --dir="$D" --path="$S" 2>"$W/pipe-err.txt" | tail -1
[ -s "$W/pipe-err.txt" ] && PROGRESS="$PROGRESS; ALSO on a pipe (stderr not a terminal)"
echo "progress line: $PROGRESS"

timeout 300 hyperfine -N --warmup 1 --runs "$STAGE_RUNS" --export-json "$RES/hf-stage.json" \
  --prepare "bash -c '$FRESH_COPY'" -n stage "$PKICTL ca stage --dir=$D --out=$S" \
  | grep -E '^(Benchmark|  Time)'
timeout 300 hyperfine -N --warmup 1 --runs "$ROT_RUNS" --export-json "$RES/hf-rot.json" \
  --prepare "bash -c '$FRESH_COPY && $PKICTL ca stage --dir=$D --out=$S >/dev/null'" \
  -n rotate "$PKICTL ca rotate --dir=$D --path=$S" \
  | grep -E '^(Benchmark|  Time)'
python3 - "$RES" <<'PY'
import json, sys
r = sys.argv[1]
out = {"results": json.load(open(r + "/hf-stage.json"))["results"] + json.load(open(r + "/hf-rot.json"))["results"]}
json.dump(out, open(r + "/hf-rotate.json", "w"))
PY

echo "== callgrind: ca stage, ca rotate (takes a minute or two)"
bash -c "$FRESH_COPY"
timeout 120 $CG --callgrind-out-file="$RES/callgrind.out.stage" "$PKICTL" ca stage --dir="$D" --out="$S" >/dev/null 2>"$W/cg-stage.log"
timeout 480 $CG --callgrind-out-file="$RES/callgrind.out.rotate" "$PKICTL" ca rotate --dir="$D" --path="$S" >/dev/null 2>"$W/cg-rotate.log"
python3 "$HELPER" callgrind "$RES/callgrind.out.rotate" "$RES/cg-rotate.json"
python3 "$HELPER" callgrind "$RES/callgrind.out.stage" "$RES/cg-stage.json" >/dev/null
callgrind_annotate --inclusive=yes "$RES/callgrind.out.rotate" >"$W/annotate.txt" 2>/dev/null || true
grep -v '???:0x' "$W/annotate.txt" | sed -n '/PROGRAM TOTALS/,$p' | sed -n '1,60p' >"$RES/rotate-inclusive.txt"
PYTHONPATH=$BENCH python3 - "$RES" "$NORSA_IR" "${K3S_IR[@]}" <<'PY'
import json, sys
from rotate_report import parse_callgrind
r, norsa, k3s = sys.argv[1], int(sys.argv[2]), [int(x) for x in sys.argv[3:]]
total, edges, _ = parse_callgrind(r + "/callgrind.out.stage")
json.dump({"init-k3s": k3s, "init-k3s-no-rsa": norsa, "stage": total,
           "stage-load": edges.get(("ca_stage", "cl_work_begin"), (0, 0))[1]},
          open(r + "/counts.json", "w"), indent=1)
PY

# --- 3. the floor ---------------------------------------------------------------------------
echo "== openssl speed -seconds 3 ecdsap256"
timeout 60 openssl speed -seconds 3 ecdsap256 2>/dev/null >"$RES/openssl-speed.txt"
tail -1 "$RES/openssl-speed.txt"
awk '/256 bits ecdsa \(nistp256\)/ {printf "{\"sign_s\": %s, \"verify_s\": %s}\n", $7, $8}' \
  "$RES/openssl-speed.txt" >"$RES/speed.json"

# --- report ---------------------------------------------------------------------------------
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
START="$START" PKICTL="$PKICTL" ROOT="$ROOT" LOAD_START="$LOAD_START" LOAD_END="$LOAD_END" \
  LEAVES="$LEAVES" FILES="$FILES" PROGRESS="$PROGRESS" python3 - "$RES/meta.json" <<'PY'
import json, os, subprocess, sys, time
E = os.environ
def sh(*c):
    return subprocess.run(c, capture_output=True, text=True).stdout.strip()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
json.dump({
    "date": sh("date", "-u", "+%Y-%m-%d %H:%M UTC"),
    "elapsed_min": max(1, round((time.time() - int(E["START"])) / 60)),
    "pkictl_version": sh(E["PKICTL"], "--version").splitlines()[0],
    "git": sh("git", "-C", E["ROOT"], "describe", "--always", "--dirty"),
    "nproc": len(os.sched_getaffinity(0)), "cpu": cpu,
    "openssl": sh("openssl", "version"), "hyperfine": sh("hyperfine", "--version"),
    "valgrind": sh("valgrind", "--version"), "work_fs": "/dev/shm",
    "load_start": E["LOAD_START"], "load_end": E["LOAD_END"],
    "leaves": int(E["LEAVES"]), "files": int(E["FILES"]), "progress": E["PROGRESS"],
}, open(sys.argv[1], "w"), indent=1)
PY
python3 "$HELPER" section "$RES" "$RES/section.md"
python3 - "$RES" <<'PY'
import json, sys
r = sys.argv[1]
L = lambda f: json.load(open(f"{r}/{f}"))
init = {x["command"]: x for x in L("hf-init.json")["results"]}
rot = {x["command"]: x for x in L("hf-rotate.json")["results"]}
cg, cnt, sp = L("cg-rotate.json"), L("counts.json"), L("speed.json")
signs, ver = cg["calls"]["ECDSA_do_sign_ex"], cg["calls"]["ECDSA_do_verify"]
floor = signs / sp["sign_s"]
k = sorted(cnt["init-k3s"])[len(cnt["init-k3s"]) // 2]
print("\n== summary (medians)")
print(f"cluster init k3s        {init['k3s']['median']*1e3:8.1f} ms   {k:>15,} instructions")
print(f"  same, no RSA key      {init['k3s-no-rsa']['median']*1e3:8.1f} ms   {cnt['init-k3s-no-rsa']:>15,} instructions")
print(f"  openssl genpkey RSA   {init['genpkey-rsa2048']['median']*1e3:8.1f} ms")
print(f"ca stage  ({json.load(open(r + '/meta.json'))['leaves']} leaves)  {rot['stage']['median']*1e3:8.1f} ms   {cnt['stage']:>15,} instructions")
print(f"ca rotate               {rot['rotate']['median']*1e3:8.1f} ms   {cg['total']:>15,} instructions")
print(f"openssl speed P-256     {sp['sign_s']:.0f} sign/s, {sp['verify_s']:.0f} verify/s")
print(f"rotation: {signs} signs + {ver} verifies ({cg['selfsigned_verifies']} self-signature checks); "
      f"signatures alone {floor*1e3:.1f} ms -> rotate / floor = {rot['rotate']['median']/floor:.0f}x; "
      f"with all the verifies {(floor + ver / sp['verify_s'])*1e3:.0f} ms -> {rot['rotate']['median']/(floor + ver / sp['verify_s']):.1f}x")
PY
if [ $RECORD = 1 ]; then
  python3 "$HELPER" record "$ROOT/docs/benchmarks.md" "$RES/section.md"
  echo "== wrote the bench/rotate.sh section of docs/benchmarks.md"
else
  echo "== section for docs/benchmarks.md in $RES/section.md (--record writes it)"
fi
echo "== done in $(( $(date +%s) - START )) s"
