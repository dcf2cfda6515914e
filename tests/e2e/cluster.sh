#!/usr/bin/env bash
# cluster profile / cluster init / cluster status (docs/manifest.md): built-in profiles, custom
# manifests with intermediates, subfolders and plain keys, a custom root/intermediate, every
# manifest and command-line refusal (nothing on disk changed), and every status verdict.
# ECDSA throughout (the manifest default); the clock is pinned with PKICTL_NOW, no sleeps.
. "$(dirname "$0")/common.sh"
. "$E2E_DIR/sign_common.sh"

W="$T_TMP/w"; mkdir -p "$W"                 # manifests and scratch files
RSV='renew soon|expired|not yet valid|missing|unreadable|key mismatch|broken chain|drift'

# mf OUT PYCODE: the base manifest `m` (a root, an intermediate in etcd/, a leaf under each, a
# plain key), changed by PYCODE, written to OUT as JSON.
mf() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
m = {
  "version": 1,
  "cas": [
    {"name": "ca", "cert": "ca.crt", "key": "ca.key", "subject": "/O=pkictl/CN=cluster CA"},
    {"name": "etcd-ca", "cert": "etcd/ca.crt", "key": "etcd/ca.key", "subject": "/CN=etcd CA",
     "parent": "ca"}
  ],
  "leaves": [
    {"name": "node", "ca": "ca", "cert": "node.crt", "key": "node.key",
     "subject": "/O=pkictl/CN=node", "sans": ["dns:localhost", "ip:127.0.0.1"], "usage": "both"},
    {"name": "etcd-server", "ca": "etcd-ca", "cert": "etcd/server.crt", "key": "etcd/server.key",
     "subject": "/CN=etcd-server", "sans": ["dns:etcd.local", "ip:127.0.0.1"], "usage": "server"}
  ],
  "keys": [
    {"name": "service", "key": "service.key"}
  ]
}
exec(sys.argv[2])
json.dump(m, open(sys.argv[1], "w"), indent=1)
EOF
}
# jeq "what" FILE1 FILE2: both parse as JSON and are equal
jeq() {
    if python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' \
        "$2" "$3" 2>/dev/null; then ok "$1"; else not_ok "$1" "$2 and $3 differ (or are not JSON)"; fi
}
# first_cert FILE OUT: the first certificate of FILE into OUT
first_cert() { nth_cert "$1" 1 >"$2"; }
# eku FILE: the extended key usage value line
eku() { cval "$1" extendedKeyUsage; }
# is_valid_json "what" FILE
is_valid_json() {
    if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$2" 2>/dev/null; then ok "$1"
    else not_ok "$1" "$(head -c 300 "$2")"; fi
}
# rc_in "what" CODES args...: pkictl fails with one of CODES ("1 2"), one `pkictl: ` stderr line
rc_in() {
    local what=$1 codes=$2; shift 2
    "$PKICTL" "$@" >"$T_TMP/.out" 2>"$T_TMP/.err"
    local rc=$?
    case " $codes " in *" $rc "*) ;; *) not_ok "$what" "exit $rc, want one of $codes: $(head -c 300 "$T_TMP/.err")"; return ;; esac
    if [ "$(wc -l <"$T_TMP/.err")" -ne 1 ] || ! grep -q '^pkictl: ' "$T_TMP/.err"; then
        not_ok "$what" "stderr is not one 'pkictl: ' line: $(head -c 400 "$T_TMP/.err")"; return
    fi
    ok "$what"
}

# ---------------------------------------------------------------- status helpers
# st "what" CODE args...: `cluster status` must exit CODE; output in $T_TMP/st.out
st() {
    local what=$1 want=$2; shift 2
    "$PKICTL" cluster status "$@" >"$T_TMP/st.out" 2>"$T_TMP/st.err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then ok "$what (exit $want)"
    else not_ok "$what (exit $want)" "exit $rc: $(head -c 300 "$T_TMP/st.err") $(head -c 600 "$T_TMP/st.out")"; fi
}
# SJ EXPR: python over the JSON in st.out: d, c = certificates, row(NAME), vs() = {name: verdict}
SJ() {
    python3 - "$T_TMP/st.out" "$1" 2>&1 <<'EOF' | tail -n 1
import json, sys
d = json.load(open(sys.argv[1]))
c = d["certificates"]
def row(n):
    r = [x for x in c if x.get("name") == n]
    return r[0] if r else {}
def vs():
    return {x["name"]: x["verdict"] for x in c}
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))
EOF
}
sjis() { is_eq "$1" "$(SJ "$2")" "$3"; }

# ================================================================ cluster profile
for p in cockroach redis-enterprise; do
    pk_ok "cluster profile $p" cluster profile "$p"
    cp "$T_TMP/.out" "$W/$p.json"
    is_valid_json "cluster profile $p prints valid JSON" "$W/$p.json"
    is_eq "$p profile: version 1" "$(jv "$W/$p.json" "d['version']")" 1
    is_eq "$p profile: one CA named ca" "$(jv "$W/$p.json" "[c['name'] for c in d['cas']]")" '["ca"]'
    is_eq "$p profile: nothing on stderr" "$(cat "$T_TMP/.err")" ""
done
is_eq "cockroach profile: leaves node, client.root" \
    "$(jv "$W/cockroach.json" "sorted(l['name'] for l in d['leaves'])")" '["client.root", "node"]'
is_eq "cockroach profile: node.crt/node.key, usage both" \
    "$(jv "$W/cockroach.json" "[[l['cert'], l['key'], l['usage']] for l in d['leaves'] if l['name'] == 'node']")" \
    '[["node.crt", "node.key", "both"]]'
is_eq "cockroach profile: client.root.crt/client.root.key, usage client" \
    "$(jv "$W/cockroach.json" "[[l['cert'], l['key'], l['usage']] for l in d['leaves'] if l['name'] == 'client.root']")" \
    '[["client.root.crt", "client.root.key", "client"]]'
is_eq "cockroach profile: CA ca.crt/ca.key" "$(jv "$W/cockroach.json" "[d['cas'][0]['cert'], d['cas'][0]['key']]")" \
    '["ca.crt", "ca.key"]'
is_eq "redis-enterprise profile: five server leaves" \
    "$(jv "$W/redis-enterprise.json" "sorted([l['name'], l['cert'], l['key'], l['usage']] for l in d['leaves'])")" \
    '[["api", "api_cert.pem", "api_key.pem", "server"], ["cm", "cm_cert.pem", "cm_key.pem", "server"], ["metrics", "metrics_cert.pem", "metrics_key.pem", "server"], ["proxy", "proxy_cert.pem", "proxy_key.pem", "server"], ["syncer", "syncer_cert.pem", "syncer_key.pem", "server"]]'
pk_fails "cluster profile nosuch: refused" 1 cluster profile nosuch
err_has "names the unknown profile" 'nosuch'
is_eq "unknown profile: nothing on stdout" "$(cat "$T_TMP/.out")" ""
pk_fails "cluster profile k8s (no such built-in): refused" 1 cluster profile k8s
pk_fails "cluster profile without a name: exit 2" 2 cluster profile
pk_fails "cluster without a subcommand: exit 2" 2 cluster
pk_fails "unknown cluster subcommand: exit 2" 2 cluster frobnicate
pk_ok "cluster init --help" cluster init --help
out_has "init --help names --manifest" '--manifest'

