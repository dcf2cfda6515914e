#!/usr/bin/env bash
# Crash safety of the commands that change a cluster (docs/rotation.md, "one atomic switch of the
# whole folder"): pkictl is killed with SIGKILL at each step of the transaction
# (PKICTL_TEST_KILL_AT) and at random moments, and the cluster folder must then be either exactly
# as it was or wholly new: never a mix. The next command that takes the lock must work and
# remove the shadow copy a crash left. The clock is pinned (PKICTL_NOW); every pkictl run is
# bounded by `timeout`.
. "$(dirname "$0")/common.sh"

W="$T_TMP/w"; mkdir -p "$W"
T0=$NOW0
DAY=86400
TW=$((T0 + 300 * DAY))       # default 365d leaves have 65d left: inside the 90d window
STEPS="built shadow written synced exchanged cleaned"

# ---------------------------------------------------------------- helpers
mf() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
m = {"version": 1, "cas": [], "leaves": [], "keys": []}
exec(sys.argv[2])
json.dump(m, open(sys.argv[1], "w"), indent=1)
EOF
}
sums() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0r sha256sum | sed 's|  \./|  |'); }
changed() { diff <(cat "$1") <(sums "$2") | sed -n 's/^[<>] [0-9a-f]\{64\}  //p' | sort -u | paste -sd' ' -; }
# PK args...: pkictl, bounded in time
PK() { timeout -s KILL 60 "$PKICTL" "$@"; }
# leaf_files MANIFEST: the cert and key paths of every leaf, sorted, space-separated
leaf_files() {
    python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(" ".join(sorted([l["cert"] for l in m["leaves"]] + [l["key"] for l in m["leaves"]])))' "$1"
}
leaf_pairs() {
    python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); [print(l["cert"], l["key"]) for l in m["leaves"]]' "$1"
}
add_extras() {
    echo "my notes" >"$1/notes.txt"; mkdir -p "$1/sub"; echo "x data" >"$1/sub/x"
    chmod 640 "$1/sub/x"; chmod 750 "$1"
}
nth_key() {
    awk -v n="$2" '/-----BEGIN [A-Z ]*PRIVATE KEY-----/{i++} i==n{print} i==n && /-----END [A-Z ]*PRIVATE KEY-----/{exit}' "$1"
}
nkeys() { grep -c -- '-----BEGIN [A-Z ]*PRIVATE KEY-----' "$1"; }

# classify KIND DIR SNAPFILE SUMSFILE MANIFEST: prints "old", "new" or "mixed: why"
#   KIND leaves: new = every leaf certificate and key changed, nothing else; each key matches
#                its certificate; `cluster status --within=10d` ok; keys 0600
#   KIND key:    new = only service.key changed; it holds 2 keys, the old one second
classify() {
    local kind=$1 d=$2 snap=$3 sf=$4 man=$5 c want why="" crt key
    if [ "$(snapshot "$d")" == "$(cat "$snap")" ]; then echo old; return; fi
    c=$(changed "$sf" "$d")
    if [ "$kind" == leaves ]; then
        want=$(leaf_files "$man")
        [ "$c" == "$want" ] || why="changed [$c], want [$want]"
        if [ -z "$why" ] && [ "${CHECK_PAIRS:-1}" == 1 ]; then
            while read -r crt key; do
                [ "$(cpub "$d/$crt")" == "$(kpub "$d/$key")" ] || why="$why $key does not match $crt;"
                [ "$(mode_of "$d/$key")" == 600 ] || why="$why $key mode $(mode_of "$d/$key");"
            done < <(leaf_pairs "$man")
        fi
        if [ -z "$why" ]; then
            PKICTL_NOW=$NOWC PK cluster status --dir="$d" --within=10d >"$T_TMP/.cst" 2>&1 ||
                why="status: $(grep -Ev ' ok *$' "$T_TMP/.cst" | head -c 300)"
        fi
    else
        [ "$c" == "service.key" ] || why="changed [$c], want [service.key]"
        [ -z "$why" ] && [ "$(nkeys "$d/service.key")" != 2 ] && why="$(nkeys "$d/service.key") keys"
        [ -z "$why" ] && [ "$(nth_key "$d/service.key" 2 | openssl pkey -pubout 2>/dev/null)" != "$(cat "$W/svc.pub")" ] &&
            why="the old key is not second"
        [ -z "$why" ] && [ "$(mode_of "$d/service.key")" != 600 ] && why="mode $(mode_of "$d/service.key")"
    fi
    [ "$(mode_of "$d")" == 750 ] || why="$why dir mode $(mode_of "$d");"
    [ "$(cat "$d/sub/x" 2>/dev/null)" == "x data" ] || why="$why sub/x lost;"
    if [ -z "$why" ]; then echo new; else echo "mixed: $why"; fi
}

