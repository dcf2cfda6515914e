#!/usr/bin/env bash
# cluster renew / recover / rotate / rotate-key (docs/rotation.md), with a pinned clock
# (PKICTL_NOW, never a sleep): the renewal window and its exact boundary, idempotence, --within,
# expired leaves, --new-key, missing and mismatched keys, drift, CAs near or past their end,
# recovery by key, rotation of leaves and of plain keys, and what every change must keep: no
# `.NAME.pkictl-txn` left, the folder's mode and foreign files, symlinked paths, the lock.
. "$(dirname "$0")/common.sh"

W="$T_TMP/w"; mkdir -p "$W"
T0=$NOW0
DAY=86400

# ---------------------------------------------------------------- helpers
# mf OUT PYCODE: a manifest (variable m, changed by PYCODE) written to OUT
mf() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
m = {"version": 1, "cas": [], "leaves": [], "keys": []}
exec(sys.argv[2])
json.dump(m, open(sys.argv[1], "w"), indent=1)
EOF
}
# sums DIR: "sha256  path" for every file, sorted
sums() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0r sha256sum | sed 's|  \./|  |'); }
# changed SUMS_FILE DIR: the paths added, removed or changed since SUMS_FILE, space-separated
changed() {
    diff <(cat "$1") <(sums "$2") | sed -n 's/^[<>] [0-9a-f]\{64\}  //p' | sort -u | paste -sd' ' -
}
# changed_certs SUMS_FILE DIR: the same, .crt files only
changed_certs() { changed "$1" "$2" | tr ' ' '\n' | grep '\.crt$' | paste -sd' ' -; }
eku()   { cext "$1" extendedKeyUsage | tail -n +2 | sed 's/^ *//'; }
# props CERT: what a renewal must keep: subject, SANs, EKU
props() { echo "$(csubject "$1")|$(san_list "$1" | paste -sd, -)|$(eku "$1")"; }
nth_key() {
    awk -v n="$2" '/-----BEGIN [A-Z ]*PRIVATE KEY-----/{i++} i==n{print} i==n && /-----END [A-Z ]*PRIVATE KEY-----/{exit}' "$1"
}
nkeys() { grep -c -- '-----BEGIN [A-Z ]*PRIVATE KEY-----' "$1"; }
kpub_n() { nth_key "$1" "$2" | openssl pkey -pubout 2>/dev/null; }
# vfy "what" CA LEAF [openssl verify args]
vfy() { local w=$1 ca=$2 leaf=$3; shift 3; check "$w" openssl verify "$@" -CAfile "$ca" "$leaf"; }
# keeps_extras "what" DIR: after a change: no shadow copy left, DIR's mode, foreign files kept
keeps_extras() {
    local d=$2 p n bad=""
    p=$(dirname "$(cd "$d" && pwd -P)"); n=$(basename "$(cd "$d" && pwd -P)")
    [ -e "$p/.$n.pkictl-txn" ] && bad="$bad .$n.pkictl-txn-left"
    [ "$(mode_of "$d")" == 750 ] || bad="$bad dir-mode=$(mode_of "$d")"
    [ "$(cat "$d/notes.txt" 2>/dev/null)" == "my notes" ] || bad="$bad notes.txt"
    [ "$(cat "$d/sub/x" 2>/dev/null)" == "x data" ] || bad="$bad sub/x"
    [ "$(mode_of "$d/sub/x")" == 640 ] || bad="$bad sub/x-mode"
    [ "$(mode_of "$d/sub")" == 711 ] || bad="$bad sub-mode"
    [ "$(mode_of "$d/etcd")" == 700 ] || bad="$bad etcd-mode"
    if [ -z "$bad" ]; then ok "$1: no shadow left, modes and foreign files kept"
    else not_ok "$1: no shadow left, modes and foreign files kept" "$bad"; fi
}
# chg "what" DIR args...: a changing command that must succeed (pk_ok) and keep the extras
chg() { local w=$1 d=$2; shift 2; pk_ok "$w" "$@"; keeps_extras "$w" "$d"; }
# refused "what" CODE DIR args...: pkictl exits CODE, its last stderr line starts with
# "pkictl: ", and DIR (and its parent's entries) did not change
refused() {
    local what=$1 want=$2 d=$3 s ps rc; shift 3
    s=$(snapshot "$d"); ps=$(find "$(dirname "$d")" -mindepth 1 -maxdepth 1 ! -name "*.pkictl-lock" | sort)
    "$PKICTL" "$@" >"$T_TMP/.out" 2>"$T_TMP/.err"; rc=$?
    if [ "$rc" -ne "$want" ]; then not_ok "$what" "exit $rc, want $want: $(head -c 400 "$T_TMP/.err")"
    elif ! tail -n 1 "$T_TMP/.err" | grep -q '^pkictl: '; then
        not_ok "$what" "last stderr line is not 'pkictl: ...': $(head -c 400 "$T_TMP/.err")"
    else ok "$what"; fi
    if [ "$(snapshot "$d")" == "$s" ] && [ "$(find "$(dirname "$d")" -mindepth 1 -maxdepth 1 ! -name "*.pkictl-lock" | sort)" == "$ps" ]
    then ok "$what: nothing changed"
    else not_ok "$what: nothing changed" "$(diff <(echo "$s") <(snapshot "$d") | head -n 6)"; fi
}
# same_snap "what" DIR SNAPSHOT_TEXT
same_snap() { is_eq "$1" "$(snapshot "$2")" "$3"; }
# fresh NAME [BASE]: a copy of the base cluster at $T_TMP/NAME
fresh() { rm -rf "${T_TMP:?}/$1"; cp -a "${2:-$BASE}" "$T_TMP/$1"; echo "$T_TMP/$1"; }
# st CODE DIR [args]: cluster status exit code
st_rc() { "$PKICTL" cluster status "$@" >"$T_TMP/st.out" 2>"$T_TMP/st.err"; echo $?; }
add_extras() {
    echo "my notes" >"$1/notes.txt"; mkdir -p "$1/sub"; echo "x data" >"$1/sub/x"
    chmod 640 "$1/sub/x"; chmod 711 "$1/sub"; chmod 750 "$1"
}