# each profile's JSON is accepted by init --manifest (pinned clock: default lifetimes)
for p in cockroach redis-enterprise; do
    mkdir -p "$T_TMP/pm-$p"
    PKICTL_NOW=$NOW0 pk_ok "init --manifest=<output of cluster profile $p>" cluster init --manifest="$W/$p.json" --dir="$T_TMP/pm-$p"
    jeq "$p: pkictl-cluster.json is the manifest given" "$T_TMP/pm-$p/pkictl-cluster.json" "$W/$p.json"
done
PM="$T_TMP/pm-cockroach"
is_eq "default CA lifetime 87840h" "$(not_after "$PM/ca.crt")" $((NOW0 + 87840 * 3600))
is_eq "CA notBefore is now-1h" "$(not_before "$PM/ca.crt")" $((NOW0 - 3600))
is_eq "default leaf lifetime 8760h" "$(not_after "$PM/node.crt")" $((NOW0 + 8760 * 3600))
is_eq "default client lifetime 8760h" "$(not_after "$PM/client.root.crt")" $((NOW0 + 8760 * 3600))

# ================================================================ init --profile=cockroach
C="$T_TMP/cockroach"; mkdir -p "$C"
pk_ok "cluster init --profile=cockroach" cluster init --profile=cockroach --dir="$C"
wrote_exist "every wrote PATH exists"
miss=""
for f in ca.crt ca.key node.crt node.key client.root.crt client.root.key pkictl-cluster.json; do
    grep -q "^wrote .*/${f//./\\.}\$" "$T_TMP/.out" || miss="$miss $f"
done
if [ -z "$miss" ]; then ok "a wrote line for each of the 7 files"
else not_ok "a wrote line for each of the 7 files" "none for:$miss; stdout: $(head -c 300 "$T_TMP/.out")"; fi
is_eq "then one summary line" "$(grep -vc '^wrote ' "$T_TMP/.out")" 1
is_eq "exactly the declared files, no staging leftovers" "$(ls -A "$C" | sort | tr '\n' ' ')" \
    "ca.crt ca.key client.root.crt client.root.key node.crt node.key pkictl-cluster.json "
for f in ca.crt node.crt client.root.crt; do mode_is "$f mode 0644" "$C/$f" 644; done
for f in ca.key node.key client.root.key; do
    mode_is "$f mode 0600" "$C/$f" 600
    is_eq "$f is PKCS#8 PEM" "$(head -n1 "$C/$f")" "-----BEGIN PRIVATE KEY-----"
done
is_valid_json "pkictl-cluster.json is JSON" "$C/pkictl-cluster.json"
jeq "pkictl-cluster.json is the cockroach profile" "$C/pkictl-cluster.json" "$W/cockroach.json"
matches "ca.key matches ca.crt" "$C/ca.crt" "$C/ca.key"
matches "node.key matches node.crt" "$C/node.crt" "$C/node.key"
matches "client.root.key matches client.root.crt" "$C/client.root.crt" "$C/client.root.key"
check "openssl verify -CAfile ca.crt node.crt" openssl verify -CAfile "$C/ca.crt" "$C/node.crt"
check "node verifies for sslserver" openssl verify -purpose sslserver -CAfile "$C/ca.crt" "$C/node.crt"
check "client.root verifies for sslclient" openssl verify -purpose sslclient -CAfile "$C/ca.crt" "$C/client.root.crt"
is_eq "ca.crt: CA:TRUE" "$(cval "$C/ca.crt" basicConstraints | cut -d, -f1)" "CA:TRUE"
check "ca.crt is self-signed" openssl verify -CAfile "$C/ca.crt" "$C/ca.crt"
has "CA key is ECDSA P-256" "$(ctext "$C/ca.crt")" 'prime256v1|P-256'
has "node key is ECDSA P-256" "$(ctext "$C/node.crt")" 'prime256v1|P-256'
is_eq "node SANs: localhost, 127.0.0.1, ::1" "$(san_list "$C/node.crt" | sort | tr '\n' '|')" \
    "DNS:localhost|IP Address:0:0:0:0:0:0:0:1|IP Address:127.0.0.1|"
has "node subject CN=node" "$(csubject "$C/node.crt")" '(^|,)CN=node(,|$)'
is_eq "node EKU serverAuth, clientAuth" "$(eku "$C/node.crt" | sorted)" "TLS Web Client Authentication,TLS Web Server Authentication"
has "client.root subject CN=root" "$(csubject "$C/client.root.crt")" '(^|,)CN=root(,|$)'
is_eq "client.root EKU clientAuth" "$(eku "$C/client.root.crt")" "TLS Web Client Authentication"
is_eq "node: CA:FALSE" "$(cval "$C/node.crt" basicConstraints)" "CA:FALSE"
same "node: AKI is the CA's SKI" "$(caki "$C/node.crt")" "$(cski "$C/ca.crt")"
pk_ok "cert list --certs-dir=<cockroach cluster> exits 0 (a clean cockroach dir)" cert list --certs-dir="$C"
pk_ok "cert list --format=json on it" cert list --certs-dir="$C" --format=json
cp "$T_TMP/.out" "$W/list.json"
is_eq "cert list: CA, node, client rows" "$(jv "$W/list.json" "[c['usage'] for c in d['certificates']]")" \
    '["Certificate Authority", "Node", "Client"]'
is_eq "cert list: no errors" "$(jv "$W/list.json" "[c['error'] for c in d['certificates']]")" '["", "", ""]'

# init again: refused, nothing changed
refuses "init again in the same dir" 1 "$C" "$W" -- cluster init --profile=cockroach --dir="$C"
err_has "names an existing file" 'exist'
refuses "init again with a different profile" 1 "$C" "$W" -- cluster init --profile=redis-enterprise --dir="$C"
# one existing file among those named: refused, nothing else written
C2="$T_TMP/c2"; mkdir -p "$C2"; echo "keep me" >"$C2/node.key"; chmod 600 "$C2/node.key"
refuses "a file the profile names already exists (node.key)" 1 "$C2" "$W" -- cluster init --profile=cockroach --dir="$C2"
err_has "names node.key" 'node\.key'
C3="$T_TMP/c3"; mkdir -p "$C3"; echo '{}' >"$C3/pkictl-cluster.json"
refuses "pkictl-cluster.json already exists" 1 "$C3" "$W" -- cluster init --profile=cockroach --dir="$C3"
err_has "names pkictl-cluster.json" 'pkictl-cluster\.json'

