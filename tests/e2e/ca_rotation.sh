#!/usr/bin/env bash
# ca stage / ca rotate / ca prune (docs/rotation.md): the whole CA rotation on the cockroach and
# k3s profiles and on a custom manifest (root, intermediate, leaves under each, a plain key):
# staging changes nothing, every leaf verifies with the old root alone, the new root alone and
# the new bundle (openssl and GnuTLS certtool), keys and names kept; prune only when allowed;
# two rotations in a row; every integrity refusal (all problems listed, nothing changed);
# --force; crash safety at every step of the switch; create-ca --overwrite.
# The clock is PKICTL_NOW where dates matter; no sleeps.
. "$(dirname "$0")/common.sh"
. "$E2E_DIR/sign_common.sh"

W="$T_TMP/w"; mkdir -p "$W"

# ---------------------------------------------------------------- helpers
# mq DIR EXPR: python over DIR/pkictl-cluster.json; EXPR is a list, printed one item a line.
# Names: m, cas (by name), top(name) (its root's name), depth(name) (CAs above it), roots,
# inters, leaves, keys
mq() {
    python3 - "$1/pkictl-cluster.json" "$2" <<'EOF' 2>/dev/null
import json, sys
m = json.load(open(sys.argv[1]))
cas = {c["name"]: c for c in m["cas"]}
def top(n):
    while cas[n].get("parent"):
        n = cas[n]["parent"]
    return n
def depth(n):
    d = 0
    while cas[n].get("parent"):
        n, d = cas[n]["parent"], d + 1
    return d
roots = [c for c in m["cas"] if not c.get("parent")]
inters = [c for c in m["cas"] if c.get("parent")]
leaves = m.get("leaves", [])
keys = m.get("keys", [])
for x in eval(sys.argv[2]):
    print(x)
EOF
}
# sj FILE EXPR: python over the JSON FILE (d), one value
sj() { jv "$1" "$2"; }
cn_of()    { openssl x509 -in "$1" -noout -subject -nameopt sep_multiline,sname,utf8 2>/dev/null | sed -n 's/^ *CN=//p'; }
# nth_key FILE N: the Nth PEM private key of FILE
nth_key() {
    awk -v n="$2" '/-----BEGIN [A-Z ]*PRIVATE KEY-----/{i++} i==n{print} i==n && /-----END [A-Z ]*PRIVATE KEY-----/{exit}' "$1"
}
nkeys()    { grep -c -- '-----BEGIN [A-Z ]*PRIVATE KEY-----' "$1" 2>/dev/null; }
kpub_n()   { nth_key "$1" "$2" | openssl pkey -pubout 2>/dev/null; }
# the token of the last command's stdout (hex only)
tok_out()  { sed -n 's/^token: pkictl1:sha256:\([0-9a-f]\{64\}\)\b.*/\1/p' "$1" | head -n1; }
sha_of()   { sha256sum <"$1" 2>/dev/null | cut -d' ' -f1; }
# ov "what" ANCHOR FILE [args]: FILE's first certificate verifies with ANCHOR as the only trust
# anchor and the rest of FILE as untrusted certificates (openssl)
ov() { local w=$1 a=$2 f=$3; shift 3; check "$w" openssl verify "$@" -CAfile "$a" -untrusted "$f" "$f"; }
ov_not() {
    local w=$1 a=$2 f=$3; shift 3
    if openssl verify "$@" -CAfile "$a" -untrusted "$f" "$f" >/dev/null 2>&1; then not_ok "$w" "it verified"
    else ok "$w"; fi
}
# ctv "what" ANCHOR FILE: GnuTLS certtool accepts the chain in FILE with ANCHOR as the only CA
ctv() { check "$1" certtool --verify --load-ca-certificate "$2" --infile "$3"; }
# txn_of DIR: the shadow folder path of DIR
txn_of() { echo "$(dirname "$1")/.$(basename "$1").pkictl-txn"; }
is_json() {
    if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$2" 2>/dev/null; then ok "$1"
    else not_ok "$1" "$(head -c 300 "$2" 2>/dev/null)"; fi
}
# pk_rc "what" CODE args...: pkictl exits CODE (output in .out/.err)
pk_rc() {
    local what=$1 want=$2; shift 2
    "$PKICTL" "$@" >"$T_TMP/.out" 2>"$T_TMP/.err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then ok "$what"
    else not_ok "$what" "exit $rc, want $want: $(head -c 400 "$T_TMP/.err") $(head -c 300 "$T_TMP/.out")"; fi
}
# refused "what" DIR OTHER -- pkictl args...: exit 1, the last stderr line starts "pkictl: ",
# DIR and OTHER unchanged and no shadow folder left; DIR is put back if it changed.
refused() {
    local what=$1 d=$2 o=$3; shift 4
    local s1 s2 rc
    s1=$(snapshot "$d"); s2=$(snapshot "$o")
    rm -rf "$T_TMP/.rbak"; [ -d "$d" ] && cp -a "$d" "$T_TMP/.rbak"
    "$PKICTL" "$@" >"$T_TMP/.out" 2>"$T_TMP/.err"; rc=$?
    if [ "$rc" -eq 1 ] && tail -n1 "$T_TMP/.err" | grep -q '^pkictl: '; then ok "$what"
    else not_ok "$what" "exit $rc (want 1), stderr: $(head -c 400 "$T_TMP/.err")"; fi
    if [ "$(snapshot "$d")" == "$s1" ] && [ "$(snapshot "$o")" == "$s2" ] && [ ! -e "$(txn_of "$d")" ]; then
        ok "$what: nothing changed on disk"
    else
        not_ok "$what: nothing changed on disk" "$(diff <(echo "$s1"; echo "$s2") <(snapshot "$d"; snapshot "$o") | head -n 6)"
        if [ -d "$T_TMP/.rbak" ]; then rm -rf "$d" "$(txn_of "$d")"; cp -a "$T_TMP/.rbak" "$d"; fi
    fi
}
# killed "what" STEP args...: pkictl with PKICTL_TEST_KILL_AT=STEP dies by SIGKILL (exit 137)
killed() {
    local what=$1 step=$2 rc; shift 2
    { PKICTL_TEST_KILL_AT=$step "$PKICTL" "$@" >"$T_TMP/.out" 2>"$T_TMP/.err"; rc=$?; } 2>/dev/null
    is_eq "$what (exit 137)" "$rc" 137
}
# status_ok "what" DIR: cluster status exits 0 and every verdict is ok
status_ok() {
    "$PKICTL" cluster status --dir="$2" --format=json >"$T_TMP/st.out" 2>"$T_TMP/st.err"
    local rc=$? v
    v=$(sj "$T_TMP/st.out" "sorted(set(x['verdict'] for x in d['certificates']))")
    if [ "$rc" -eq 0 ] && [ "$v" == '["ok"]' ]; then ok "$1"
    else not_ok "$1" "exit $rc, verdicts $v: $(head -c 300 "$T_TMP/st.err")"; fi
}