# ---------------------------------------------------------------- the base cluster, at T0
# CA 1000d; node 30d (both), web 200d (server), client and etcd/peer default (365d); service key
mf "$W/life.json" '
m["cas"] = [{"name": "ca", "cert": "ca.crt", "key": "ca.key", "subject": "/O=pkictl/CN=life CA",
             "lifetime": "1000d"}]
m["leaves"] = [
  {"name": "node", "ca": "ca", "cert": "node.crt", "key": "node.key", "subject": "/O=pkictl/CN=node",
   "sans": ["dns:localhost", "ip:127.0.0.1"], "usage": "both", "lifetime": "30d"},
  {"name": "web", "ca": "ca", "cert": "web.crt", "key": "web.key", "subject": "/CN=web",
   "sans": ["dns:web.local", "ip:10.0.0.1"], "usage": "server", "lifetime": "200d"},
  {"name": "client", "ca": "ca", "cert": "client.crt", "key": "client.key", "subject": "/CN=client",
   "usage": "client"},
  {"name": "peer", "ca": "ca", "cert": "etcd/peer.crt", "key": "etcd/peer.key", "subject": "/CN=peer",
   "sans": ["dns:peer.local"], "usage": "both"}]
m["keys"] = [{"name": "service", "key": "service.key"}]'
BASE="$T_TMP/base"; mkdir -p "$BASE"
PKICTL_NOW=$T0 pk_ok "setup: cluster init at T0" cluster init --manifest="$W/life.json" --dir="$BASE"
add_extras "$BASE"
LEAVES="node web client peer"
lf() { case $1 in peer) echo "etcd/peer";; *) echo "$1";; esac; }   # leaf -> file stem
for l in $LEAVES; do props "$BASE/$(lf "$l").crt" >"$W/props.$l"; done
is_eq "setup: node lasts 30d" "$(not_after "$BASE/node.crt")" $((T0 + 30 * DAY))
is_eq "setup: web lasts 200d" "$(not_after "$BASE/web.crt")" $((T0 + 200 * DAY))
is_eq "setup: client lasts 365d" "$(not_after "$BASE/client.crt")" $((T0 + 365 * DAY))
sums "$BASE" >"$W/base.sums"

# renewed_ok "what" DIR LEAF T: the renewed leaf verifies at T under DIR's CA, keeps its
# subject, SANs and EKU, and its key matches it
renewed_ok() {
    local d=$2 f; f=$(lf "$3")
    vfy "$1: verifies under ca.crt at the clock" "$d/ca.crt" "$d/$f.crt" -attime "$4"
    is_eq "$1: subject, SANs and EKU kept" "$(props "$d/$f.crt")" "$(cat "$W/props.$3")"
    matches "$1: key matches" "$d/$f.crt" "$d/$f.key"
}
# key_kept "what" DIR LEAF / key_new "what" DIR LEAF: public key compared with the base's
key_kept() { same "$1" "$(cpub "$2/$(lf "$3").crt")" "$(kpub "$BASE/$(lf "$3").key")"; }
key_new()  { is_ne "$1" "$(cpub "$2/$(lf "$3").crt")" "$(kpub "$BASE/$(lf "$3").key")"; }

# ================================================================ renew at T0
A=$(fresh a); SA=$(snapshot "$A")
PKICTL_NOW=$T0 chg "renew at T0 --within=10d" "$A" cluster renew --dir="$A" --within=10d
out_has "renew at T0 --within=10d: nothing to renew" '^nothing to renew'
same_snap "renew at T0 --within=10d: every file byte-identical" "$A" "$SA"
is_eq "renew at T0 --within=10d: no warning" "$(cat "$T_TMP/.err")" ""
# the default 90d window holds the 30d node, but a renewal at T0 would end when it ends now
PKICTL_NOW=$T0 chg "renew at T0 (default window)" "$A" cluster renew --dir="$A"
out_has "renew at T0: nothing to renew" '^nothing to renew'
same_snap "renew at T0: every file byte-identical" "$A" "$SA"
err_has "renew at T0: a warning that node would not last longer" '^warning: .*node'