# ================================================================ init --profile=redis-enterprise
R="$T_TMP/redis"; mkdir -p "$R"
pk_ok "cluster init --profile=redis-enterprise" cluster init --profile=redis-enterprise --dir="$R"
wrote_exist "redis: every wrote PATH exists"
RCA="$R/$(jv "$R/pkictl-cluster.json" "d['cas'][0]['cert']")"
if [ -f "$RCA" ]; then ok "redis: the CA certificate exists ($RCA)"; else not_ok "redis: the CA certificate exists" "[$RCA]"; fi
is_eq "redis: CA is CA:TRUE" "$(cval "$RCA" basicConstraints | cut -d, -f1)" "CA:TRUE"
for n in proxy cm api syncer metrics; do
    mode_is "redis: ${n}_cert.pem mode 0644" "$R/${n}_cert.pem" 644
    mode_is "redis: ${n}_key.pem mode 0600" "$R/${n}_key.pem" 600
    matches "redis: ${n}_key.pem matches ${n}_cert.pem" "$R/${n}_cert.pem" "$R/${n}_key.pem"
    check "redis: ${n}_cert.pem verifies against the CA" openssl verify -purpose sslserver -CAfile "$RCA" "$R/${n}_cert.pem"
    is_eq "redis: $n EKU serverAuth" "$(eku "$R/${n}_cert.pem")" "TLS Web Server Authentication"
    is_eq "redis: $n SANs localhost, 127.0.0.1" "$(san_list "$R/${n}_cert.pem" | sort | tr '\n' '|')" \
        "DNS:localhost|IP Address:127.0.0.1|"
    has "redis: $n key is ECDSA P-256" "$(ctext "$R/${n}_cert.pem")" 'prime256v1|P-256'
done
st "redis: status right after init" 0 --dir="$R" --format=json
sjis "redis: every verdict ok" "sorted(set(vs().values()))" '["ok"]'
sjis "redis: six entries" "len(c)" 6

# ================================================================ a custom manifest
mf "$W/base.json" ''
B="$T_TMP/base"; mkdir -p "$B"
PKICTL_NOW=$NOW0 pk_ok "init --manifest with an intermediate in etcd/, leaves and a plain key" \
    cluster init --manifest="$W/base.json" --dir="$B"
wrote_exist "custom: every wrote PATH exists"
is_eq "custom: exactly the declared files" "$(cd "$B" && find . -type f | sort | tr '\n' ' ')" \
    "./ca.crt ./ca.key ./etcd/ca.crt ./etcd/ca.key ./etcd/server.crt ./etcd/server.key ./node.crt ./node.key ./pkictl-cluster.json ./service.key "
if [ -d "$B/etcd" ]; then ok "custom: subfolder etcd/ created"; else not_ok "custom: subfolder etcd/ created"; fi
mode_is "custom: etcd/ mode 0700" "$B/etcd" 700
for f in ca.crt etcd/ca.crt node.crt etcd/server.crt; do mode_is "custom: $f mode 0644" "$B/$f" 644; done
for f in ca.key etcd/ca.key node.key etcd/server.key service.key; do mode_is "custom: $f mode 0600" "$B/$f" 600; done
jeq "custom: pkictl-cluster.json is the manifest" "$B/pkictl-cluster.json" "$W/base.json"
first_cert "$B/etcd/ca.crt" "$W/etcd-int.pem"
is_eq "root CA subject" "$(csubject "$B/ca.crt")" "CN=cluster CA,O=pkictl"
is_eq "intermediate subject" "$(csubject "$W/etcd-int.pem")" "CN=etcd CA"
is_eq "intermediate issuer is the root" "$(cissuer "$W/etcd-int.pem")" "CN=cluster CA,O=pkictl"
same "intermediate AKI is the root's SKI" "$(caki "$W/etcd-int.pem")" "$(cski "$B/ca.crt")"
is_eq "intermediate: CA:TRUE, pathlen:0 (it signs no CA)" "$(cval "$W/etcd-int.pem" basicConstraints)" "CA:TRUE, pathlen:0"
matches "intermediate key matches" "$W/etcd-int.pem" "$B/etcd/ca.key"
check "intermediate verifies against D/ca.crt" openssl verify -attime $NOW0 -CAfile "$B/ca.crt" "$W/etcd-int.pem"
check "openssl verify -CAfile D/ca.crt -untrusted D/etcd/ca.crt D/etcd/server.crt" \
    openssl verify -attime $NOW0 -CAfile "$B/ca.crt" -untrusted "$B/etcd/ca.crt" "$B/etcd/server.crt"
check "etcd/server.crt verifies for sslserver" \
    openssl verify -attime $NOW0 -purpose sslserver -CAfile "$B/ca.crt" -untrusted "$B/etcd/ca.crt" "$B/etcd/server.crt"
same "etcd/server.crt AKI is the intermediate's SKI" "$(caki "$B/etcd/server.crt")" "$(cski "$W/etcd-int.pem")"
matches "etcd/server.key matches" "$B/etcd/server.crt" "$B/etcd/server.key"
is_eq "etcd/server.crt EKU serverAuth" "$(eku "$B/etcd/server.crt")" "TLS Web Server Authentication"
is_eq "etcd/server.crt SANs" "$(san_list "$B/etcd/server.crt" | sort | tr '\n' '|')" "DNS:etcd.local|IP Address:127.0.0.1|"
is_eq "etcd/server.crt subject" "$(csubject "$B/etcd/server.crt")" "CN=etcd-server"
check "node.crt verifies against D/ca.crt" openssl verify -attime $NOW0 -CAfile "$B/ca.crt" "$B/node.crt"
is_eq "node.crt subject" "$(csubject "$B/node.crt")" "CN=node,O=pkictl"
is_eq "intermediate default lifetime ends with the root (87840h)" "$(not_after "$W/etcd-int.pem")" $((NOW0 + 87840 * 3600))
is_eq "leaf default lifetime 8760h" "$(not_after "$B/etcd/server.crt")" $((NOW0 + 8760 * 3600))
is_eq "leaf notBefore now-1h" "$(not_before "$B/node.crt")" $((NOW0 - 3600))
has "plain key: RSA 2048 by default" "$(openssl pkey -in "$B/service.key" -noout -text 2>/dev/null | head -n1)" \
    '^Private-Key: \(2048 bit'
is_eq "plain key: PKCS#8 PEM" "$(head -n1 "$B/service.key")" "-----BEGIN PRIVATE KEY-----"
check "plain key: openssl pkey -check" openssl pkey -in "$B/service.key" -check -noout
PKICTL_NOW=$NOW0 st "custom: status right after init" 0 --dir="$B" --format=json
sjis "custom: names and kinds" "sorted([x['name'], x['kind']] for x in c)" \
    '[["ca", "ca"], ["etcd-ca", "ca"], ["etcd-server", "leaf"], ["node", "leaf"]]'
sjis "custom: every verdict ok" "sorted(set(vs().values()))" '["ok"]'
sjis "custom: leaves name their CA" "[row('node')['ca'], row('etcd-server')['ca']]" '["ca", "etcd-ca"]'
sjis "custom: the plain key has no row" "row('service')" '{}'

# a plain key with another type, an explicit CA key type, and a leaf whose default lifetime
# is shortened to end with its short-lived CA
mf "$W/types.json" '
m["cas"] = [{"name": "tiny", "cert": "tiny.crt", "key": "tiny.key", "subject": "/CN=tiny", "lifetime": "100h",
             "key_type": "ecdsa", "key_size": 384}]