# leaves_verify LABEL DIR OLDCOPY: after a rotation of DIR (OLDCOPY: DIR as it was before),
# every leaf verifies with its old root alone, its new root alone and the new bundle
# (openssl, and certtool with each root alone); key, subject and SANs are kept.
leaves_verify() {
    local lb=$1 d=$2 od=$3 name cert key rcert
    while read -r name cert key rcert; do
        nth_cert "$od/$rcert" 1 >"$W/$lb-old-$name.root"
        nth_cert "$d/$rcert" 1 >"$W/$lb-new-$name.root"
        ov "$lb: $name verifies with the old root alone (openssl)" "$W/$lb-old-$name.root" "$d/$cert"
        ov "$lb: $name verifies with the new root alone (openssl)" "$W/$lb-new-$name.root" "$d/$cert"
        ov "$lb: $name verifies with the new trust bundle" "$d/pkictl-trust-bundle.pem" "$d/$cert"
        ctv "$lb: $name verifies with the old root alone (certtool)" "$W/$lb-old-$name.root" "$d/$cert"
        ctv "$lb: $name verifies with the new root alone (certtool)" "$W/$lb-new-$name.root" "$d/$cert"
        same "$lb: $name keeps its key" "$(cpub "$d/$cert")" "$(cpub "$od/$cert")"
        matches "$lb: $name key file matches" "$d/$cert" "$d/$key"
        same "$lb: $name keeps its subject" "$(csubject "$d/$cert")" "$(csubject "$od/$cert")"
        is_eq "$lb: $name keeps its SANs" "$(san_list "$d/$cert" | tr '\n' '|')" "$(san_list "$od/$cert" | tr '\n' '|')"
        is_ne "$lb: $name was re-issued (new serial)" "$(cserial "$d/$cert")" "$(cserial "$od/$cert")"
        mode_is "$lb: $name key mode 0600" "$d/$key" 600
    done < <(mq "$d" '[" ".join([l["name"], l["cert"], l["key"], cas[top(l["ca"])]["cert"]]) for l in leaves]')
}