# ================================================================ node (30d): the --within=10d boundary
BN=$((T0 + 20 * DAY))                     # node's notAfter - 10d
B=$(fresh b); SB=$(snapshot "$B")
PKICTL_NOW=$((BN - 1)) chg "renew --within=10d one second before node's window" "$B" cluster renew --dir="$B" --within=10d
out_has "one second before: nothing to renew" '^nothing to renew'
same_snap "one second before: nothing changed" "$B" "$SB"
PKICTL_NOW=$BN chg "renew --within=10d exactly at node's window" "$B" cluster renew --dir="$B" --within=10d
out_has "at the boundary: prints 'renewed node (REASON) until DATE' (docs/rotation.md)" "^renewed node \\([^)]*\\) until $(ymd $((BN + 30 * DAY)))"
out_has "at the boundary: a renewed line for node" '^renewed .*\bnode\b'
is_eq "at the boundary: only node.crt changed" "$(changed "$W/base.sums" "$B")" "node.crt"
key_kept "at the boundary: node keeps its key" "$B" node
is_eq "at the boundary: node now lasts 30d from the clock" "$(not_after "$B/node.crt")" $((BN + 30 * DAY))
out_has "renewed line has the date" "until $(ymd $((BN + 30 * DAY)))"
renewed_ok "renewed node" "$B" node "$BN"
SB=$(snapshot "$B")
PKICTL_NOW=$BN chg "renew --within=10d again at the same time" "$B" cluster renew --dir="$B" --within=10d
out_has "again: nothing to renew" '^nothing to renew'
same_snap "again: idempotent, nothing changed" "$B" "$SB"

# ================================================================ web (200d): the default 90d boundary
BW=$((T0 + 110 * DAY))                    # web's notAfter - 90d; node has expired by then
C1=$(fresh c1)
PKICTL_NOW=$((BW - 1)) chg "renew one second before web's 90d window" "$C1" cluster renew --dir="$C1"
is_eq "one second before web's window: only node.crt changed (expired)" "$(changed "$W/base.sums" "$C1")" "node.crt"
out_has "one second before: a renewed line for node" '^renewed .*\bnode\b'
out_has "one second before: the reason is expired" '^renewed .*expired.*\bnode\b|^renewed node .*expired'
key_kept "expired node keeps its key" "$C1" node
renewed_ok "expired node" "$C1" node "$((BW - 1))"
C2=$(fresh c2)
PKICTL_NOW=$BW chg "renew exactly at web's 90d window" "$C2" cluster renew --dir="$C2"
is_eq "at web's window: node.crt and web.crt changed" "$(changed "$W/base.sums" "$C2")" "node.crt web.crt"
out_has "at web's window: a renewed line for web" '^renewed .*\bweb\b'
key_kept "web keeps its key" "$C2" web
is_eq "web now lasts 200d from the clock" "$(not_after "$C2/web.crt")" $((BW + 200 * DAY))
renewed_ok "renewed web" "$C2" web "$BW"
renewed_ok "renewed node (expired)" "$C2" node "$BW"
vfy "client still verifies at the clock" "$C2/ca.crt" "$C2/client.crt" -attime "$BW"
SC=$(snapshot "$C2")
PKICTL_NOW=$BW chg "renew again at web's window" "$C2" cluster renew --dir="$C2"
same_snap "again: idempotent, nothing changed" "$C2" "$SC"
is_eq "again: status --within=10d ok" "$(PKICTL_NOW=$BW st_rc --dir="$C2" --within=10d)" 0

# ================================================================ --within moves the window
D=$(fresh d); TD=$((T0 + 100 * DAY))       # web has 100d left
PKICTL_NOW=$TD chg "renew at T0+100d --within=99d" "$D" cluster renew --dir="$D" --within=99d
is_eq "--within=99d: web not renewed (only the expired node)" "$(changed "$W/base.sums" "$D")" "node.crt"
PKICTL_NOW=$TD chg "renew at T0+100d --within=100d" "$D" cluster renew --dir="$D" --within=100d
has "--within=100d: web renewed" "$(changed "$W/base.sums" "$D")" 'web\.crt'
lacks "--within=100d: client (265d left) not renewed" "$(changed "$W/base.sums" "$D")" 'client'
PKICTL_NOW=$TD chg "renew at T0+100d --within=300d" "$D" cluster renew --dir="$D" --within=300d
has "--within=300d: client renewed" "$(changed "$W/base.sums" "$D")" 'client\.crt'
renewed_ok "client renewed by --within=300d" "$D" client "$TD"
PKICTL_NOW=$TD pk_fails "--within=10y: exit 1 or 2" any cluster renew --dir="$D" --within=10y

# ================================================================ expired, --new-key
E=$(fresh e); TE=$((T0 + 400 * DAY))       # every leaf expired
PKICTL_NOW=$TE chg "renew when every leaf has expired" "$E" cluster renew --dir="$E"
is_eq "expired: every leaf certificate renewed, keys kept" "$(changed "$W/base.sums" "$E")" \
    "client.crt etcd/peer.crt node.crt web.crt"
for l in $LEAVES; do renewed_ok "expired $l" "$E" "$l" "$TE"; key_kept "expired $l keeps its key" "$E" "$l"; done
is_eq "expired: status is then ok" "$(PKICTL_NOW=$TE st_rc --dir="$E" --within=10d)" 0
N=$(fresh n)
PKICTL_NOW=$BW chg "renew --new-key at web's window" "$N" cluster renew --dir="$N" --new-key
is_eq "--new-key: node and web, certificates and keys, changed" "$(changed "$W/base.sums" "$N")" \
    "node.crt node.key web.crt web.key"
for l in node web; do
    key_new "--new-key: $l has a new key" "$N" "$l"
    renewed_ok "--new-key $l" "$N" "$l" "$BW"
    mode_is "--new-key: $l.key is 0600" "$N/$l.key" 600
done