# after_crash "what" DIR: the next commands work and tidy up: status runs (exit 0: the clock and
# window make both states ok), renew takes the lock, removes the shadow copy, changes nothing
after_crash() {
    local what=$1 d=$2 p n s rc
    p=$(dirname "$d"); n=$(basename "$d")
    PKICTL_NOW=$NOWC PK cluster status --dir="$d" --within=10d >"$T_TMP/.out" 2>"$T_TMP/.err"; rc=$?
    is_eq "$what: then cluster status works (exit 0)" "$rc" 0
    s=$(snapshot "$d")
    PKICTL_NOW=$NOWC PK cluster renew --dir="$d" --within=10d >"$T_TMP/.out" 2>"$T_TMP/.err"; rc=$?
    is_eq "$what: then cluster renew works (exit 0)" "$rc $(head -c 200 "$T_TMP/.err")" "0 "
    absent "$what: no .$n.pkictl-txn left after renew" "$p/.$n.pkictl-txn"
    is_eq "$what: renew changed nothing" "$(snapshot "$d")" "$s"
}

# crash_at KIND STEP WANT TEMPLATE MANIFEST args...: fresh copy of TEMPLATE, killed at STEP;
# WANT old|new
RUN=0
crash_at() {
    local kind=$1 step=$2 want=$3 tpl=$4 man=$5 p d rc got; shift 5
    RUN=$((RUN + 1)); p="$T_TMP/run$RUN"; mkdir -p "$p"; d="$p/cl"
    cp -a "$tpl" "$d"
    snapshot "$d" >"$W/snap"; sums "$d" >"$W/sums"
    PKICTL_TEST_KILL_AT=$step PKICTL_NOW=$NOWC PK "$@" --dir="$d" >"$T_TMP/.out" 2>"$T_TMP/.err"; rc=$?
    local what="$* killed at $step"
    is_eq "$what: exit 137 (SIGKILL)" "$rc" 137
    got=$(classify "$kind" "$d" "$W/snap" "$W/sums" "$man")
    is_eq "$what: the folder is $want" "$got" "$want"
    after_crash "$what" "$d"
    rm -rf "$p"
}

# ---------------------------------------------------------------- the cluster (made at T0)
mf "$W/m.json" '
m["cas"] = [{"name": "ca", "cert": "ca.crt", "key": "ca.key", "subject": "/O=pkictl/CN=crash CA"}]
m["leaves"] = [
  {"name": "node", "ca": "ca", "cert": "node.crt", "key": "node.key", "subject": "/CN=node",
   "sans": ["dns:localhost", "ip:127.0.0.1"], "usage": "both"},
  {"name": "client", "ca": "ca", "cert": "client.crt", "key": "client.key", "subject": "/CN=client",
   "usage": "client"},
  {"name": "peer", "ca": "ca", "cert": "etcd/peer.crt", "key": "etcd/peer.key", "subject": "/CN=peer",
   "sans": ["dns:peer.local"], "usage": "both"}]
m["keys"] = [{"name": "service", "key": "service.key", "key_type": "ecdsa"}]'
TPL="$T_TMP/tpl"; mkdir -p "$TPL"
PKICTL_NOW=$T0 pk_ok "setup: the cluster" cluster init --manifest="$W/m.json" --dir="$TPL"
add_extras "$TPL"
kpub "$TPL/service.key" >"$W/svc.pub"

# ================================================================ cluster rotate, each step
NOWC=$T0
for s in $STEPS leaves:1; do
    case $s in exchanged|cleaned) want=new ;; *) want=old ;; esac
    crash_at leaves "$s" "$want" "$TPL" "$W/m.json" cluster rotate
done

# ================================================================ cluster renew --new-key, in the window
NOWC=$TW
for s in $STEPS leaves:1; do
    case $s in exchanged|cleaned) want=new ;; *) want=old ;; esac
    crash_at leaves "$s" "$want" "$TPL" "$W/m.json" cluster renew --new-key
done

# ================================================================ cluster rotate-key
NOWC=$T0
for s in $STEPS; do
    case $s in exchanged|cleaned) want=new ;; *) want=old ;; esac
    crash_at key "$s" "$want" "$TPL" "$W/m.json" cluster rotate-key --name=service