m["leaves"] = [{"name": "l", "ca": "tiny", "cert": "l.crt", "key": "l.key", "subject": "/CN=l", "usage": "client"}]
m["keys"] = [{"name": "sa", "key": "sa.key", "key_type": "ecdsa", "key_size": 256}]'
TY="$T_TMP/types"; mkdir -p "$TY"
PKICTL_NOW=$NOW0 pk_ok "init: P-384 CA, short CA lifetime, ECDSA plain key" cluster init --manifest="$W/types.json" --dir="$TY"
has "P-384 CA" "$(ctext "$TY/tiny.crt")" 'secp384r1|P-384'
is_eq "CA lifetime 100h" "$(not_after "$TY/tiny.crt")" $((NOW0 + 100 * 3600))
same "leaf default lifetime shortened to end with its CA" "$(not_after "$TY/l.crt")" "$(not_after "$TY/tiny.crt")"
has "ECDSA plain key" "$(openssl pkey -in "$TY/sa.key" -noout -text 2>/dev/null)" 'prime256v1|P-256'
mode_is "ECDSA plain key mode 0600" "$TY/sa.key" 600

# 8 levels of CAs are allowed; every CA that signs a CA has no path length limit
mf "$W/deep8.json" '
m["cas"] = [{"name": "c1", "cert": "c1/ca.crt", "key": "c1/ca.key", "subject": "/CN=c1"}] + \
  [{"name": "c%d" % i, "cert": "c%d/ca.crt" % i, "key": "c%d/ca.key" % i, "subject": "/CN=c%d" % i,
    "parent": "c%d" % (i - 1)} for i in range(2, 9)]
m["leaves"] = [{"name": "deep", "ca": "c8", "cert": "deep.crt", "key": "deep.key", "subject": "/CN=deep",
                "sans": ["dns:deep.local"], "usage": "server"}]
m["keys"] = []'
DP="$T_TMP/deep8"; mkdir -p "$DP"
pk_ok "init: 8 levels of CAs" cluster init --manifest="$W/deep8.json" --dir="$DP"
for i in 2 3 4 5 6 7 8; do first_cert "$DP/c$i/ca.crt" "$W/deep-c$i.pem"; done
cat "$W"/deep-c{2,3,4,5,6,7,8}.pem >"$W/deep-chain.pem"
check "8 levels: the leaf verifies through all of them" openssl verify -CAfile "$DP/c1/ca.crt" -untrusted "$W/deep-chain.pem" "$DP/deep.crt"
is_eq "8 levels: the last CA has pathlen 0" "$(cval "$W/deep-c8.pem" basicConstraints)" "CA:TRUE, pathlen:0"
is_eq "8 levels: a middle CA has no pathlen" "$(cval "$W/deep-c5.pem" basicConstraints)" "CA:TRUE"

# ================================================================ --root-ca / --intermediate-ca
RT="$T_TMP/myroot"; RK="$T_TMP/myrootkeys"
new_ca "$RT" "$RK/root.key"
cp "$RT/ca.crt" "$W/root.crt"
RS=$(snapshot "$RT"; snapshot "$RK")
D1="$T_TMP/under-root"; mkdir -p "$D1"
pk_ok "init --profile=cockroach --root-ca=CERT,KEY" cluster init --profile=cockroach --dir="$D1" \
    --root-ca="$RT/ca.crt,$RK/root.key"
is_eq "root-ca: the custom root's files are unchanged" "$(snapshot "$RT"; snapshot "$RK")" "$RS"
is_eq "root-ca: the same files as without it (no copy of the root key)" "$(ls -A "$D1" | sort | tr '\n' ' ')" \
    "ca.crt ca.key client.root.crt client.root.key node.crt node.key pkictl-cluster.json "
first_cert "$D1/ca.crt" "$W/d1-ca.pem"
matches "root-ca: the first certificate of ca.crt is ca.key's" "$W/d1-ca.pem" "$D1/ca.key"
is_eq "root-ca: the cluster CA is issued by the custom root" "$(cissuer "$W/d1-ca.pem")" "$(csubject "$RT/ca.crt")"
same "root-ca: the cluster CA's AKI is the root's SKI" "$(caki "$W/d1-ca.pem")" "$(cski "$RT/ca.crt")"
is_ne "root-ca: the cluster CA has its own key" "$(cski "$W/d1-ca.pem")" "$(cski "$RT/ca.crt")"
is_eq "root-ca: cluster CA is CA:TRUE" "$(cval "$W/d1-ca.pem" basicConstraints | cut -d, -f1)" "CA:TRUE"
check "root-ca: the cluster CA verifies against the custom root" openssl verify -CAfile "$RT/ca.crt" "$W/d1-ca.pem"
cert_count "root-ca: ca.crt holds the cluster CA then the custom root" "$D1/ca.crt" 2
nth_cert "$D1/ca.crt" 2 >"$W/d1-2.pem"
same "root-ca: the second certificate of ca.crt is the custom root" "$(fp256 "$W/d1-2.pem")" "$(fp256 "$RT/ca.crt")"
check "root-ca: node verifies against the custom root (-untrusted D/ca.crt)" \
    openssl verify -CAfile "$RT/ca.crt" -untrusted "$D1/ca.crt" "$D1/node.crt"
check "root-ca: client.root verifies against the custom root" \
    openssl verify -purpose sslclient -CAfile "$RT/ca.crt" -untrusted "$D1/ca.crt" "$D1/client.root.crt"
if [ -n "$(not_after "$W/d1-ca.pem")" ] && [ "$(not_after "$W/d1-ca.pem")" -le "$(not_after "$RT/ca.crt")" ]; then
    ok "root-ca: the cluster CA does not outlive the custom root"
else not_ok "root-ca: the cluster CA does not outlive the custom root"; fi
st "root-ca: status right after init" 0 --dir="$D1" --format=json
sjis "root-ca: every verdict ok" "sorted(set(vs().values()))" '["ok"]'

# the custom manifest under the custom root: only the root-level CA is signed by it
D2="$T_TMP/base-under-root"; mkdir -p "$D2"
pk_ok "init --manifest (with etcd intermediate) --root-ca" cluster init --manifest="$W/base.json" --dir="$D2" \
    --root-ca="$RT/ca.crt,$RK/root.key"
first_cert "$D2/ca.crt" "$W/d2-ca.pem"; first_cert "$D2/etcd/ca.crt" "$W/d2-etcd.pem"
is_eq "root-ca + manifest: ca is issued by the custom root" "$(cissuer "$W/d2-ca.pem")" "$(csubject "$RT/ca.crt")"
same "root-ca + manifest: etcd-ca is issued by ca (its parent)" "$(caki "$W/d2-etcd.pem")" "$(cski "$W/d2-ca.pem")"
cat "$D2/ca.crt" "$D2/etcd/ca.crt" >"$W/d2-untrusted.pem"
check "root-ca + manifest: etcd/server.crt verifies against the custom root" \
    openssl verify -CAfile "$RT/ca.crt" -untrusted "$W/d2-untrusted.pem" "$D2/etcd/server.crt"