# ================================================================ a deleted key file
K=$(fresh k); rm -f "$K/web.key"; sums "$K" >"$W/k.sums"
TK=$((T0 + DAY))
is_eq "deleted web.key: status flags it (exit 3)" "$(PKICTL_NOW=$TK st_rc --dir="$K" --within=10d)" 3
PKICTL_NOW=$TK chg "renew with web.key deleted" "$K" cluster renew --dir="$K" --within=10d
exists "deleted key: web.key written again" "$K/web.key"
key_new "deleted key: web re-issued with a new key" "$K" web
renewed_ok "re-issued web" "$K" web "$TK"
mode_is "deleted key: the new web.key is 0600" "$K/web.key" 600
is_eq "deleted key: nothing else changed" "$(changed "$W/k.sums" "$K" | tr ' ' '\n' | grep -v '^web\.' | paste -sd' ' -)" ""
is_eq "deleted key: status then ok" "$(PKICTL_NOW=$TK st_rc --dir="$K" --within=10d)" 0

# ================================================================ a key that does not match
MM=$(fresh mm)
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$MM/web.key" 2>/dev/null; chmod 600 "$MM/web.key"
PKICTL_NOW=$BW refused "renew with web.key not matching web.crt: exit 1" 1 "$MM" cluster renew --dir="$MM"
err_has "mismatch: the error names web" '\bweb\b'
err_has "mismatch: suggests --new-key" 'new-key'
PKICTL_NOW=$TK refused "renew with a mismatched key, nothing else due: still refused" 1 "$MM" cluster renew --dir="$MM" --within=1d
head -c 300 /dev/urandom >"$MM/client.key"; chmod 600 "$MM/client.key"
PKICTL_NOW=$BW refused "renew with a mismatched and an unreadable key" 1 "$MM" cluster renew --dir="$MM"
err_has "both problems listed: web" '\bweb\b'
err_has "both problems listed: client" '\bclient\b'
PKICTL_NOW=$TK refused "renew, mismatched and unreadable keys, nothing else due: refused" 1 "$MM" cluster renew --dir="$MM" --within=10d
# --new-key replaces bad key files ("also replaces bad key files", cluster renew --help), even
# for leaves that are not otherwise due (TK, --within=10d: only node is near its end, 29d left)
sums "$MM" >"$W/mm.sums"
PKICTL_NOW=$TK chg "renew --new-key replaces the bad keys" "$MM" cluster renew --dir="$MM" --new-key --within=10d
for l in web client; do
    matches "--new-key: $l key matches its certificate" "$MM/$l.crt" "$MM/$l.key"
    renewed_ok "--new-key replaced $l" "$MM" "$l" "$TK"
done
is_eq "--new-key on bad keys: node and peer untouched" "$(changed "$W/mm.sums" "$MM" | tr ' ' '\n' | grep -Ev '^(web|client)\.' | paste -sd' ' -)" ""
is_eq "--new-key on bad keys: status then ok" "$(PKICTL_NOW=$TK st_rc --dir="$MM" --within=10d)" 0

# ================================================================ drift
DR=$(fresh dr)
python3 - "$DR/pkictl-cluster.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
for l in m["leaves"]:
    if l["name"] == "web":
        l["sans"] = ["dns:web.local", "dns:web2.example.com", "ip:10.0.0.2"]
json.dump(m, open(sys.argv[1], "w"), indent=1)
EOF
sums "$DR" >"$W/dr.sums"
is_eq "drift: status exit 3" "$(PKICTL_NOW=$TK st_rc --dir="$DR" --within=10d --format=json)" 3
has "drift: status says drift for web" "$(python3 -c 'import json,sys; print({c["name"]: c["verdict"] for c in json.load(open(sys.argv[1]))["certificates"]})' "$T_TMP/st.out")" "'web': 'drift'"
PKICTL_NOW=$TK chg "renew a drifted leaf (far from expiry)" "$DR" cluster renew --dir="$DR" --within=10d
is_eq "drift: only web.crt changed" "$(changed "$W/dr.sums" "$DR")" "web.crt"
out_has "drift: the reason is drift" '^renewed .*drift.*\bweb\b|^renewed web .*drift'
is_eq "drift: web has the manifest's new SANs" "$(san_list "$DR/web.crt" | paste -sd, -)" \
    "DNS:web.local,DNS:web2.example.com,IP Address:10.0.0.2"
key_kept "drift: web keeps its key" "$DR" web
vfy "drift: web verifies" "$DR/ca.crt" "$DR/web.crt" -attime "$TK"
is_eq "drift: status then ok" "$(PKICTL_NOW=$TK st_rc --dir="$DR" --within=10d)" 0
SD=$(snapshot "$DR")
PKICTL_NOW=$TK chg "drift: renew again" "$DR" cluster renew --dir="$DR" --within=10d
same_snap "drift: renew again changes nothing" "$DR" "$SD"

# ================================================================ a missing certificate, a broken chain
MC=$(fresh mc); rm -f "$MC/node.crt"; sums "$MC" >"$W/mc.sums"
PKICTL_NOW=$TK chg "renew with node.crt deleted" "$MC" cluster renew --dir="$MC" --within=1d
is_eq "missing certificate: only node.crt written" "$(changed "$W/mc.sums" "$MC")" "node.crt"
key_kept "missing certificate: node keeps its key" "$MC" node
out_has "missing certificate: reason missing" '^renewed .*missing.*\bnode\b|^renewed node .*missing'
renewed_ok "missing node.crt re-issued" "$MC" node "$TK"
BC=$(fresh bc)
OC="$T_TMP/othercl"; mkdir -p "$OC"
PKICTL_NOW=$T0 pk_ok "setup: another cluster (another CA)" cluster init --manifest="$W/life.json" --dir="$OC"
cp "$OC/etcd/peer.crt" "$BC/etcd/peer.crt"; cp "$OC/etcd/peer.key" "$BC/etcd/peer.key"; sums "$BC" >"$W/bc.sums"
is_eq "broken chain: status exit 3" "$(PKICTL_NOW=$TK st_rc --dir="$BC" --within=10d)" 3
PKICTL_NOW=$TK chg "renew a leaf signed by another CA" "$BC" cluster renew --dir="$BC" --within=10d
is_eq "broken chain: only etcd/peer.crt changed" "$(changed "$W/bc.sums" "$BC")" "etcd/peer.crt"
same "broken chain: peer keeps its (own) key" "$(cpub "$BC/etcd/peer.crt")" "$(kpub "$OC/etcd/peer.key")"
renewed_ok "re-chained peer" "$BC" peer "$TK"
is_eq "broken chain: status then ok" "$(PKICTL_NOW=$TK st_rc --dir="$BC" --within=10d)" 0