# ================================================================ 1. happy path
# happy LABEL DIR: stage, dry-run and rotate DIR (a fresh cluster); leaves S=$W/LABEL-S and
# a copy of DIR before the rotation in $W/LABEL-old
happy() {
    local lb=$1 d=$2 s="$W/$1-S" od="$W/$1-old" pre t0 t1 tok name cert key rcert kpath n f
    cp -a "$d" "$od"
    pre=$(snapshot "$d")
    t0=$(date +%s)
    pk_ok "$lb: ca stage" ca stage --dir="$d" --out="$s"
    t1=$(date +%s)
    cp "$T_TMP/.out" "$W/$lb-stage.out"
    wrote_exist "$lb: stage: every wrote PATH exists"
    has "$lb: stage prints a token line" "$(cat "$W/$lb-stage.out")" '^token: pkictl1:sha256:[0-9a-f]{64}$'
    tok=$(tok_out "$W/$lb-stage.out")
    same "$lb: the token is the SHA-256 of trust-bundle.pem" "$tok" "$(sha_of "$s/trust-bundle.pem")"
    is_eq "$lb: stage changes nothing in DIR" "$(snapshot "$d")" "$pre"
    mode_is "$lb: STAGING mode 0700" "$s" 700
    is_json "$lb: pkictl-stage.json is JSON" "$s/pkictl-stage.json"
    is_eq "$lb: pkictl-stage.json holds the token" "$(sj "$s/pkictl-stage.json" "d['token']")" "pkictl1:sha256:$tok"
    n=0
    while read -r kpath; do
        mode_is "$lb: staged key $kpath mode 0600" "$s/$kpath" 600; n=$((n + 1))
    done < <(mq "$d" '[c["key"] for c in m["cas"]] + [k["key"] for k in keys]')
    [ "$n" -gt 0 ] || not_ok "$lb: the manifest lists keys"
    # every root: new certificate, staged file = new then old, cross-signed certificate
    while read -r name cert key; do
        nth_cert "$s/$cert" 1 >"$W/$lb-$name.new"
        nth_cert "$d/$cert" 1 >"$W/$lb-$name.old"
        local cn ocn ts
        cn=$(cn_of "$W/$lb-$name.new"); ocn=$(cn_of "$W/$lb-$name.old")
        ts=${cn##*@}
        if [ "${cn%@*}" == "$ocn" ] && [[ $ts =~ ^[0-9]+$ ]] && [ "$ts" -ge "$t0" ] && [ "$ts" -le "$t1" ]; then
            ok "$lb: new root $name: CN is the old CN@UNIXTIME ($cn)"
        else not_ok "$lb: new root $name: CN is the old CN@UNIXTIME" "[$cn] vs [$ocn], time $t0..$t1"; fi
        matches "$lb: new root $name matches the staged key" "$W/$lb-$name.new" "$s/$key"
        is_ne "$lb: new root $name has a new key" "$(cpub "$W/$lb-$name.new")" "$(cpub "$W/$lb-$name.old")"
        check "$lb: new root $name is self-signed" openssl verify -CAfile "$W/$lb-$name.new" "$W/$lb-$name.new"
        is_eq "$lb: new root $name is CA:TRUE" "$(cval "$W/$lb-$name.new" basicConstraints | cut -d, -f1)" "CA:TRUE"
        is_eq "$lb: staged $cert = the new root then what DIR's file holds" "$(fps "$s/$cert")" \
            "$(fp256 "$W/$lb-$name.new")|$(fps "$d/$cert")"
        f="$s/cross/$name.crt"
        exists "$lb: cross/$name.crt exists" "$f"
        same "$lb: cross/$name.crt has the new root's subject" "$(csubject "$f")" "$(csubject "$W/$lb-$name.new")"
        same "$lb: cross/$name.crt has the new root's key" "$(cpub "$f")" "$(cpub "$W/$lb-$name.new")"
        same "$lb: cross/$name.crt is issued by the old root" "$(cissuer "$f")" "$(csubject "$W/$lb-$name.old")"
        same "$lb: cross/$name.crt AKI is the old root's SKI" "$(caki "$f")" "$(cski "$W/$lb-$name.old")"
        check "$lb: cross/$name.crt verifies under the old root" openssl verify -CAfile "$W/$lb-$name.old" "$f"
        is_eq "$lb: cross/$name.crt is a CA" "$(cval "$f" basicConstraints | cut -d, -f1)" "CA:TRUE"
    done < <(mq "$d" '[" ".join([c["name"], c["cert"], c["key"]]) for c in roots]')
    # every intermediate: signed by its parent's new certificate
    while read -r name cert key rcert; do
        nth_cert "$s/$cert" 1 >"$W/$lb-$name.inew"
        matches "$lb: new intermediate $name matches the staged key" "$W/$lb-$name.inew" "$s/$key"
        nth_cert "$s/$rcert" 1 >"$W/$lb-$name.iroot"
        check "$lb: new intermediate $name verifies under the new root" openssl verify -CAfile "$W/$lb-$name.iroot" "$W/$lb-$name.inew"
        has "$lb: new intermediate $name: CN ends with @UNIXTIME" "$(cn_of "$W/$lb-$name.inew")" '@[0-9]+$'
    done < <(mq "$d" '[" ".join([c["name"], c["cert"], c["key"], cas[c["parent"]]["cert"]]) for c in inters]')
    # plain keys: a new key first, then the current one
    while read -r name kpath; do
        is_eq "$lb: staged $kpath holds 2 keys" "$(nkeys "$s/$kpath")" 2
        same "$lb: staged $kpath: the current key second" "$(kpub_n "$s/$kpath" 2)" "$(kpub "$d/$kpath")"
        is_ne "$lb: staged $kpath: a new key first" "$(kpub_n "$s/$kpath" 1)" "$(kpub "$d/$kpath")"
    done < <(mq "$d" '[k["name"] + " " + k["key"] for k in keys]')
    n=$(mq "$d" '[len(roots)]')
    is_eq "$lb: trust-bundle.pem holds every new root then every current root" "$(ncerts "$s/trust-bundle.pem")" $((2 * n))
    is_eq "$lb: trust-bundle.pem starts with the new roots" \
        "$(fps "$s/trust-bundle.pem" | cut -d'|' -f1-"$n")" \
        "$(mq "$d" '[c["name"] for c in roots]' | while read -r name; do fp256 "$W/$lb-$name.new"; done | paste -sd'|' -)"

    # --dry-run
    pk_ok "$lb: ca rotate --dry-run" ca rotate --dir="$d" --path="$s" --dry-run
    cp "$T_TMP/.out" "$W/$lb-dry.out"
    while read -r name; do
        has "$lb: dry run: leaf $name would verify everywhere" "$(grep -E "^leaf $name:" "$W/$lb-dry.out")" \
            'old CAs: yes, with the new CA alone: yes; the current one with the new bundle: yes'
    done < <(mq "$d" '[l["name"] for l in leaves]')
    lacks "$lb: dry run: no NO" "$(cat "$W/$lb-dry.out")" '\bNO\b'
    is_eq "$lb: dry run changes nothing" "$(snapshot "$d")" "$pre"

    # rotate
    pk_ok "$lb: ca rotate" ca rotate --dir="$d" --path="$s"
    cp "$T_TMP/.out" "$W/$lb-rotate.out"
    absent "$lb: no shadow folder left" "$(txn_of "$d")"
    leaves_verify "$lb" "$d" "$od"
    # the chain served: leaf, non-root CAs, cross/ROOT
    while read -r name cert rname ninter; do
        is_eq "$lb: $name.crt holds leaf, $ninter intermediate(s) and the cross certificate" "$(ncerts "$d/$cert")" $((2 + ninter))
        nth_cert "$d/$cert" $((2 + ninter)) >"$W/$lb-$name.last"
        same "$lb: $name.crt ends with cross/$rname.crt" "$(fp256 "$W/$lb-$name.last")" "$(fp256 "$s/cross/$rname.crt")"
    done < <(mq "$d" '[" ".join([l["name"], l["cert"], top(l["ca"]), str(depth(l["ca"]))]) for l in leaves]')
    status_ok "$lb: cluster status all ok after rotate" "$d"
    check "$lb: pkictl-trust-bundle.pem is the staged trust-bundle.pem" cmp "$d/pkictl-trust-bundle.pem" "$s/trust-bundle.pem"
    while read -r f; do
        check "$lb: DIR/$f is the staged one" cmp "$d/$f" "$s/$f"
    done < <(mq "$d" '[c["cert"] for c in m["cas"]] + [c["key"] for c in m["cas"]] + [k["key"] for k in keys]')
    while read -r kpath; do
        is_eq "$lb: $kpath holds 2 keys" "$(nkeys "$d/$kpath")" 2
        same "$lb: $kpath: the old key second" "$(kpub_n "$d/$kpath" 2)" "$(kpub "$od/$kpath")"
        mode_is "$lb: $kpath mode 0600" "$d/$kpath" 600
    done < <(mq "$d" '[k["key"] for k in keys]')
    while read -r kpath; do mode_is "$lb: CA key $kpath mode 0600" "$d/$kpath" 600
    done < <(mq "$d" '[c["key"] for c in m["cas"]]')
    exists "$lb: pkictl-state.json exists" "$d/pkictl-state.json"
    is_json "$lb: pkictl-state.json is JSON" "$d/pkictl-state.json"
    is_eq "$lb: state: one retired entry per root" "$(sj "$d/pkictl-state.json" "sorted(r['ca'] for r in d['retired'])")" \
        "$(mq "$d" '[__import__("json").dumps(sorted(c["name"] for c in roots))]')"
    is_eq "$lb: state: the cross certificate of every root" "$(sj "$d/pkictl-state.json" "sorted(d['cross'])")" \
        "$(mq "$d" '[__import__("json").dumps(sorted(c["name"] for c in roots))]')"
}

# --- cockroach
CK="$T_TMP/ck"; mkdir -p "$CK"
pk_ok "setup: cockroach cluster" cluster init --profile=cockroach --dir="$CK"
happy ck "$CK"

# --- k3s
K3="$T_TMP/k3s"; mkdir -p "$K3"
pk_ok "setup: k3s cluster" cluster init --profile=k3s --dir="$K3"
is_eq "k3s: 5 root CAs" "$(mq "$K3" '[len(roots)]')" 5
happy k3s "$K3"
is_eq "k3s: service.key holds the new key then the old one" \
    "$(kpub_n "$K3/service.key" 1 | sha256sum)|$(kpub_n "$K3/service.key" 2 | sha256sum)" \
    "$(kpub_n "$W/k3s-S/service.key" 1 | sha256sum)|$(kpub "$W/k3s-old/service.key" | sha256sum)"
has "k3s: service.key is RSA" "$(nth_key "$K3/service.key" 1 | openssl pkey -noout -text 2>/dev/null | head -n1)" 'Private-Key: \(2048 bit'

# --- custom manifest: root, intermediate that signs leaves, a leaf directly under the root
cat >"$W/custom.json" <<'EOF'
{"version": 1,
 "cas": [{"name": "root", "cert": "root.crt", "key": "root.key", "subject": "/O=t/CN=root CA"},
         {"name": "inter", "cert": "inter/ca.crt", "key": "inter/ca.key", "subject": "/O=t/CN=inter CA", "parent": "root"}],
 "leaves": [{"name": "web", "ca": "inter", "cert": "inter/web.crt", "key": "inter/web.key", "subject": "/O=t/CN=web",
             "sans": ["dns:web.local", "ip:10.0.0.1"], "usage": "server"},
            {"name": "api", "ca": "inter", "cert": "api.crt", "key": "api.key", "subject": "/CN=api", "usage": "client"},
            {"name": "direct", "ca": "root", "cert": "direct.crt", "key": "direct.key", "subject": "/CN=direct",
             "sans": ["dns:direct.local"], "usage": "both"}],
 "keys": [{"name": "service", "key": "service.key"}]}
EOF
CU="$T_TMP/custom"; mkdir -p "$CU"
pk_ok "setup: custom cluster (root, intermediate, 3 leaves, a plain key)" cluster init --manifest="$W/custom.json" --dir="$CU"
happy custom "$CU"
nth_cert "$CU/inter/ca.crt" 1 >"$W/cu-inter.pem"; nth_cert "$CU/root.crt" 1 >"$W/cu-root.pem"
same "custom: web is signed by the new intermediate" "$(caki "$CU/inter/web.crt")" "$(cski "$W/cu-inter.pem")"
same "custom: direct is signed by the new root" "$(caki "$CU/direct.crt")" "$(cski "$W/cu-root.pem")"
check "custom: web verifies for sslserver with the new root" openssl verify -purpose sslserver -CAfile "$W/cu-root.pem" -untrusted "$CU/inter/web.crt" "$CU/inter/web.crt"

# ================================================================ 2. prune
# right after the rotation: kept, nothing changed
VU=$(sj "$CK/pkictl-state.json" "d['retired'][0]['valid_until']")
has "state: valid_until is a number" "$VU" '^[0-9]+$'
is_eq "state: valid_until is when the last leaf the old CA signed expires" "$VU" \
    "$(for f in node client.root; do not_after "$W/ck-old/$f.crt"; done | sort -n | tail -n1)"
P0=$(snapshot "$CK")
pk_ok "prune right after the rotation: exit 0" ca prune --dir="$CK"
out_has "prune right after: the old CA is kept" 'kept'
out_has "prune right after: says until when" "$(date -u -d "@$VU" '+%Y-%m-%d %H:%M:%S')"
lacks "prune right after: no token (the bundle did not change)" "$(cat "$T_TMP/.out")" '^token:'
is_eq "prune right after: nothing changed" "$(snapshot "$CK")" "$P0"
PKICTL_NOW=$((VU - 1)) pk_ok "prune one second before valid_until: exit 0" ca prune --dir="$CK"
out_has "one second before valid_until: kept" 'kept'
is_eq "one second before valid_until: nothing changed" "$(snapshot "$CK")" "$P0"

# pruned_checks LABEL DIR PRUNE_STDOUT OLDROOT TIME: DIR after its old root was pruned
pruned_checks() {
    local lb=$1 d=$2 pout=$3 oroot=$4 name
    cert_count "$lb: ca.crt holds only the new root" "$d/ca.crt" 1
    same "$lb: ca.crt is the new root" "$(fp256 "$d/ca.crt")" "$(fp256 "$W/ck-ca.new")"
    for name in node client.root; do
        cert_count "$lb: $name.crt no longer carries the cross certificate" "$d/$name.crt" 1
        ov "$lb: $name still verifies with the new root" "$W/ck-ca.new" "$d/$name.crt" -attime "$5"
        ov_not "$lb: $name no longer verifies with the old root alone" "$oroot" "$d/$name.crt" -attime "$5"
    done
    is_eq "$lb: state has no cross certificate" "$(sj "$d/pkictl-state.json" "d['cross']")" '{}'
    is_eq "$lb: state has no retired CA" "$(sj "$d/pkictl-state.json" "d['retired']")" '[]'
    cert_count "$lb: pkictl-trust-bundle.pem holds the new root only" "$d/pkictl-trust-bundle.pem" 1
    same "$lb: the token printed is the SHA-256 of pkictl-trust-bundle.pem" "$(tok_out "$pout")" "$(sha_of "$d/pkictl-trust-bundle.pem")"
    same "$lb: the leaf keys are unchanged" "$(cpub "$d/node.crt")" "$(cpub "$W/ck-old/node.crt")"
    PKICTL_NOW=$5 pk_ok "$lb: a second prune: exit 0" ca prune --dir="$d"
    out_has "$lb: a second prune: nothing to prune" 'nothing to prune'
}
# at valid_until: pruned (the documented rule: the recorded time has passed and no leaf needs it)
PV="$T_TMP/prune-vu"; cp -a "$CK" "$PV"
PKICTL_NOW=$VU pk_ok "prune at valid_until: exit 0" ca prune --dir="$PV"
cp "$T_TMP/.out" "$W/prune-vu.out"
out_has "prune at valid_until: the old CA is pruned" '^pruned old CA'
if [ "$(ncerts "$PV/ca.crt")" -eq 1 ]; then
    pruned_checks "prune at valid_until" "$PV" "$W/prune-vu.out" "$W/ck-ca.old" "$VU"
else not_ok "prune at valid_until: ca.crt keeps only the new root" "ca.crt still holds $(ncerts "$PV/ca.crt"); stdout: $(head -c 300 "$W/prune-vu.out")"
fi
# after every re-issued leaf expired too: nothing can need the old root any more
LATE=$(( $(not_after "$CK/node.crt") + 10 ))
PL="$T_TMP/prune-late"; cp -a "$CK" "$PL"
PKICTL_NOW=$LATE pk_ok "prune after every leaf expired: exit 0" ca prune --dir="$PL"
cp "$T_TMP/.out" "$W/prune-late.out"
out_has "prune after every leaf expired: pruned" '^pruned old CA'
pruned_checks "prune after every leaf expired" "$PL" "$W/prune-late.out" "$W/ck-ca.old" "$VU"

# an old CA with no record (appended to ca.crt): kept until it expires, then pruned
UR="$T_TMP/unrec"; mkdir -p "$UR"
pk_ok "setup: cockroach cluster for an unrecorded old CA" cluster init --profile=cockroach --dir="$UR"
cp "$UR/ca.crt" "$W/ur-ca.pem"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/extra.key" -subj "/CN=extra old CA" \
    -days 30 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -out "$W/extra.pem" 2>/dev/null
cat "$W/extra.pem" >>"$UR/ca.crt"
XE=$(not_after "$W/extra.pem")
U0=$(snapshot "$UR")
pk_ok "unrecorded old CA: prune exit 0" ca prune --dir="$UR"
out_has "unrecorded old CA: kept" 'kept.*extra old CA'
out_has "unrecorded old CA: until its expiry" "$(date -u -d "@$XE" '+%Y-%m-%d %H:%M:%S')"
is_eq "unrecorded old CA: nothing changed" "$(snapshot "$UR")" "$U0"
PKICTL_NOW=$((XE - 1)) pk_ok "unrecorded old CA, one second before it expires: exit 0" ca prune --dir="$UR"
out_has "unrecorded old CA, one second before it expires: kept" 'kept'
is_eq "unrecorded old CA, one second before it expires: nothing changed" "$(snapshot "$UR")" "$U0"
PKICTL_NOW=$((XE + 1)) pk_ok "unrecorded old CA, after it expired: exit 0" ca prune --dir="$UR"
out_has "unrecorded old CA, after it expired: pruned" '^pruned old CA.*extra old CA'
check "unrecorded old CA, after it expired: ca.crt is the cluster CA again" cmp "$UR/ca.crt" "$W/ur-ca.pem"
status_ok "unrecorded old CA: pruned, status ok" "$UR"

# two rotations in a row, pruned in order (the clock is pinned so the dates differ)
T0=$(date +%s)
R2="$T_TMP/twice"; mkdir -p "$R2"
PKICTL_NOW=$T0 pk_ok "twice: init" cluster init --profile=cockroach --dir="$R2"
nth_cert "$R2/ca.crt" 1 >"$W/r2-ca0.pem"
PKICTL_NOW=$((T0 + 1000)) pk_ok "twice: stage 1" ca stage --dir="$R2" --out="$W/r2-S1"
PKICTL_NOW=$((T0 + 1000)) pk_ok "twice: rotate 1" ca rotate --dir="$R2" --path="$W/r2-S1"
nth_cert "$R2/ca.crt" 1 >"$W/r2-ca1.pem"
PKICTL_NOW=$((T0 + 2000)) pk_ok "twice: stage 2" ca stage --dir="$R2" --out="$W/r2-S2"
is_eq "twice: the second stage names the CA @T0+2000" "$(cn_of "$W/r2-S2/ca.crt")" "pkictl CA@$((T0 + 2000))"
same "twice: cross 2 is issued by the first new root" "$(cissuer "$W/r2-S2/cross/ca.crt")" "$(csubject "$W/r2-ca1.pem")"
PKICTL_NOW=$((T0 + 2000)) pk_ok "twice: rotate 2" ca rotate --dir="$R2" --path="$W/r2-S2"
nth_cert "$R2/ca.crt" 1 >"$W/r2-ca2.pem"
is_eq "twice: ca.crt holds new2, new1, old" "$(fps "$R2/ca.crt")" "$(fp256 "$W/r2-ca2.pem")|$(fp256 "$W/r2-ca1.pem")|$(fp256 "$W/r2-ca0.pem")"
A2=$((T0 + 2100))
for n in node client.root; do
    ov "twice: $n verifies with the first new root alone" "$W/r2-ca1.pem" "$R2/$n.crt" -attime $A2
    ov "twice: $n verifies with the second new root alone" "$W/r2-ca2.pem" "$R2/$n.crt" -attime $A2
done
is_eq "twice: two retired entries" "$(sj "$R2/pkictl-state.json" "len(d['retired'])")" 2
VU0=$(sj "$R2/pkictl-state.json" "[r['valid_until'] for r in d['retired'] if r['sha256'] == '$(openssl x509 -in "$W/r2-ca0.pem" -outform DER | sha256sum | cut -d' ' -f1)'][0]")
VU1=$(sj "$R2/pkictl-state.json" "[r['valid_until'] for r in d['retired'] if r['sha256'] == '$(openssl x509 -in "$W/r2-ca1.pem" -outform DER | sha256sum | cut -d' ' -f1)'][0]")
is_eq "twice: the oldest CA's record ends when the leaves of init expire" "$VU0" $((T0 + 8760 * 3600))
is_eq "twice: the first new CA's record ends when the leaves of rotation 1 expire" "$VU1" $((T0 + 1000 + 8760 * 3600))
S2=$(snapshot "$R2")
PKICTL_NOW=$((VU0 - 1)) pk_ok "twice: prune before either record ends" ca prune --dir="$R2"
is_eq "twice: nothing pruned before" "$(snapshot "$R2")" "$S2"
PKICTL_NOW=$VU0 pk_ok "twice: prune at the oldest record's end" ca prune --dir="$R2"
out_has "twice: the oldest CA is pruned" '^pruned old CA /O=pkictl/CN=pkictl CA from'
out_has "twice: the first new CA is kept" "kept old CA /O=pkictl/CN=pkictl CA@$((T0 + 1000))"
is_eq "twice: ca.crt holds new2, new1" "$(fps "$R2/ca.crt")" "$(fp256 "$W/r2-ca2.pem")|$(fp256 "$W/r2-ca1.pem")"
for n in node client.root; do
    ov "twice, after the first prune: $n verifies with the first new root alone" "$W/r2-ca1.pem" "$R2/$n.crt" -attime $A2
done
PKICTL_NOW=$VU1 pk_ok "twice: prune at the first new CA's record end" ca prune --dir="$R2"
out_has "twice: the first new CA is pruned" "^pruned old CA /O=pkictl/CN=pkictl CA@$((T0 + 1000))"
is_eq "twice: ca.crt holds new2 only" "$(fps "$R2/ca.crt")" "$(fp256 "$W/r2-ca2.pem")"
for n in node client.root; do
    cert_count "twice, after both prunes: $n.crt is the leaf alone" "$R2/$n.crt" 1
    ov "twice, after both prunes: $n verifies with the newest root" "$W/r2-ca2.pem" "$R2/$n.crt" -attime $A2
done

# ================================================================ 3. bad input
B="$T_TMP/bad"; mkdir -p "$B"
pk_ok "setup: custom cluster for the refusals" cluster init --manifest="$W/custom.json" --dir="$B"
BS="$W/bad-S"
pk_ok "setup: stage it" ca stage --dir="$B" --out="$BS"
U="$T_TMP/other"; mkdir -p "$U"
pk_ok "setup: another cluster from the same manifest" cluster init --manifest="$W/custom.json" --dir="$U"
pk_ok "setup: stage the other cluster" ca stage --dir="$U" --out="$W/other-S"
# bad NAME: a fresh copy of the good staging folder
bad() { rm -rf "$W/bad-$1"; cp -a "$BS" "$W/bad-$1"; echo "$W/bad-$1"; }

X=$(bad nojson); rm "$X/pkictl-stage.json"
refused "staging without pkictl-stage.json" "$B" "$X" -- ca rotate --dir="$B" --path="$X"
err_has "names pkictl-stage.json" 'pkictl-stage\.json'
i=0
for f in root.crt root.key cross/root.crt inter/ca.crt inter/ca.key service.key; do
    i=$((i + 1)); X=$(bad "miss$i"); rm "$X/$f"     # (folder names never contain the file names)
    refused "staged $f deleted" "$B" "$X" -- ca rotate --dir="$B" --path="$X"
    err_has "staged $f deleted: names it" "${f//./\\.}"
done
X=$(bad several); rm "$X/root.key" "$X/cross/root.crt"; openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$X/inter/ca.key" 2>/dev/null
refused "three problems at once" "$B" "$X" -- ca rotate --dir="$B" --path="$X"
err_has "three problems: root.key listed" 'root\.key'
err_has "three problems: cross/root.crt listed" 'cross/root\.crt'
err_has "three problems: inter/ca.key listed" 'inter/ca\.key'
err_has "three problems: counted" '\b3 problems'
X=$(bad wrongkey); openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$X/root.key" 2>/dev/null; chmod 600 "$X/root.key"
refused "a staged key that does not match its certificate" "$B" "$X" -- ca rotate --dir="$B" --path="$X"
err_has "wrong key: names root.key and says it does not match" 'root\.key.*match|match.*root\.key'
refused "--dry-run with a bad staging folder" "$B" "$X" -- ca rotate --dir="$B" --path="$X" --dry-run
err_has "--dry-run with a bad staging folder: names the problem" 'root\.key'
X=$(bad crossother); cp "$W/other-S/cross/root.crt" "$X/cross/root.crt"
refused "a cross certificate issued by an unrelated CA" "$B" "$X" -- ca rotate --dir="$B" --path="$X"
err_has "unrelated cross: names cross/root.crt" 'cross/root\.crt'
X=$(bad crosskey)
nth_cert "$B/root.crt" 1 >"$W/b-oldroot.pem"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/ck.key" -subj "$(cn_of "$X/root.crt" | sed 's|^|/O=t/CN=|')" -out "$W/ck.csr" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$W/ca-ext.cnf"
openssl x509 -req -in "$W/ck.csr" -CA "$W/b-oldroot.pem" -CAkey "$B/root.key" -set_serial 7 -days 100 -extfile "$W/ca-ext.cnf" -out "$X/cross/root.crt" 2>/dev/null
same "setup: the forged cross has the new root's subject" "$(csubject "$X/cross/root.crt")" "$(nth_cert "$X/root.crt" 1 >"$W/b-new.pem"; csubject "$W/b-new.pem")"
refused "a cross certificate (by the old root) for another key" "$B" "$X" -- ca rotate --dir="$B" --path="$X"
err_has "cross for another key: names cross/root.crt" 'cross/root\.crt'
X=$(bad trunc); head -c $(( $(wc -c <"$BS/root.crt") / 2 )) "$BS/root.crt" >"$X/root.crt"
refused "a truncated PEM (root.crt cut in half)" "$B" "$X" -- ca rotate --dir="$B" --path="$X"
err_has "truncated: names root.crt" 'root\.crt'
err_has "truncated: says truncated or malformed" 'truncat|malformed'
X=$(bad notca); { nth_cert "$B/direct.crt" 1; cat "$B/root.crt"; } >"$X/root.crt"; cp "$B/direct.key" "$X/root.key"
refused "a staged certificate that is not a CA (a leaf and its key)" "$B" "$X" -- ca rotate --dir="$B" --path="$X"
err_has "not a CA: says so" 'not a CA'
refused "staging folder of another cluster" "$B" "$W/other-S" -- ca rotate --dir="$B" --path="$W/other-S"
err_has "another cluster: says the CA changed since staged" 'changed|stage again|another'
MC="$T_TMP/bad-mc"; cp -a "$B" "$MC"
python3 - "$MC/pkictl-cluster.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1])); m["leaves"][0]["sans"].append("dns:extra.local"); json.dump(m, open(sys.argv[1], "w"))
EOF
refused "the manifest changed after staging" "$MC" "$BS" -- ca rotate --dir="$MC" --path="$BS"
err_has "manifest changed: says so" 'manifest'
X=$(bad svc); openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$X/service.key" 2>/dev/null; chmod 600 "$X/service.key"
refused "a staged service.key without the current key" "$B" "$X" -- ca rotate --dir="$B" --path="$X"
err_has "service.key lost the current key: names it" 'service'
X=$(bad field)
python3 - "$X/pkictl-stage.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); d["bogus_field"] = 1; json.dump(d, open(sys.argv[1], "w"))
EOF
refused "an unknown field in pkictl-stage.json" "$B" "$X" -- ca rotate --dir="$B" --path="$X"
err_has "unknown field: names it" 'bogus_field'
X=$(bad ctlfield)
python3 - "$X/pkictl-stage.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); d["\u001b[2Jx\ny"] = 1; json.dump(d, open(sys.argv[1], "w"))
EOF
refused "an unknown field with control characters" "$B" "$X" -- ca rotate --dir="$B" --path="$X"
err_has "control characters in a field name are shown as \\xNN" 'unknown field "\\x1b\[2Jx\\x0ay"'
X=$(bad array); echo '[{"version": 1}]' >"$X/pkictl-stage.json"
refused "pkictl-stage.json that is a JSON array" "$B" "$X" -- ca rotate --dir="$B" --path="$X"
err_has "a JSON array: says it is not an object" 'pkictl-stage\.json: not a JSON object'
X=$(bad notjson); echo '{"version": 1,' >"$X/pkictl-stage.json"
refused "pkictl-stage.json that is not JSON" "$B" "$X" -- ca rotate --dir="$B" --path="$X"

# pkictl-stage.json fields of a type or shape ca stage never writes: refused, nothing changed
# stage_edit NAME PYTHON: a fresh copy of the good staging folder, its pkictl-stage.json (d)
# changed by PYTHON; ca(n) is CA n's entry of d['cas']
stage_edit() {
    local x; x=$(bad "$1")
    python3 - "$x/pkictl-stage.json" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
ca = lambda n: [c for c in d["cas"] if c["name"] == n][0]
exec(sys.argv[2])
json.dump(d, open(sys.argv[1], "w"))
EOF
    echo "$x"
}
# shape_refused "what" NAME PYTHON FIELD_REGEX [rotate flags]: refused, the problem names
# pkictl-stage.json and the field, and pkictl-stage.json itself is unchanged (cmp)
shape_refused() {
    local what=$1 x re=$4; x=$(stage_edit "$2" "$3"); shift 4
    cp "$x/pkictl-stage.json" "$W/shape-before.json"
    refused "$what" "$B" "$x" -- ca rotate --dir="$B" --path="$x" "$@"
    err_has "$what: names the file and the field" "^  - .*pkictl-stage\.json: $re"
    err_has "$what: the refusal" 'cannot rotate: [0-9]+ problems? \(listed above\); nothing was changed'
    check "$what: pkictl-stage.json unchanged (cmp)" cmp "$x/pkictl-stage.json" "$W/shape-before.json"
}
for v in 7 true '["cross/root.crt"]' '{"path": "cross/root.crt"}'; do
    shape_refused "cross of the wrong type ($v)" cross-root "ca('root')['cross'] = json.loads('$v')" \
        'CA root: "cross" must be a path \(a string\) or null'
done
shape_refused "cross of the wrong type on an intermediate" cross-inter "ca('inter')['cross'] = 0" \
    'CA inter: "cross" must be a path \(a string\) or null'
shape_refused "cross of the wrong type, with --force" cross-force "ca('root')['cross'] = 1" \
    'CA root: "cross" must be a path' --force
shape_refused "cross of the wrong type, with --dry-run" cross-dry "ca('root')['cross'] = 1" \
    'CA root: "cross" must be a path' --dry-run
for v in '"1795541416"' 1.5 -1 null '[1]'; do
    shape_refused "staged_at of the wrong shape ($v)" staged-at "d['staged_at'] = json.loads('$v')" \
        '"staged_at" must be a whole number of seconds since 1970'
done
shape_refused "token missing" token-none "del d['token']" 'no "token"'
for v in 7 None "d['token'].upper().replace('PKICTL1:SHA256:', 'pkictl1:sha256:')" \
         "d['token'].replace('pkictl1', 'pkictl2')" "d['token'][:-1]" "d['token'] + '0'" \
         "d['token'].replace('sha256:', 'sha256: ')[:-1]" "d['token'][:-1] + 'g'"; do
    shape_refused "token of the wrong shape ($v)" token "d['token'] = $v" \
        '"token" must be a string "pkictl1:sha256:" and 64 lowercase hex digits'
done
X=$(stage_edit several-shapes "d['token'] = 1; d['staged_at'] = 'x'; ca('inter')['cross'] = 2")
refused "three fields of the wrong shape at once" "$B" "$X" -- ca rotate --dir="$B" --path="$X"
err_has "three wrong shapes: all counted" '\b3 problems'
# what ca stage writes passes: cross null (the intermediate), and staged_at is optional
is_eq "the staged file has cross null for the intermediate" \
    "$(sj "$BS/pkictl-stage.json" "[c['cross'] for c in d['cas'] if c['name'] == 'inter'][0]")" null
X=$(stage_edit no-staged-at "del d['staged_at']")
pk_ok "no staged_at: ca rotate --dry-run accepts it" ca rotate --dir="$B" --path="$X" --dry-run
for v in "d['keys'][0]['key'] = 'other.key'" "d['keys'][0]['name'] = 'other'" "del d['keys']" \
         "d['keys'] = {}" "d['keys'] = []" "d['keys'][0]['extra'] = 1" "d['keys'].append(d['keys'][0])"; do
    shape_refused "keys that are not the manifest's ($v)" keys "$v" \
        '"keys" is not the manifest.s list of keys as .pkictl ca stage. writes it'
done
for v in "'other.pem'" 7 None; do
    shape_refused "trust_bundle of another value ($v)" trust-bundle "d['trust_bundle'] = $v" \
        '"trust_bundle" must be "trust-bundle\.pem"'
done
# a refused "cross" on a root is one problem, without a second line saying --force accepts it
X=$(stage_edit cross-one "ca('root')['cross'] = 7")
refused "a root's cross of the wrong type" "$B" "$X" -- ca rotate --dir="$B" --path="$X"
err_has "a root's cross of the wrong type: one problem" 'cannot rotate: 1 problem \(listed above\)'
lacks "a root's cross of the wrong type: no 'no cross-signed certificate' line" "$(cat "$T_TMP/.err")" \
    'no cross-signed certificate|--force accepts'

# trust-bundle.pem is installed as the bundle peers trust: it must be what ca stage wrote (its
# SHA-256 is the token) and hold exactly the staged roots, then the current ones
# bundle_edit NAME SHELL [token]: a fresh staging copy whose trust-bundle.pem SHELL rewrote (from
# $X/tb.orig); with "token", pkictl-stage.json's token is set to the new bundle's SHA-256
bundle_edit() {
    local x; x=$(bad "$1")
    cp "$x/trust-bundle.pem" "$x/tb.orig"
    (cd "$x" && eval "$2") >"$x/trust-bundle.pem"
    rm "$x/tb.orig"
    if [ "${3:-}" = token ]; then
        python3 - "$x/pkictl-stage.json" "$(sha_of "$x/trust-bundle.pem")" <<'EOF2'
import json, sys
d = json.load(open(sys.argv[1])); d["token"] = "pkictl1:sha256:" + sys.argv[2]; json.dump(d, open(sys.argv[1], "w"))
EOF2
    fi
    echo "$x"
}
nth_cert "$W/other-S/root.crt" 1 >"$W/foreign-root.pem"
NB=$(ncerts "$BS/trust-bundle.pem")
X=$(bundle_edit tb-add "cat tb.orig '$W/foreign-root.pem'")
for f in "" --force --dry-run; do
    refused "a foreign root appended to trust-bundle.pem${f:+ ($f)}" "$B" "$X" -- ca rotate --dir="$B" --path="$X" $f
    err_has "foreign root appended${f:+ ($f)}: the bundle's hash is not the token" \
        'trust-bundle\.pem changed after staging: its SHA-256 is not the token in pkictl-stage\.json'
done
X=$(bundle_edit tb-add-tok "cat tb.orig '$W/foreign-root.pem'" token)
refused "a foreign root appended, the token updated to match" "$B" "$X" -- ca rotate --dir="$B" --path="$X" --force
err_has "foreign root, token matching: not the staged and current roots" \
    'trust-bundle\.pem is not the staged roots followed by the current ones .*stage again'
X=$(bundle_edit tb-drop "for i in \$(seq $((NB / 2))); do nth_cert tb.orig \$i; done" token)
is_eq "setup: the cut bundle holds the new roots only" "$(ncerts "$X/trust-bundle.pem")" $((NB / 2))
refused "the current roots removed from trust-bundle.pem (token matching)" "$B" "$X" -- ca rotate --dir="$B" --path="$X"
err_has "current roots removed: not the staged and current roots" 'is not the staged roots followed by the current ones'
X=$(bundle_edit tb-order "for i in \$(seq $NB -1 1); do nth_cert tb.orig \$i; done" token)
refused "trust-bundle.pem in another order (token matching)" "$B" "$X" -- ca rotate --dir="$B" --path="$X"
err_has "another order: not the staged and current roots" 'is not the staged roots followed by the current ones'

# report lines and errors quote paths and file text: shown escaped (\xNN), never raw
# no_raw "what" FILE: FILE is valid UTF-8 with no control byte but newline (C0, DEL, C1)
no_raw() {
    if python3 -c 'import re, sys
b = open(sys.argv[1], "rb").read()
b.decode("utf-8")
sys.exit(1 if re.search(rb"[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]", b) else 0)' "$2" 2>/dev/null; then ok "$1"
    else not_ok "$1" "$(od -c "$2" | head -n 8)"; fi
}
ESC=$'\033'
EO="$W/esc-${ESC}[2J-é-"$'\xc2\x9b'"-"$'\xff'"-"$'\n'"forged"
pk_ok "ca stage --out with ESC, a newline, C1 and bad UTF-8 in the folder name" ca stage --dir="$B" --out="$EO"
if LC_ALL=C grep -q "$ESC" "$T_TMP/.out"; then not_ok "stage: no raw ESC on stdout"; else ok "stage: no raw ESC on stdout"; fi
no_raw "stage: stdout has no raw control byte" "$T_TMP/.out"
no_raw "stage: stderr has no raw control byte" "$T_TMP/.err"
out_has "stage: ESC shown as \\x1b" '^wrote .*/esc-\\x1b\[2J-'
out_has "stage: valid UTF-8 kept, C1 and a bad byte as \\xNN, the newline as \\x0a" \
    '/esc-\\x1b\[2J-é-\\xc2\\x9b-\\xff-\\x0aforged/pkictl-stage\.json$'
is_eq "stage: no forged line (each one is staged, wrote or token)" \
    "$(grep -Evc '^(staged (CA|key) |wrote |token: )' "$T_TMP/.out")" 0
rm "$EO/root.key"
refused "a problem in a staging folder named with ESC" "$B" "$EO" -- ca rotate --dir="$B" --path="$EO"
if LC_ALL=C grep -q "$ESC" "$T_TMP/.err"; then not_ok "rotate: no raw ESC on stderr"; else ok "rotate: no raw ESC on stderr"; fi
no_raw "rotate problem lines: no raw control byte on stderr" "$T_TMP/.err"
err_has "rotate problem lines: the path with \\x1b and \\x0a" \
    '^  - CA root: missing file .*/esc-\\x1b\[2J-é-\\xc2\\x9b-\\xff-\\x0aforged/root\.key$'
X=$(stage_edit ctl-field "d['bogus\u009b\u001b[1A'] = 1")
refused "an unknown field with ESC and U+009B" "$B" "$X" -- ca rotate --dir="$B" --path="$X"
no_raw "unknown field with ESC: no raw control byte on stderr" "$T_TMP/.err"
err_has "unknown field with ESC: shown as \\xNN" 'unknown field "bogus\\xc2\\x9b\\x1b\[1A"'
refused "an error message (cli_fail) quoting a path with ESC" "$B" "$W" -- ca rotate --dir="$B" --path="$W/nope-$ESC[2J"
no_raw "error message: no raw control byte" "$T_TMP/.err"
err_has "error message: ESC shown as \\x1b" 'nope-\\x1b\[2J'
refused "--path that does not exist" "$B" "$W" -- ca rotate --dir="$B" --path="$W/nope"
refused "ca stage --out to an existing folder" "$B" "$BS" -- ca stage --dir="$B" --out="$BS"
err_has "stage to an existing folder: names it" 'exists'
mkdir -p "$W/emptyout"
refused "ca stage --out to an existing empty folder" "$B" "$W/emptyout" -- ca stage --dir="$B" --out="$W/emptyout"
NC="$T_TMP/notcluster"; mkdir -p "$NC"; echo x >"$NC/file"
refused "ca stage on a folder that is not a cluster" "$NC" "$W" -- ca stage --dir="$NC" --out="$W/nc-S"
err_has "not a cluster: names pkictl-cluster.json" 'pkictl-cluster\.json'
absent "not a cluster: no staging folder made" "$W/nc-S"
refused "ca rotate on a folder that is not a cluster" "$NC" "$BS" -- ca rotate --dir="$NC" --path="$BS"
refused "ca prune on a folder that is not a cluster" "$NC" "$W" -- ca prune --dir="$NC"

# --force: a staged root with no path from the old one
for kind in crossother nocross; do
    X=$(bad "force-$kind")
    if [ "$kind" == crossother ]; then cp "$W/other-S/cross/root.crt" "$X/cross/root.crt"; else rm "$X/cross/root.crt"; fi
    F="$T_TMP/force-$kind"; rm -rf "$F"; cp -a "$B" "$F"
    refused "$kind: refused without --force" "$F" "$X" -- ca rotate --dir="$F" --path="$X"
    [ "$kind" == nocross ] && err_has "$kind: the refusal names --force" '--force'
    FS=$(snapshot "$F")
    pk_rc "$kind: --dry-run --force reports what would not verify (exit 3)" 3 ca rotate --dir="$F" --path="$X" --dry-run --force
    has "$kind: dry run: leaves would not verify with the old CAs" "$(cat "$T_TMP/.out")" 'old CAs: NO'
    is_eq "$kind: dry run changes nothing" "$(snapshot "$F")" "$FS"
    pk_ok "$kind: accepted with --force" ca rotate --dir="$F" --path="$X" --force
    cp "$T_TMP/.err" "$W/force.err"
    has "$kind: --force prints warning: lines" "$(cat "$W/force.err")" '^warning:'
    for n in web api direct root; do
        has "$kind: a warning names $n" "$(grep '^warning:' "$W/force.err")" "\b$n\b"
    done
    has "$kind: the warning says peers trusting only the old CA reject" "$(cat "$W/force.err")" 'only .*old.*reject'
    for n in web:inter/web.crt api:api.crt direct:direct.crt; do
        ov_not "$kind: ${n%%:*} no longer verifies with the old root alone" "$W/b-oldroot.pem" "$F/${n#*:}"
        nth_cert "$F/root.crt" 1 >"$W/f-new.pem"
        ov "$kind: ${n%%:*} verifies with the new root alone" "$W/f-new.pem" "$F/${n#*:}"
        cert_count "$kind: ${n%%:*} carries no cross certificate" "$F/${n#*:}" "$([ "${n%%:*}" == direct ] && echo 1 || echo 2)"
    done
    status_ok "$kind: status ok after --force" "$F"
done

# manifest problems in DIR/pkictl-cluster.json: every command refuses, listing them
mbad() {
    MB_N=$((MB_N + 1))
    local lb=$1 code=$2 re=$3 d="$T_TMP/mb$MB_N"
    rm -rf "$d"; cp -a "$B" "$d"
    python3 - "$d/pkictl-cluster.json" "$code" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1])); exec(sys.argv[2]); json.dump(m, open(sys.argv[1], "w"))