# an intermediate under that root that may sign CAs (made with openssl: pkictl's intermediates
# have pathlen 0), then --intermediate-ca
mk_ocsr "intermediate CSR" "$W/int.csr" ec:P-256 "/O=corp/CN=corp intermediate"
if oca_sign "$W/int.crt" "$W/int.csr" "$RT/ca.crt" "$RK/root.key" 3000 "$OCA_EXT"; then ok "setup: intermediate signed by the root"
else not_ok "setup: intermediate signed by the root" "$(head -c 300 "$T_TMP/.ocsr.err")"; fi
D3="$T_TMP/under-int"; mkdir -p "$D3"
IS=$(snapshot "$W")
pk_ok "init --root-ca --intermediate-ca" cluster init --profile=cockroach --dir="$D3" \
    --root-ca="$RT/ca.crt,$RK/root.key" --intermediate-ca="$W/int.crt,$W/int.key"
is_eq "intermediate-ca: the given files are unchanged" "$(snapshot "$W")" "$IS"
first_cert "$D3/ca.crt" "$W/d3-ca.pem"
is_eq "intermediate-ca: the cluster CA is issued by the intermediate" "$(cissuer "$W/d3-ca.pem")" "CN=corp intermediate,O=corp"
same "intermediate-ca: its AKI is the intermediate's SKI" "$(caki "$W/d3-ca.pem")" "$(cski "$W/int.crt")"
check "intermediate-ca: the cluster CA verifies against root + intermediate" \
    openssl verify -CAfile "$RT/ca.crt" -untrusted "$W/int.crt" "$W/d3-ca.pem"
has "intermediate-ca: the custom root is in ca.crt" "$(fps "$D3/ca.crt")" "$(fp256 "$RT/ca.crt")"
cat "$D3/ca.crt" "$W/int.crt" >"$W/d3-untrusted.pem"
check "intermediate-ca: node verifies against the custom root" \
    openssl verify -CAfile "$RT/ca.crt" -untrusted "$W/d3-untrusted.pem" "$D3/node.crt"
if openssl verify -CAfile "$W/d1-ca.pem" "$D3/node.crt" >/dev/null 2>&1; then
    not_ok "intermediate-ca: node is not under the --root-ca-only cluster's CA"
else ok "intermediate-ca: node is not under the --root-ca-only cluster's CA"; fi

# an intermediate made by `pkictl cert create-ca --parent-ca-*` has pathlen 0: it may not sign the
# cluster's CAs (as for create-ca and cert sign --profile=intermediate), so init is refused
PI="$T_TMP/pkint"; mkdir -p "$PI"
pk_ok "setup: pkictl intermediate under the custom root" cert create-ca --certs-dir="$PI" --ca-key="$PI/int.key" \
    --key-type=ecdsa --parent-ca-cert="$RT/ca.crt" --parent-ca-key="$RK/root.key" --lifetime=43920h
E="$T_TMP/empty"; mkdir -p "$E"
refuses "--intermediate-ca with pathlen 0 (cannot sign the cluster CA)" 1 "$E" "$PI" -- cluster init --profile=cockroach \
    --dir="$E" --root-ca="$RT/ca.crt,$RK/root.key" --intermediate-ca="$PI/ca.crt,$PI/int.key"
# other refusals of a custom root/intermediate
OR="$T_TMP/otherroot"; new_ca "$OR" "$OR/root.key"
mk_ocsr "foreign intermediate CSR" "$W/fint.csr" ec:P-256 "/CN=foreign intermediate"
oca_sign "$W/fint.crt" "$W/fint.csr" "$OR/ca.crt" "$OR/root.key" 3000 "$OCA_EXT"
refuses "--intermediate-ca not signed by the --root-ca" 1 "$E" "$W" -- cluster init --profile=cockroach --dir="$E" \
    --root-ca="$RT/ca.crt,$RK/root.key" --intermediate-ca="$W/fint.crt,$W/fint.key"
refuses "--root-ca key not matching its certificate" 1 "$E" "$W" -- cluster init --profile=cockroach --dir="$E" \
    --root-ca="$RT/ca.crt,$OR/root.key"
refuses "--root-ca certificate missing" 1 "$E" "$W" -- cluster init --profile=cockroach --dir="$E" \
    --root-ca="$W/nope.crt,$RK/root.key"
refuses "--root-ca is not a CA (a leaf)" 1 "$E" "$W" -- cluster init --profile=cockroach --dir="$E" \
    --root-ca="$C/node.crt,$C/node.key"

# ================================================================ manifest refusals
M="$T_TMP/m"; mkdir -p "$M"
# mref "what" PYCODE REGEX: the base manifest changed by PYCODE is refused (exit 1, one line
# naming the problem: stderr matches REGEX), nothing written in E (nor in M)
mref() {
    mf "$M/bad.json" "$2"
    refuses "manifest refused: $1" 1 "$E" "$M" -- cluster init --manifest="$M/bad.json" --dir="$E"
    err_has "manifest refused: $1: the message names it" "$3"
}
# rawref "what" TEXT REGEX: a manifest file with this exact text
rawref() {
    printf '%s' "$2" >"$M/bad.json"
    refuses "manifest refused: $1" 1 "$E" "$M" -- cluster init --manifest="$M/bad.json" --dir="$E"
    err_has "manifest refused: $1: the message names it" "$3"
}
rawref "invalid JSON (truncated)" '{"version": 1, "cas": [' 'json|pars|syntax|unexpected|end'
rawref "invalid JSON (trailing comma)" '{"version": 1, "cas": [],}' 'json|pars|syntax|unexpected'
rawref "invalid JSON (trailing junk)" '{"version": 1, "cas": []} junk' 'json|pars|syntax|unexpected|trailing|junk'
rawref "empty file" '' 'json|pars|syntax|unexpected|empty|end'
rawref "top level is an array" '[1, 2]' 'object|type|json|top'
refuses "manifest file missing" 1 "$E" "$M" -- cluster init --manifest="$M/nope.json" --dir="$E"
err_has "manifest file missing: names it" 'nope\.json'

mref "unknown top-level field" 'm["colour"] = "blue"' 'colour'
mref "unknown field in a CA" 'm["cas"][1]["ca_flavour"] = 1' 'ca_flavour'
mref "unknown field in a leaf" 'm["leaves"][0]["leaf_flavour"] = "x"' 'leaf_flavour'
mref "unknown field in a key" 'm["keys"][0]["key_flavour"] = True' 'key_flavour'
mref "missing version" 'del m["version"]' 'version'
mref "missing cas" 'del m["cas"]' '\bcas\b'
mref "missing CA subject" 'del m["cas"][0]["subject"]' 'subject'
mref "missing CA key" 'del m["cas"][1]["key"]' '\bkey\b'
mref "missing leaf usage" 'del m["leaves"][1]["usage"]' 'usage'
mref "missing leaf ca" 'del m["leaves"][0]["ca"]' '\bca\b'
mref "missing leaf cert" 'del m["leaves"][0]["cert"]' '\bcert\b'
mref "missing key name" 'del m["keys"][0]["name"]' 'name'
mref "wrong type: version as a string" 'm["version"] = "1"' 'version'
mref "wrong type: cas an object" 'm["cas"] = {"name": "ca"}' '\bcas\b'
mref "wrong type: sans a string" 'm["leaves"][0]["sans"] = "dns:localhost"' 'sans'
mref "wrong type: key_size a string" 'm["keys"][0]["key_size"] = "2048"' 'key_size'
mref "wrong type: name a number" 'm["leaves"][0]["name"] = 5' 'name'
mref "wrong type: a CA entry that is a string" 'm["cas"].append("ca3")' 'cas|object|type'
mref "version 2" 'm["version"] = 2' 'version'
mref "duplicate names (two leaves)" 'm["leaves"][1]["name"] = "node"' 'node'
mref "duplicate names (a key named as a CA)" 'm["keys"][0]["name"] = "etcd-ca"' 'etcd-ca'
mref "duplicate names (two CAs)" 'm["cas"].append(dict(m["cas"][0], cert="ca2.crt", key="ca2.key"))' '\bca\b|duplicate'
mref "duplicate paths (two leaf certs)" 'm["leaves"][1]["cert"] = "node.crt"' 'node\.crt'
mref "duplicate paths (a key file named as a CA key)" 'm["keys"][0]["key"] = "ca.key"' 'ca\.key'
mref "duplicate paths (a leaf cert and a key file)" 'm["leaves"][0]["key"] = "node.crt"' 'node\.crt'
mref "a leaf whose ca does not exist" 'm["leaves"][0]["ca"] = "nosuchca"' 'nosuchca'
mref "a leaf whose ca is a key, not a CA" 'm["leaves"][0]["ca"] = "service"' 'service'
mref "a parent that does not exist" 'm["cas"][1]["parent"] = "ghostparent"' 'ghostparent'
mref "a cycle of parents (a->b->a)" '
m["cas"] = [{"name": "a", "cert": "a.crt", "key": "a.key", "subject": "/CN=a", "parent": "b"},
            {"name": "b", "cert": "b.crt", "key": "b.key", "subject": "/CN=b", "parent": "a"}]