# ================================================================ leaves near the end of the 1000d CA
# At T0+950d every leaf has expired and the CA has 50d left: the CA gets a warning ("leaves are
# capped at its expiry"), every leaf is renewed and ends no later than the CA, web's declared
# 200d included.
CE=$(fresh ce); TCE=$((T0 + 950 * DAY))
PKICTL_NOW=$TCE chg "renew 50d before the CA ends (every leaf expired)" "$CE" cluster renew --dir="$CE"
err_has "50d before the CA ends: a warning for the CA" '^warning: .*\bca\b'
is_eq "50d before the CA ends: every leaf certificate renewed" "$(changed_certs "$W/base.sums" "$CE")" \
    "client.crt etcd/peer.crt node.crt web.crt"
for l in $LEAVES; do
    f=$(lf "$l")
    if [ -f "$CE/$f.crt" ] && [ "$(not_after "$CE/$f.crt")" -le "$(not_after "$CE/ca.crt")" ] &&
        [ "$(not_after "$CE/$f.crt")" -gt "$TCE" ]; then ok "50d before the CA ends: $l ends after the clock, not after the CA"
    else not_ok "50d before the CA ends: $l ends after the clock, not after the CA" "$(not_after "$CE/$f.crt") vs CA $(not_after "$CE/ca.crt")"; fi
done
renewed_ok "near the CA's end: web" "$CE" web "$TCE"

# ================================================================ a CA near its end, then past it
# CA 300d; node 30d; client default (capped to end with the CA); a service key
mf "$W/short.json" '
m["cas"] = [{"name": "ca", "cert": "ca.crt", "key": "ca.key", "subject": "/O=pkictl/CN=short CA",
             "lifetime": "300d"}]
m["leaves"] = [
  {"name": "node", "ca": "ca", "cert": "node.crt", "key": "node.key", "subject": "/O=pkictl/CN=node",
   "sans": ["dns:localhost", "ip:127.0.0.1"], "usage": "both", "lifetime": "30d"},
  {"name": "client", "ca": "ca", "cert": "client.crt", "key": "client.key", "subject": "/CN=client",
   "usage": "client"},
  {"name": "peer", "ca": "ca", "cert": "etcd/peer.crt", "key": "etcd/peer.key", "subject": "/CN=peer",
   "sans": ["dns:peer.local"], "usage": "both"}]
m["keys"] = [{"name": "service", "key": "service.key", "key_type": "ecdsa"}]'
SBASE="$T_TMP/sbase"; mkdir -p "$SBASE"
PKICTL_NOW=$T0 pk_ok "setup: short-CA cluster at T0" cluster init --manifest="$W/short.json" --dir="$SBASE"
add_extras "$SBASE"
CAEND=$((T0 + 300 * DAY))
is_eq "setup: client capped to the CA's end" "$(not_after "$SBASE/client.crt")" "$CAEND"
sums "$SBASE" >"$W/sbase.sums"
props "$SBASE/node.crt" >"$W/sprops.node"

CW=$(fresh cw "$SBASE"); TW=$((T0 + 250 * DAY))   # CA 50d left; node expired; client ends with CA
PKICTL_NOW=$TW chg "renew with the CA within the window" "$CW" cluster renew --dir="$CW"
err_has "CA within the window: a warning line for the CA" '^warning: .*\bCA\b.*\bca\b|^warning: CA ca'
err_has "client would not last longer: a warning" '^warning: .*\bclient\b'
is_eq "CA within the window: ca.crt unchanged, client and peer left alone, node (expired) renewed" \
    "$(changed "$W/sbase.sums" "$CW")" "node.crt"
vfy "renewed node verifies under the old CA" "$CW/ca.crt" "$CW/node.crt" -attime "$TW"
is_eq "renewed node keeps subject/SANs/EKU" "$(props "$CW/node.crt")" "$(cat "$W/sprops.node")"
SCW=$(snapshot "$CW")
PKICTL_NOW=$TW chg "renew again with the CA within the window" "$CW" cluster renew --dir="$CW"
same_snap "again: nothing changed (idempotent)" "$CW" "$SCW"
err_has "again: still warns about the CA" '^warning: .*\bca\b'
err_has "again: still warns about client" '^warning: .*\bclient\b'

CX=$(fresh cx "$SBASE"); TX=$((CAEND + DAY))
PKICTL_NOW=$TX refused "renew with the CA expired: exit 1" 1 "$CX" cluster renew --dir="$CX"
err_has "expired CA: the error names 'cluster recover'" 'cluster recover'
PKICTL_NOW=$TX refused "rotate with the CA expired: exit 1" 1 "$CX" cluster rotate --dir="$CX"
err_has "rotate, expired CA: names 'cluster recover'" 'cluster recover'