done

# the hook at a step that is never reached: the run completes
p="$T_TMP/nokill"; mkdir -p "$p"; cp -a "$TPL" "$p/cl"; snapshot "$p/cl" >"$W/snap"; sums "$p/cl" >"$W/sums"
NOWC=$T0
PKICTL_TEST_KILL_AT=nosuchstep PKICTL_NOW=$T0 pk_ok "rotate with the hook at an unknown step completes" cluster rotate --dir="$p/cl"
is_eq "unknown step: the folder is new" "$(classify leaves "$p/cl" "$W/snap" "$W/sums" "$W/m.json")" new

# ================================================================ random kills, 40 leaves
mf "$W/big.json" '
m["cas"] = [{"name": "ca", "cert": "ca.crt", "key": "ca.key", "subject": "/CN=big CA"}]
m["leaves"] = [{"name": "l%02d" % i, "ca": "ca", "cert": ("d%d/" % (i % 4)) + "l%02d.crt" % i,
                "key": ("d%d/" % (i % 4)) + "l%02d.key" % i, "subject": "/CN=l%02d" % i,
                "sans": ["dns:l%02d.local" % i], "usage": "both"} for i in range(40)]
m["keys"] = [{"name": "service", "key": "service.key", "key_type": "ecdsa"}]'
BIG="$T_TMP/big"; mkdir -p "$BIG"
PKICTL_NOW=$T0 pk_ok "setup: a cluster with 40 leaves" cluster init --manifest="$W/big.json" --dir="$BIG"
add_extras "$BIG"
NOWC=$T0
# random_runs LABEL COUNT MAXMS: COUNT runs of `cluster rotate` on copies of BIG, each sent
# SIGKILL after a random delay of 0..MAXMS ms; old or new every time
random_runs() {
    local label=$1 count=$2 max=$3 i p d ms pid rc got n_old=0 n_new=0 n_killed=0
    for i in $(seq 1 "$count"); do
        p="$T_TMP/rnd$i"; mkdir -p "$p"; d="$p/cl"; cp -a "$BIG" "$d"
        snapshot "$d" >"$W/snap"; sums "$d" >"$W/sums"
        ms=$((RANDOM % (max + 1)))
        # pkictl itself runs in the background ($! is its pid); the kill below bounds it in time
        PKICTL_NOW=$T0 "$PKICTL" cluster rotate --dir="$d" >"$T_TMP/.out" 2>"$T_TMP/.err" &
        pid=$!
        sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
        kill -KILL "$pid" 2>/dev/null
        { wait "$pid"; } 2>/dev/null; rc=$?
        [ "$rc" -eq 137 ] && n_killed=$((n_killed + 1))
        case $rc in 0|137) ok "$label $i (${ms}ms): exit $rc" ;;
            *) not_ok "$label $i (${ms}ms): exit 0 or 137" "exit $rc: $(head -c 300 "$T_TMP/.err")" ;; esac
        got=$(CHECK_PAIRS=0 classify leaves "$d" "$W/snap" "$W/sums" "$W/big.json")
        case $got in
            old) n_old=$((n_old + 1)); ok "$label $i (${ms}ms): the folder is old" ;;
            new) n_new=$((n_new + 1)); ok "$label $i (${ms}ms): the folder is new" ;;
            *) not_ok "$label $i (${ms}ms): the folder is old or new" "$got" ;;
        esac
        if [ "$rc" -eq 0 ]; then is_eq "$label $i: a completed run leaves the new state" "$got" new; fi
        after_crash "$label $i" "$d"
        rm -rf "$p"
    done
    echo "# $label: $n_killed of $count killed; $n_old old, $n_new new"
}
random_runs "random kill (0-30ms)" 20 30
# a whole run takes longer than 30ms (key generation, then fsyncs): spread 10 more kills over
# 0..1.2x its measured length, so that some land after the switch
p="$T_TMP/timed"; mkdir -p "$p"; cp -a "$BIG" "$p/cl"
t1=$(date +%s%N); PKICTL_NOW=$T0 PK cluster rotate --dir="$p/cl" >/dev/null 2>&1; t2=$(date +%s%N)
full=$(( (t2 - t1) / 1000000 )); rm -rf "$p"
echo "# a whole 40-leaf rotate took ${full}ms"
random_runs "random kill (0-$((full * 6 / 5))ms)" 10 $((full * 6 / 5 + 1))

finish