m["leaves"] = []' 'cycle|loop|circular'
mref "a CA that is its own parent" 'm["cas"][0]["parent"] = "ca"' 'cycle|loop|circular|itself|own'
mref "more than 8 levels of CAs" '
m["cas"] = [{"name": "c1", "cert": "c1.crt", "key": "c1.key", "subject": "/CN=c1"}] + \
  [{"name": "c%d" % i, "cert": "c%d.crt" % i, "key": "c%d.key" % i, "subject": "/CN=c%d" % i,
    "parent": "c%d" % (i - 1)} for i in range(2, 10)]
m["leaves"] = []' 'level|deep|depth|8'
mref "a path with .." 'm["leaves"][0]["cert"] = "../escape.crt"' '\.\./escape|\.\.'
mref "a path with .. inside" 'm["cas"][1]["key"] = "etcd/../../escape.key"' '\.\.'
mref "an absolute path" 'm["leaves"][0]["key"] = "/tmp/pkictl-abs.key"' 'pkictl-abs|absolute'
mref "a path longer than 255" 'm["leaves"][0]["cert"] = "a" * 256' 'long|255|cert'
mref "a bad name (capitals)" 'm["leaves"][0]["name"] = "Node"' 'Node|name'
mref "a bad name (64 characters)" 'm["keys"][0]["name"] = "k" * 64' 'kkkk|name|63'
mref "a bad subject (unknown attribute)" 'm["cas"][0]["subject"] = "/CN=x/ZZ=bad"' 'subject|ZZ'
mref "a bad subject (no slash)" 'm["leaves"][0]["subject"] = "CN=node"' 'subject'
mref "a bad subject (C of three letters)" 'm["leaves"][1]["subject"] = "/C=USA/CN=x"' 'subject|USA|\bC\b'
mref "a bad SAN (bad DNS name)" 'm["leaves"][0]["sans"] = ["dns:bad_host!"]' 'bad_host|san'
mref "a bad SAN (unknown type)" 'm["leaves"][0]["sans"] = ["ftp:x.example.com"]' 'ftp|san'
mref "a bad SAN (bad IP)" 'm["leaves"][1]["sans"] = ["ip:1.2.3.256"]' '1\.2\.3\.256|san'
mref "a bad usage" 'm["leaves"][0]["usage"] = "sideways"' 'sideways|usage'
mref "a bad key type (leaf)" 'm["leaves"][0]["key_type"] = "dsa"' 'dsa|key_type|key type'
mref "a bad key type (plain key)" 'm["keys"][0]["key_type"] = "elgamal"' 'elgamal|key_type|key type'
mref "a bad key size (ECDSA 1000)" 'm["cas"][0]["key_size"] = 1000' '1000|key_size|key size'
mref "a bad key size for ed25519" 'm["keys"][0].update(key_type="ed25519", key_size=256)' 'ed25519|key_size|key size'
mref "a bad lifetime (10y)" 'm["leaves"][0]["lifetime"] = "10y"' '10y|lifetime'
mref "a bad lifetime (0h, CA)" 'm["cas"][0]["lifetime"] = "0h"' '0h|lifetime'
mref "a bad lifetime (no unit)" 'm["leaves"][1]["lifetime"] = "10"' 'lifetime|10'
mref "more than 2000 leaves" '
m["leaves"] = [{"name": "l%d" % i, "ca": "ca", "cert": "l%d.crt" % i, "key": "l%d.key" % i,
                "subject": "/CN=l%d" % i, "usage": "client"} for i in range(2001)]' '2000|leaves|too many'
mref "more than 256 CAs" '
m["cas"] += [{"name": "c%d" % i, "cert": "c%d.crt" % i, "key": "c%d.key" % i,
              "subject": "/CN=c%d" % i} for i in range(257)]' '256|cas|too many'
mref "more than 256 SANs" 'm["leaves"][0]["sans"] = ["dns:h%d.example.com" % i for i in range(257)]' '256|sans|too many'
# a file in the way of a subfolder: the failure comes while writing, and DIR is left as it was
BL="$T_TMP/blocked"; mkdir -p "$BL"; echo x >"$BL/etcd"
mf "$M/ok.json" ''
refuses "a regular file where a subfolder must go" 1 "$BL" "$M" -- cluster init --manifest="$M/ok.json" --dir="$BL"

# several problems at once: one line that lists every one of them
mf "$M/multi.json" '
m["colour"] = "blue"
m["cas"][1]["parent"] = "ghostparent"
m["leaves"][0]["usage"] = "sideways"
m["leaves"][1]["ca"] = "nosuchca"
m["keys"][0]["key_type"] = "elgamal"'
refuses "a manifest with five problems" 1 "$E" "$M" -- cluster init --manifest="$M/multi.json" --dir="$E"
n=0
for w in colour ghostparent sideways nosuchca elgamal; do grep -q -- "$w" "$T_TMP/.err" && n=$((n + 1)); done
if [ "$n" -ge 2 ]; then ok "five problems: the one line lists more than one ($n of 5)"
else not_ok "five problems: the one line lists more than one" "$n of 5: $(head -c 400 "$T_TMP/.err")"; fi
cp "$T_TMP/.err" "$W/multi.err"
for w in colour ghostparent sideways nosuchca elgamal; do
    if grep -q -- "$w" "$W/multi.err"; then ok "five problems: the line lists $w"
    else not_ok "five problems: the line lists $w" "$(head -c 400 "$W/multi.err")"; fi