# ---------------------------------------------------------------- recover, past the CA's end
cp "$CX/ca.crt" "$W/old-ca.crt"
for l in node client peer; do cp "$CX/$(lf "$l").crt" "$W/old-$l.crt"; done
PKICTL_NOW=$TX chg "recover with the CA expired" "$CX" cluster recover --dir="$CX"
out_has "recover: a line for the CA" '\bca\b.*ca\.crt|recovered CA ca'
for l in node client peer; do out_has "recover: a line for $l" "\\b$l\\b"; done
is_eq "recover: the CA keeps its public key" "$(cpub "$CX/ca.crt")" "$(cpub "$W/old-ca.crt")"
is_eq "recover: the CA keeps its subject" "$(csubject "$CX/ca.crt")" "$(csubject "$W/old-ca.crt")"
is_ne "recover: the CA certificate is new" "$(sha256sum <"$CX/ca.crt")" "$(sha256sum <"$W/old-ca.crt")"
if [ "$(not_before "$CX/ca.crt")" -le "$TX" ] && [ "$(not_after "$CX/ca.crt")" -gt "$TX" ]; then
    ok "recover: the CA is valid at the clock"
else not_ok "recover: the CA is valid at the clock" "$(not_before "$CX/ca.crt")..$(not_after "$CX/ca.crt") vs $TX"; fi
is_eq "recover: the CA's new lifetime is its declared 300d" "$(not_after "$CX/ca.crt")" $((TX + 300 * DAY))
is_eq "recover: ca.key unchanged" "$(sha256sum <"$CX/ca.key")" "$(sha256sum <"$SBASE/ca.key")"
for l in node client peer; do
    f=$(lf "$l")
    is_ne "recover: $l re-issued" "$(sha256sum <"$CX/$f.crt")" "$(sha256sum <"$W/old-$l.crt")"
    same "recover: $l keeps its key" "$(cpub "$CX/$f.crt")" "$(cpub "$W/old-$l.crt")"
    vfy "recover: new $l verifies under the new CA" "$CX/ca.crt" "$CX/$f.crt" -attime "$TX"
    # by key: the old certificates chain to the re-issued CA (its validity starts later, so the
    # time checks are off here; the next block checks with times inside both validities)
    vfy "recover: the old $l verifies under the new CA by key" "$CX/ca.crt" "$W/old-$l.crt" -no_check_time
done
is_eq "recover: service.key unchanged" "$(sha256sum <"$CX/service.key")" "$(sha256sum <"$SBASE/service.key")"
is_eq "recover: status then ok" "$(PKICTL_NOW=$TX st_rc --dir="$CX" --within=10d)" 0
PKICTL_NOW=$TX pk_ok "recover: renew then works" cluster renew --dir="$CX" --within=10d
out_has "recover: renew then has nothing to do" '^nothing to renew'

# recover while the CA is still valid: the old leaves verify with the time checks on
CR=$(fresh cr "$SBASE")
PKICTL_NOW=$TW chg "recover with the CA still valid (50d left)" "$CR" cluster recover --dir="$CR"
same "recover early: same CA key" "$(cpub "$CR/ca.crt")" "$(cpub "$SBASE/ca.crt")"
vfy "recover early: the old client verifies under the new CA at a time inside both" \
    "$CR/ca.crt" "$SBASE/client.crt" -attime $((TW + DAY))

# a missing CA key
CK=$(fresh ck "$SBASE"); rm -f "$CK/ca.key"
PKICTL_NOW=$TX refused "recover without the CA key: exit 1" 1 "$CK" cluster recover --dir="$CK"
err_has "missing CA key: names 'ca stage'" 'ca stage'
CK2=$(fresh ck2 "$SBASE")
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$CK2/ca.key" 2>/dev/null; chmod 600 "$CK2/ca.key"
PKICTL_NOW=$TX refused "recover with a CA key that does not match: exit 1" 1 "$CK2" cluster recover --dir="$CK2"

# ================================================================ rotate
R=$(fresh r)
PKICTL_NOW=$TK chg "rotate --service=node" "$R" cluster rotate --dir="$R" --service=node
is_eq "rotate node: only node.crt and node.key changed" "$(changed "$W/base.sums" "$R")" "node.crt node.key"
key_new "rotate node: a new key" "$R" node
renewed_ok "rotated node" "$R" node "$TK"
mode_is "rotate node: node.key 0600" "$R/node.key" 600
out_has "rotate node: a line for node" '\bnode\b'
R2=$(fresh r2)
PKICTL_NOW=$TK chg "rotate --service=web,etcd leaf peer" "$R2" cluster rotate --dir="$R2" --service=web,peer
is_eq "rotate web,peer: exactly those changed" "$(changed "$W/base.sums" "$R2")" "etcd/peer.crt etcd/peer.key web.crt web.key"
R3=$(fresh r3)
PKICTL_NOW=$TK chg "rotate (every leaf)" "$R3" cluster rotate --dir="$R3"
is_eq "rotate all: every leaf certificate and key changed, nothing else" "$(changed "$W/base.sums" "$R3")" \
    "client.crt client.key etcd/peer.crt etcd/peer.key node.crt node.key web.crt web.key"
for l in $LEAVES; do
    key_new "rotate all: $l has a new key" "$R3" "$l"
    renewed_ok "rotate all: $l" "$R3" "$l" "$TK"
    mode_is "rotate all: $l key 0600" "$R3/$(lf "$l").key" 600