EOF
    refused "manifest $lb: ca stage" "$d" "$W" -- ca stage --dir="$d" --out="$W/mb$MB_N-S"
    err_has "manifest $lb: ca stage lists it" "$re"
    absent "manifest $lb: no staging folder" "$W/mb$MB_N-S"
    refused "manifest $lb: ca rotate" "$d" "$BS" -- ca rotate --dir="$d" --path="$BS"
    err_has "manifest $lb: ca rotate lists it" "$re"
    refused "manifest $lb: ca prune" "$d" "$W" -- ca prune --dir="$d"
    err_has "manifest $lb: ca prune lists it" "$re"
    refused "manifest $lb: cluster renew" "$d" "$W" -- cluster renew --dir="$d"
    err_has "manifest $lb: cluster renew lists it" "$re"
}
MB_N=0
mbad unknown-field 'm["colour"] = "blue"' 'colour'
mbad cycle 'm["cas"][0]["parent"] = "inter"' 'cycle'
mbad leaf-ca 'm["leaves"][2]["ca"] = "nosuchca"' 'nosuchca'
mbad three 'm["colour"] = "blue"; m["leaves"][2]["ca"] = "nosuchca"; m["keys"][0]["key_type"] = "elgamal"' \
    'colour.*nosuchca.*elgamal|3 problems'