done
mf "$M/multi2.json" '
m["cas"][0]["subject"] = "/CN=x/ZZ=bad"
m["leaves"][0]["sans"] = ["dns:bad_host!"]
m["leaves"][1]["lifetime"] = "10y"'
refuses "a manifest with a bad subject, SAN and lifetime" 1 "$E" "$M" -- cluster init --manifest="$M/multi2.json" --dir="$E"
err_has "three value problems: the SAN is listed" 'bad_host'
err_has "three value problems: the lifetime is listed" '10y|lifetime'
err_has "three value problems: the subject is listed" 'ZZ|subject'

# ================================================================ command-line refusals
mf "$M/ok.json" ''
rc_in "init with neither --profile nor --manifest" "2" cluster init --dir="$E"
rc_in "init with both --profile and --manifest" "2" cluster init --profile=cockroach --manifest="$M/ok.json" --dir="$E"
pk_fails "init without --dir: exit 2" 2 cluster init --profile=cockroach
pk_fails "init --dir without a value: exit 2" 2 cluster init --profile=cockroach --dir
pk_fails "init with an unknown flag: exit 2" 2 cluster init --profile=cockroach --dir="$E" --bogus
NX="$T_TMP/nx"; mkdir -p "$NX"
refuses "init --dir that does not exist" 1 "$NX" "$E" -- cluster init --profile=cockroach --dir="$NX/missing"
err_has "names the missing dir" 'missing|does not exist'
absent "the missing dir was not created" "$NX/missing"
refuses "init --profile=nosuch" 1 "$E" "$M" -- cluster init --profile=nosuch --dir="$E"
err_has "names the unknown profile" 'nosuch'
refuses "--root-ca without a comma" 1 "$E" "$RK" -- cluster init --profile=cockroach --dir="$E" --root-ca="$RT/ca.crt"
err_has "--root-ca without a comma: names the flag" 'root-ca'
refuses "--intermediate-ca without a comma" 1 "$E" "$RK" -- cluster init --profile=cockroach --dir="$E" \
    --root-ca="$RT/ca.crt,$RK/root.key" --intermediate-ca="$W/int.crt"
rc_in "--intermediate-ca without --root-ca" "2" cluster init --profile=cockroach --dir="$E" \
    --intermediate-ca="$W/int.crt,$W/int.key"
err_has "--intermediate-ca without --root-ca: names --root-ca" 'root-ca'
is_eq "command-line refusals: E is still empty" "$(ls -A "$E")" ""

# ================================================================ cluster status
# right after init (real clock, cockroach): every verdict ok, exit 0
st "status, table" 0 --dir="$C"
for n in ca node client.root; do
    has "status table names $n" "$(cat "$T_TMP/st.out")" "(^|[^a-z.])${n//./\\.}([^a-z.]|$)"
done
has "status table says ok" "$(cat "$T_TMP/st.out")" '\bok\b'
lacks "status table: no other verdict" "$(cat "$T_TMP/st.out")" "$RSV"
st "status --format=json" 0 --dir="$C" --format=json
cp "$T_TMP/st.out" "$W/status.json"
is_valid_json "status JSON parses" "$W/status.json"
sjis "status JSON: dir" "d['dir'].rstrip('/')" "$C"
sjis "status JSON: names and kinds" "sorted([x['name'], x['kind']] for x in c)" \
    '[["ca", "ca"], ["client.root", "leaf"], ["node", "leaf"]]'
sjis "status JSON: every verdict ok" "vs()" '{"ca": "ok", "client.root": "ok", "node": "ok"}'
sjis "status JSON: every row has all fields" \
    "sorted(set(k for x in c for k in ['name','kind','file','ca','expires','seconds_left','verdict','detail'] if k not in x))" '[]'
sjis "status JSON: node's file" "row('node')['file'].endswith('node.crt')" 'true'
sjis "status JSON: node's CA" "row('node')['ca']" 'ca'
sjis "status JSON: seconds_left positive" "all(x['seconds_left'] > 0 for x in c)" 'true'
st "status without pkictl-cluster.json: refused" 1 --dir="$W"
st "status --dir that does not exist: refused" 1 --dir="$NX/missing"
st "status --within=10y: refused" 1 --dir="$C" --within=10y
st "status without --dir: exit 2" 2

# short-lived cluster, made at NOW0: CA 4000h, leaves 240h
mf "$W/short.json" '
m["cas"] = [{"name": "ca", "cert": "ca.crt", "key": "ca.key", "subject": "/CN=short CA", "lifetime": "4000h"}]
m["leaves"] = [
  {"name": "web", "ca": "ca", "cert": "web.crt", "key": "web.key", "subject": "/CN=web",
   "sans": ["dns:web.local", "ip:10.0.0.1"], "usage": "server", "lifetime": "240h"},
  {"name": "app", "ca": "ca", "cert": "app.crt", "key": "app.key", "subject": "/CN=app",
   "sans": ["dns:app.local"], "usage": "client", "lifetime": "240h"}]
m["keys"] = []'
S="$T_TMP/short"; mkdir -p "$S"
PKICTL_NOW=$NOW0 pk_ok "init the short-lived cluster" cluster init --manifest="$W/short.json" --dir="$S"
is_eq "leaf lifetime 240h" "$(not_after "$S/web.crt")" $((NOW0 + 240 * 3600))
is_eq "CA lifetime 4000h" "$(not_after "$S/ca.crt")" $((NOW0 + 4000 * 3600))
PKICTL_NOW=$NOW0 st "at init, 240h leaves are within the default 90d" 3 --dir="$S" --format=json
sjis "at init: leaves renew soon, CA ok" "vs()" '{"app": "renew soon", "ca": "ok", "web": "renew soon"}'
sjis "at init: web seconds_left is 240h" "row('web')['seconds_left']" $((240 * 3600))
has "at init: web expires on its date" "$(SJ "row('web')['expires']")" "^$(ymd $((NOW0 + 240 * 3600)))"
PKICTL_NOW=$NOW0 st "at init with --within=1h" 0 --dir="$S" --within=1h --format=json
sjis "at init with --within=1h: all ok" "vs()" '{"app": "ok", "ca": "ok", "web": "ok"}'
T230=$((NOW0 + 230 * 3600))
PKICTL_NOW=$T230 st "10h before the leaves expire" 3 --dir="$S" --format=json
sjis "10h before: leaves renew soon" "vs()" '{"app": "renew soon", "ca": "ok", "web": "renew soon"}'
sjis "10h before: seconds_left 10h" "row('web')['seconds_left']" 36000
PKICTL_NOW=$T230 st "10h before, table" 3 --dir="$S"
has "10h before, table: renew soon" "$(cat "$T_TMP/st.out")" 'renew soon'
PKICTL_NOW=$T230 st "10h before, --within=1h" 0 --dir="$S" --within=1h --format=json
sjis "10h before, --within=1h: ok again" "vs()" '{"app": "ok", "ca": "ok", "web": "ok"}'
PKICTL_NOW=$T230 st "10h before, --within=1h, table" 0 --dir="$S" --within=1h
lacks "10h before, --within=1h, table: no other verdict" "$(cat "$T_TMP/st.out")" "$RSV"
PKICTL_NOW=$T230 st "10h before, --within=11h" 3 --dir="$S" --within=11h --format=json
sjis "10h before, --within=11h: renew soon" "row('web')['verdict']" 'renew soon'
PKICTL_NOW=$((NOW0 + 241 * 3600)) st "1h after the leaves expired" 3 --dir="$S" --format=json
sjis "after expiry: leaves expired, CA ok" "vs()" '{"app": "expired", "ca": "ok", "web": "expired"}'
sjis "after expiry: seconds_left negative" "row('web')['seconds_left'] < 0" 'true'
PKICTL_NOW=$((NOW0 + 241 * 3600)) st "after expiry, table" 3 --dir="$S"
has "after expiry, table: expired" "$(cat "$T_TMP/st.out")" 'expired'
PKICTL_NOW=$((NOW0 + 4001 * 3600)) st "after the CA expired" 3 --dir="$S" --format=json
sjis "after the CA expired: CA expired" "row('ca')['verdict']" 'expired'
PKICTL_NOW=$((NOW0 - 2 * 3600)) st "before notBefore" 3 --dir="$S" --format=json
sjis "before notBefore: not yet valid" "vs()" '{"app": "not yet valid", "ca": "not yet valid", "web": "not yet valid"}'