done
is_eq "rotate all: status ok" "$(PKICTL_NOW=$TK st_rc --dir="$R3" --within=10d)" 0
PKICTL_NOW=$TK refused "rotate --service=nosuch: exit 1" 1 "$R3" cluster rotate --dir="$R3" --service=nosuch
err_has "unknown leaf: named" 'nosuch'
err_has "unknown leaf: lists the leaf names" 'node.*web.*client.*peer|node, web, client, peer'
PKICTL_NOW=$TK refused "rotate --service=node,nosuch: exit 1 (nothing rotated)" 1 "$R3" cluster rotate --dir="$R3" --service=node,nosuch
PKICTL_NOW=$TK refused "rotate --service=service (a plain key, not a leaf): exit 1" 1 "$R3" cluster rotate --dir="$R3" --service=service
PKICTL_NOW=$TK refused "rotate --service=ca (a CA): exit 1" 1 "$R3" cluster rotate --dir="$R3" --service=ca
PKICTL_NOW=$TK refused "rotate --service= (empty): exit 2" 2 "$R3" cluster rotate --dir="$R3" --service=
PKICTL_NOW=$TK refused "rotate --service=, (no name): exit 2" 2 "$R3" cluster rotate --dir="$R3" --service=,

# ================================================================ rotate-key
RK=$(fresh rk); SK="$RK/service.key"
cp "$SK" "$W/svc0.key"
PKICTL_NOW=$TK chg "rotate-key --name=service" "$RK" cluster rotate-key --dir="$RK" --name=service
is_eq "rotate-key: the file holds 2 keys" "$(nkeys "$SK")" 2
is_eq "rotate-key: only service.key changed" "$(changed "$W/base.sums" "$RK")" "service.key"
is_ne "rotate-key: the first key is new" "$(kpub_n "$SK" 1)" "$(kpub "$W/svc0.key")"
same "rotate-key: the second key is the old one" "$(kpub_n "$SK" 2)" "$(kpub "$W/svc0.key")"
has "rotate-key: the new key is RSA (the key's default)" "$(nth_key "$SK" 1 | openssl pkey -noout -text 2>/dev/null | head -n1)" 'Private-Key: \(2048 bit'
mode_is "rotate-key: 0600" "$SK" 600
kpub_n "$SK" 1 >"$W/svc1.pub"
PKICTL_NOW=$TK chg "rotate-key again" "$RK" cluster rotate-key --dir="$RK" --name=service
is_eq "again: 3 keys" "$(nkeys "$SK")" 3
same "again: the second is the previous newest" "$(kpub_n "$SK" 2)" "$(cat "$W/svc1.pub")"
same "again: the third is the original" "$(kpub_n "$SK" 3)" "$(kpub "$W/svc0.key")"
mode_is "again: 0600" "$SK" 600
kpub_n "$SK" 1 >"$W/svc2.pub"
PKICTL_NOW=$TK chg "rotate-key --keep=1" "$RK" cluster rotate-key --dir="$RK" --name=service --keep=1
is_eq "--keep=1: 2 keys" "$(nkeys "$SK")" 2
is_ne "--keep=1: the first is new" "$(kpub_n "$SK" 1)" "$(cat "$W/svc2.pub")"
same "--keep=1: the second is the previous newest" "$(kpub_n "$SK" 2)" "$(cat "$W/svc2.pub")"
PKICTL_NOW=$TK chg "rotate-key --keep=0" "$RK" cluster rotate-key --dir="$RK" --name=service --keep=0
is_eq "--keep=0: 1 key" "$(nkeys "$SK")" 1
mode_is "--keep=0: 0600" "$SK" 600
is_eq "rotate-key: the certificates never changed" "$(changed_certs "$W/base.sums" "$RK")" ""
PKICTL_NOW=$TK refused "rotate-key --name=nosuch: exit 1" 1 "$RK" cluster rotate-key --dir="$RK" --name=nosuch
err_has "unknown key: named" 'nosuch'
PKICTL_NOW=$TK refused "rotate-key --name=node (a leaf): exit 1" 1 "$RK" cluster rotate-key --dir="$RK" --name=node
PKICTL_NOW=$TK refused "rotate-key without --name: exit 2" 2 "$RK" cluster rotate-key --dir="$RK"
PKICTL_NOW=$TK refused "rotate-key --keep=-1: exit 2" 2 "$RK" cluster rotate-key --dir="$RK" --name=service --keep=-1
PKICTL_NOW=$TK refused "rotate-key --keep=x: exit 2" 2 "$RK" cluster rotate-key --dir="$RK" --name=service --keep=x
head -c 500 /dev/urandom >"$SK"; chmod 600 "$SK"
PKICTL_NOW=$TK refused "rotate-key over a garbage key file: exit 1" 1 "$RK" cluster rotate-key --dir="$RK" --name=service
err_has "garbage key file: names service.key" 'service\.key'
cp "$BASE/service.key" "$SK"; chmod 600 "$SK"
PKICTL_NOW=$TK pk_ok "setup: 2 keys again" cluster rotate-key --dir="$RK" --name=service
head -c $(( $(wc -c <"$SK") - 200 )) "$SK" >"$W/trunc.key"; cat "$W/trunc.key" >"$SK"
PKICTL_NOW=$TK refused "rotate-key over a truncated key file: exit 1" 1 "$RK" cluster rotate-key --dir="$RK" --name=service
err_has "truncated key file: names service.key" 'service\.key'
cp "$BASE/service.key" "$SK"; chmod 644 "$SK"
PKICTL_NOW=$TK refused "rotate-key over a key readable by others: exit 1" 1 "$RK" cluster rotate-key --dir="$RK" --name=service