err_has "manifest three: colour listed" 'colour'
err_has "manifest three: nosuchca listed" 'nosuchca'
err_has "manifest three: elgamal listed" 'elgamal'

# command line
pk_fails "ca stage without --dir: exit 2" 2 ca stage --out="$W/x-S"
pk_fails "ca stage without --out: exit 2" 2 ca stage --dir="$B"
pk_fails "ca rotate without --path: exit 2" 2 ca rotate --dir="$B"
pk_fails "ca rotate without --dir: exit 2" 2 ca rotate --path="$BS"
pk_fails "ca prune without --dir: exit 2" 2 ca prune
pk_fails "ca rotate with an unknown flag: exit 2" 2 ca rotate --dir="$B" --path="$BS" --bogus
pk_fails "ca without a subcommand: exit 2" 2 ca
pk_fails "ca with an unknown subcommand: exit 2" 2 ca frobnicate
absent "no staging folder made by the command-line errors" "$W/x-S"
pk_ok "ca --help" ca --help
out_has "ca --help lists stage, rotate and prune" 'stage'
for c in stage rotate prune; do
    pk_ok "ca $c --help" ca "$c" --help
    out_has "ca $c --help: usage line" "^Usage: pkictl ca $c"
    out_has "ca $c --help: names --dir" '--dir'