# each fault in its own copy of the short cluster, checked at NOW0 with --within=1h
fault() { rm -rf "$T_TMP/f-$1"; cp -a "$S" "$T_TMP/f-$1"; echo "$T_TMP/f-$1"; }
FD=$(fault missing); rm -f "$FD/web.crt"
PKICTL_NOW=$NOW0 st "a deleted leaf" 3 --dir="$FD" --within=1h --format=json
sjis "deleted leaf: missing, the rest ok" "vs()" '{"app": "ok", "ca": "ok", "web": "missing"}'
PKICTL_NOW=$NOW0 st "a deleted leaf, table" 3 --dir="$FD" --within=1h
has "deleted leaf, table: missing" "$(cat "$T_TMP/st.out")" 'missing'

FD=$(fault mismatch)
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$FD/web.key" 2>/dev/null; chmod 600 "$FD/web.key"
PKICTL_NOW=$NOW0 st "a leaf key replaced by another key" 3 --dir="$FD" --within=1h --format=json
sjis "replaced key: key mismatch, the rest ok" "vs()" '{"app": "ok", "ca": "ok", "web": "key mismatch"}'

FD=$(fault broken)
OC="$T_TMP/othercluster"
PKICTL_NOW=$NOW0 new_ca "$OC" "$OC/ca.key" --lifetime=4000h
PKICTL_NOW=$NOW0 new_node "$OC" "$OC/ca.key" web.local 10.0.0.1 --lifetime=240h
cp "$OC/node.crt" "$FD/web.crt"; cp "$OC/node.key" "$FD/web.key"; chmod 600 "$FD/web.key"
PKICTL_NOW=$NOW0 st "a leaf replaced by a certificate (and its key) from another CA" 3 --dir="$FD" --within=1h --format=json
sjis "other CA: broken chain, the rest ok" "vs()" '{"app": "ok", "ca": "ok", "web": "broken chain"}'

FD=$(fault drift)
python3 - "$FD/pkictl-cluster.json" 2>/dev/null <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
for l in m["leaves"]:
    if l["name"] == "web":
        l["sans"] = l["sans"] + ["dns:extra.local"]
json.dump(m, open(sys.argv[1], "w"), indent=1)
EOF
PKICTL_NOW=$NOW0 st "SANs of a leaf edited in pkictl-cluster.json" 3 --dir="$FD" --within=1h --format=json
sjis "edited SANs: drift, the rest ok" "vs()" '{"app": "ok", "ca": "ok", "web": "drift"}'
PKICTL_NOW=$NOW0 st "edited SANs, table" 3 --dir="$FD" --within=1h
has "edited SANs, table: drift" "$(cat "$T_TMP/st.out")" 'drift'

FD=$(fault unreadable); head -c 600 /dev/urandom >"$FD/app.crt"
PKICTL_NOW=$NOW0 st "a leaf file of garbage" 3 --dir="$FD" --within=1h --format=json
sjis "garbage leaf: unreadable, the rest ok" "vs()" '{"app": "unreadable", "ca": "ok", "web": "ok"}'

SS=$(snapshot "$S")
PKICTL_NOW=$NOW0 st "status once more on the untouched cluster" 0 --dir="$S" --within=1h
is_eq "status changes nothing on disk" "$(snapshot "$S")" "$SS"


# ---------------------------------------------------------------- create-ca --path-len for a custom intermediate
PL="$T_TMP/pathlen"; mkdir -p "$PL/root" "$PL/inter" "$PL/cluster"
pk_ok "path-len: root" cert create-ca --certs-dir="$PL/root" --ca-key="$PL/root.key" --key-type=ecdsa
pk_ok "path-len: intermediate with --path-len=1" cert create-ca --certs-dir="$PL/inter" \
    --ca-key="$PL/inter.key" --key-type=ecdsa --parent-ca-cert="$PL/root/ca.crt" \
    --parent-ca-key="$PL/root.key" --path-len=1
has "path-len: pathlen:1 in the intermediate" \
    "$(openssl x509 -in "$PL/inter/ca.crt" -noout -ext basicConstraints)" "pathlen:1"
pk_ok "path-len: cluster under it" cluster init --profile=cockroach --dir="$PL/cluster" \
    --root-ca="$PL/root/ca.crt,$PL/root.key" --intermediate-ca="$PL/inter/ca.crt,$PL/inter.key"
check "path-len: node verifies to the root" openssl verify -CAfile "$PL/root/ca.crt" \
    -untrusted "$PL/cluster/ca.crt" -untrusted "$PL/cluster/node.crt" "$PL/cluster/node.crt"
pk_fails "path-len: without a parent" 2 cert create-ca --certs-dir="$PL/cluster" --ca-key="$PL/x.key" --path-len=1
pk_fails "path-len: out of range" 1 cert create-ca --certs-dir="$PL/inter" --ca-key="$PL/y.key" \
    --parent-ca-cert="$PL/root/ca.crt" --parent-ca-key="$PL/root.key" --path-len=9 --overwrite
# ================================================================ terminal-safe output
# A folder name with an escape sequence and a newline: the init and status lines show it as
# \xNN, so it cannot colour the terminal or forge a line.
E="$T_TMP/odd"$'\e[31m\nforged'
mkdir -p "$E"
pk_ok "init in a folder whose name holds ESC and a newline" cluster init --profile=cockroach --dir="$E"
if grep -q $'\e' "$T_TMP/.out"; then not_ok "init: no raw ESC on stdout"; else ok "init: no raw ESC on stdout"; fi
cp "$T_TMP/.out" "$T_TMP/init-odd.out"
is_eq "init: no forged line (8 lines: 7 wrote + summary)" "$(wc -l <"$T_TMP/init-odd.out")" 8
check "init: the name is shown escaped" grep -qF 'odd\x1b[31m\x0aforged' "$T_TMP/init-odd.out"
st "status of that folder" 0 --dir="$E"
if grep -q $'\e' "$T_TMP/st.out"; then not_ok "status: no raw ESC on stdout"; else ok "status: no raw ESC on stdout"; fi
check "status: the Cluster line shows the name escaped" grep -qF 'Cluster: '"$T_TMP"'/odd\x1b[31m\x0aforged' "$T_TMP/st.out"
finish