# ================================================================ general
for c in renew recover rotate rotate-key; do
    xa=(); [ "$c" == rotate-key ] && xa=(--name=service)
    pk_ok "cluster $c --help" cluster "$c" --help
    out_has "cluster $c --help: a usage line" "cluster $c"
    out_has "cluster $c --help: names --dir" '--dir'
    pk_fails "cluster $c without --dir: exit 2" 2 cluster "$c"
    NC="$T_TMP/notcluster"; mkdir -p "$NC"; echo hi >"$NC/f"
    refused "cluster $c on a folder that is not a cluster: exit 1" 1 "$NC" cluster "$c" --dir="$NC" "${xa[@]}"
    err_has "cluster $c on a non-cluster: names pkictl-cluster.json" 'pkictl-cluster\.json|not a cluster|cluster init'
    pk_fails "cluster $c --dir that does not exist" 1 cluster "$c" --dir="$T_TMP/nowhere" "${xa[@]}"
    absent "cluster $c --dir that does not exist: not created" "$T_TMP/nowhere"
done
pk_ok "cluster rotate --help names --service" cluster rotate --help
out_has "rotate --help: --service" '--service'
pk_ok "cluster rotate-key --help names --keep" cluster rotate-key --help
out_has "rotate-key --help: --keep" '--keep'
pk_fails "cluster renew --bogus: exit 2" 2 cluster renew --dir="$BASE" --bogus

# a symbolic link to the cluster folder, from another folder
SY=$(fresh sy); mkdir -p "$T_TMP/links"; ln -s "$SY" "$T_TMP/links/cl"
PKICTL_NOW=$TK chg "rotate through a symlinked --dir" "$SY" cluster rotate --dir="$T_TMP/links/cl"
is_eq "symlinked dir: every leaf rotated" "$(changed "$W/base.sums" "$SY")" \
    "client.crt client.key etcd/peer.crt etcd/peer.key node.crt node.key web.crt web.key"
check "symlinked dir: the link is still a link" test -L "$T_TMP/links/cl"
is_eq "symlinked dir: the link still points to the folder" "$(readlink "$T_TMP/links/cl")" "$SY"
exists "symlinked dir: the lock sits beside the real folder" "$T_TMP/.sy.pkictl-lock"
is_eq "symlinked dir: nothing pkictl-made beside the link" "$(ls -A "$T_TMP/links")" "cl"
PKICTL_NOW=$TK chg "renew through a symlinked --dir" "$SY" cluster renew --dir="$T_TMP/links/cl" --within=10d
PKICTL_NOW=$TK chg "rotate-key through a symlinked --dir" "$SY" cluster rotate-key --dir="$T_TMP/links/cl" --name=service
is_eq "symlinked dir: status ok" "$(PKICTL_NOW=$TK st_rc --dir="$T_TMP/links/cl" --within=10d)" 0

# symbolic links inside the folder survive a change
SL=$(fresh sl); ln -s notes.txt "$SL/notes.link"; ln -s sub "$SL/sub.link"
PKICTL_NOW=$TK chg "rotate with symlinks inside the folder" "$SL" cluster rotate --dir="$SL"
is_eq "symlinks inside: kept as links" "$(readlink "$SL/notes.link")|$(readlink "$SL/sub.link")" "notes.txt|sub"

# a FIFO inside the folder: the shadow copy cannot be made; refused, no shadow left behind
FF=$(fresh ff); mkfifo "$FF/sub/pipe"
PKICTL_NOW=$TK refused "rotate with a FIFO inside the folder: exit 1" 1 "$FF" cluster rotate --dir="$FF"
err_has "FIFO: named" 'pipe'
absent "FIFO: no shadow copy left" "$T_TMP/.ff.pkictl-txn"

# another pkictl holds the lock
LO=$(fresh lo); LK="$T_TMP/.lo.pkictl-lock"
exec 9>"$LK"
if flock -n 9; then ok "setup: the test holds $LK"; else not_ok "setup: the test holds $LK"; fi
PKICTL_NOW=$TK refused "renew while another holds the lock: exit 1" 1 "$LO" cluster renew --dir="$LO"
err_has "locked: 'another pkictl'" 'another pkictl'
PKICTL_NOW=$TK refused "rotate while locked" 1 "$LO" cluster rotate --dir="$LO"
err_has "rotate locked: 'another pkictl'" 'another pkictl'
PKICTL_NOW=$TK refused "rotate-key while locked" 1 "$LO" cluster rotate-key --dir="$LO" --name=service
PKICTL_NOW=$TX refused "recover while locked" 1 "$LO" cluster recover --dir="$LO"
err_has "recover locked: 'another pkictl'" 'another pkictl'
exec 9>&-
PKICTL_NOW=$TK chg "rotate once the lock is released" "$LO" cluster rotate --dir="$LO" --service=node

# a stale shadow copy (left by a crash) is removed by the next command that takes the lock
ST=$(fresh stale); mkdir -p "$T_TMP/.stale.pkictl-txn/etcd"; echo junk >"$T_TMP/.stale.pkictl-txn/etcd/peer.key"
SS=$(snapshot "$ST")
PKICTL_NOW=$TK pk_ok "renew with a stale shadow copy beside the folder" cluster renew --dir="$ST" --within=10d
absent "the stale shadow copy was removed" "$T_TMP/.stale.pkictl-txn"
same_snap "the folder itself is unchanged" "$ST" "$SS"

finish