done
out_has "ca prune --help" 'prune'
pk_ok "ca rotate --help (again, for its flags)" ca rotate --help
out_has "ca rotate --help names --dry-run" '--dry-run'
out_has "ca rotate --help names --force" '--force'
out_has "ca rotate --help names --path" '--path'
pk_ok "ca stage --help (again)" ca stage --help
out_has "ca stage --help names --out" '--out'

# ================================================================ 4. crash safety
CB="$T_TMP/crash-base"; mkdir -p "$CB"
pk_ok "crash: setup cluster" cluster init --manifest="$W/custom.json" --dir="$CB"
pk_ok "crash: setup staging" ca stage --dir="$CB" --out="$W/crash-S"
CB0=$(snapshot "$CB")
for step in built shadow written synced leaves:1 exchanged cleaned; do
    p="$T_TMP/crash-${step/:/-}"; mkdir -p "$p"; cp -a "$CB" "$p/D"; cp -a "$W/crash-S" "$p/S"
    killed "crash at $step" "$step" ca rotate --dir="$p/D" --path="$p/S"
    case $step in
    exchanged|cleaned)
        for f in root.crt root.key inter/ca.crt inter/ca.key service.key; do
            check "crash at $step: $f is the staged one" cmp "$p/D/$f" "$p/S/$f"
        done
        check "crash at $step: pkictl-trust-bundle.pem is the staged bundle" cmp "$p/D/pkictl-trust-bundle.pem" "$p/S/trust-bundle.pem"
        exists "crash at $step: pkictl-state.json" "$p/D/pkictl-state.json"
        leaves_verify "crash at $step" "$p/D" "$CB"
        status_ok "crash at $step: status ok" "$p/D"
        [ "$step" == exchanged ] && exists "crash at exchanged: the old tree is left in the shadow folder" "$(txn_of "$p/D")"
        N1=$(snapshot "$p/D")
        pk_ok "crash at $step: the next command (ca prune) runs" ca prune --dir="$p/D"
        absent "crash at $step: the next command removed the shadow folder" "$(txn_of "$p/D")"
        is_eq "crash at $step: the next command changed nothing else" "$(snapshot "$p/D")" "$N1"
        ;;
    *)
        is_eq "crash at $step: DIR is exactly as before" "$(snapshot "$p/D")" "$CB0"
        pk_ok "crash at $step: ca rotate again succeeds" ca rotate --dir="$p/D" --path="$p/S"
        absent "crash at $step: the shadow folder is gone" "$(txn_of "$p/D")"
        check "crash at $step, rerun: root.crt is the staged one" cmp "$p/D/root.crt" "$p/S/root.crt"
        leaves_verify "crash at $step, rerun" "$p/D" "$CB"
        status_ok "crash at $step, rerun: status ok" "$p/D"
        ;;
    esac
done

# ================================================================ 5. create-ca --overwrite on a cockroach dir
CO="$T_TMP/overwrite"; mkdir -p "$CO"
pk_ok "overwrite: cockroach cluster" cluster init --profile=cockroach --dir="$CO"
cp "$CO/ca.crt" "$W/co-old.pem"
pk_ok "cert create-ca --overwrite on it" cert create-ca --certs-dir="$CO" --ca-key="$W/co-new.key" --key-type=ecdsa --overwrite
cert_count "overwrite: ca.crt holds two CAs" "$CO/ca.crt" 2
nth_cert "$CO/ca.crt" 1 >"$W/co-1.pem"; nth_cert "$CO/ca.crt" 2 >"$W/co-2.pem"
matches "overwrite: the new CA is first" "$W/co-1.pem" "$W/co-new.key"
same "overwrite: the old CA is kept second" "$(fp256 "$W/co-2.pem")" "$(fp256 "$W/co-old.pem")"
is_eq "overwrite: both subjects, new first" "$(subjects "$CO/ca.crt")" "$(csubject "$W/co-1.pem")|$(csubject "$W/co-old.pem")"
ov "overwrite: the old node.crt still verifies with the new ca.crt" "$CO/ca.crt" "$CO/node.crt"

finish
