#!/usr/bin/env bash
# The k3s and consul built-in profiles (docs/manifest.md): `cluster profile` prints valid JSON,
# `cluster init --profile` writes exactly the declared files with the right modes, `cluster
# status` finds every certificate ok, each leaf verifies against its CA's file and carries the
# subject, SANs and extended key usage of the tool it imitates (k3s-io/k3s
# pkg/daemons/control/deps/deps.go, `consul tls cert create`), and a second init is refused.
. "$(dirname "$0")/common.sh"
. "$E2E_DIR/sign_common.sh"

W="$T_TMP/w"; mkdir -p "$W"                 # profile JSON and scratch files

# jeq "what" FILE1 FILE2: both parse as JSON and are equal
jeq() {
    if python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' \
        "$2" "$3" 2>/dev/null; then ok "$1"; else not_ok "$1" "$2 and $3 differ (or are not JSON)"; fi
}
# is_valid_json "what" FILE
is_valid_json() {
    if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$2" 2>/dev/null; then ok "$1"
    else not_ok "$1" "$(head -c 300 "$2")"; fi
}
# sans_of FILE: the certificate's SANs, sorted, '|'-joined (as in cluster.sh)
sans_of() { san_list "$1" | LC_ALL=C sort | tr '\n' '|'; }
# sans_want "A,B,...": the same form for an expected comma list
sans_want() { [ -n "$1" ] && printf '%s\n' "$1" | tr ',' '\n' | LC_ALL=C sort | tr '\n' '|'; }
# eku_want USAGE: the extended key usage `openssl x509 -ext` prints (sorted)
eku_want() {
    case $1 in
        client) echo "TLS Web Client Authentication" ;;
        server) echo "TLS Web Server Authentication" ;;
        both)   echo "TLS Web Client Authentication,TLS Web Server Authentication" ;;
    esac
}
# purposes USAGE: the openssl verify purposes a leaf of that usage must pass
purposes() {
    case $1 in
        client) echo sslclient ;;
        server) echo sslserver ;;
        both)   echo "sslserver sslclient" ;;
    esac
}
# is_ec256 "what" KEYFILE / is_rsa "what" KEYFILE BITS
is_ec256() {
    has "$1" "$(openssl pkey -in "$2" -noout -text 2>/dev/null | head -n 12)" 'prime256v1|P-256'
}
is_rsa() {
    local t; t=$(openssl pkey -in "$2" -noout -text 2>/dev/null | head -n 3)
    if printf '%s\n' "$t" | grep -Eq "^Private-Key: \($3 bit(, 2 primes)?\)" &&
        printf '%s\n' "$t" | grep -q '^modulus:'; then ok "$1"
    else not_ok "$1" "[$(printf '%s' "$t" | head -c 200)]"; fi
}

# check_cas DIR LABEL TABLE: TABLE lines "name;cert;key;subject" (RFC 2253 subject)
check_cas() {
    local d=$1 lbl=$2 name cert key subj
    while IFS=';' read -r name cert key subj; do
        [ -n "$name" ] || continue
        mode_is "$lbl: $cert mode 0644" "$d/$cert" 644
        mode_is "$lbl: $key mode 0600" "$d/$key" 600
        is_eq "$lbl: CA $name subject" "$(csubject "$d/$cert")" "$subj"
        is_eq "$lbl: CA $name is self-signed (issuer = subject)" "$(cissuer "$d/$cert")" "$subj"
        is_eq "$lbl: CA $name: CA:TRUE" "$(cval "$d/$cert" basicConstraints | cut -d, -f1)" "CA:TRUE"
        is_eq "$lbl: $cert holds one certificate" "$(ncerts "$d/$cert")" 1
        check "$lbl: CA $name verifies against itself" openssl verify -CAfile "$d/$cert" "$d/$cert"
        matches "$lbl: $key matches $cert" "$d/$cert" "$d/$key"
        is_ec256 "$lbl: CA $name key is ECDSA P-256" "$d/$key"
    done <<<"$3"
}

# check_leaves DIR LABEL TABLE: TABLE lines "name;cert;key;ca-cert;subject;sans;usage"
check_leaves() {
    local d=$1 lbl=$2 name cert key ca subj sans usage p
    while IFS=';' read -r name cert key ca subj sans usage; do
        [ -n "$name" ] || continue
        mode_is "$lbl: $cert mode 0644" "$d/$cert" 644
        mode_is "$lbl: $key mode 0600" "$d/$key" 600
        matches "$lbl: $key matches $cert" "$d/$cert" "$d/$key"
        is_ec256 "$lbl: $name key is ECDSA P-256" "$d/$key"
        check "$lbl: openssl verify -CAfile $ca $cert" \
            openssl verify -CAfile "$d/$ca" -untrusted "$d/$cert" "$d/$cert"
        for p in $(purposes "$usage"); do
            check "$lbl: $cert verifies for $p" \
                openssl verify -purpose "$p" -CAfile "$d/$ca" -untrusted "$d/$cert" "$d/$cert"
        done
        same "$lbl: $name AKI is $ca's SKI" "$(caki "$d/$cert")" "$(cski "$d/$ca")"
        is_eq "$lbl: $name subject" "$(csubject "$d/$cert")" "$subj"
        is_eq "$lbl: $name issuer is $ca's subject" "$(cissuer "$d/$cert")" "$(csubject "$d/$ca")"
        is_eq "$lbl: $name SANs" "$(sans_of "$d/$cert")" "$(sans_want "$sans")"
        is_eq "$lbl: $name extended key usage ($usage)" "$(cval "$d/$cert" extendedKeyUsage | sorted)" \
            "$(eku_want "$usage")"
        is_eq "$lbl: $name: CA:FALSE" "$(cval "$d/$cert" basicConstraints)" "CA:FALSE"
    done <<<"$3"
}

# manifest_matches LABEL JSON CA_TABLE LEAF_TABLE: the profile declares exactly these CAs and
# leaves (names, files, signing CA, subject text, SANs and usage), nothing more
manifest_matches() {
    local out
    out=$(python3 - "$2" "$3" "$4" <<'EOF' 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
def rfc2253(s):   # "/O=a/CN=b" -> "CN=b,O=a"
    return ",".join(reversed([p for p in s.split("/") if p]))
cas = {c["name"]: c for c in d["cas"]}
want_cas = [l.split(";") for l in sys.argv[2].splitlines() if l]
want_leaves = [l.split(";") for l in sys.argv[3].splitlines() if l]
bad = []
if sorted(cas) != sorted(w[0] for w in want_cas):
    bad.append("CA names %s" % sorted(cas))
for name, cert, key, subj in want_cas:
    c = cas.get(name, {})
    if [c.get("cert"), c.get("key"), rfc2253(c.get("subject", ""))] != [cert, key, subj] or "parent" in c:
        bad.append("CA %s: %s" % (name, c))
leaves = {l["name"]: l for l in d.get("leaves", [])}
if sorted(leaves) != sorted(w[0] for w in want_leaves):
    bad.append("leaf names %s" % sorted(leaves))
for name, cert, key, ca, subj, sans, usage in want_leaves:
    l = leaves.get(name, {})
    got_sans = sorted(s.replace("dns:", "DNS:").replace("ip:::1", "IP Address:0:0:0:0:0:0:0:1")
                      .replace("ip:", "IP Address:") for s in l.get("sans", []))
    if [l.get("cert"), l.get("key"), cas.get(l.get("ca"), {}).get("cert"),
            rfc2253(l.get("subject", "")), got_sans, l.get("usage")] != \
            [cert, key, ca, subj, sorted(s for s in sans.split(",") if s), usage]:
        bad.append("leaf %s: %s" % (name, l))
print("; ".join(bad) if bad else "ok")
EOF
)
    is_eq "$1: the profile declares exactly the expected CAs and leaves" "$out" ok
}

# ================================================================ the expected layouts
K3S_CAS='server-ca;server-ca.crt;server-ca.key;CN=k3s-server-ca
client-ca;client-ca.crt;client-ca.key;CN=k3s-client-ca
request-header-ca;request-header-ca.crt;request-header-ca.key;CN=k3s-request-header-ca
etcd-peer-ca;etcd/peer-ca.crt;etcd/peer-ca.key;CN=etcd-peer-ca
etcd-server-ca;etcd/server-ca.crt;etcd/server-ca.key;CN=etcd-server-ca'
K3S_LOCAL='DNS:localhost,IP Address:127.0.0.1,IP Address:0:0:0:0:0:0:0:1,IP Address:10.43.0.1'
K3S_API="DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,$K3S_LOCAL"
K3S_ETCD="DNS:kine.sock,$K3S_LOCAL"
K3S_LEAVES="client-admin;client-admin.crt;client-admin.key;client-ca.crt;CN=system:admin,O=system:masters;;client
client-supervisor;client-supervisor.crt;client-supervisor.key;client-ca.crt;CN=system:k3s-supervisor,O=system:masters;;client
client-controller;client-controller.crt;client-controller.key;client-ca.crt;CN=system:kube-controller-manager;;client
client-scheduler;client-scheduler.crt;client-scheduler.key;client-ca.crt;CN=system:kube-scheduler;;client
client-kube-apiserver;client-kube-apiserver.crt;client-kube-apiserver.key;client-ca.crt;CN=system:apiserver,O=system:masters;;client
client-kube-proxy;client-kube-proxy.crt;client-kube-proxy.key;client-ca.crt;CN=system:kube-proxy;;client
client-k3s-controller;client-k3s-controller.crt;client-k3s-controller.key;client-ca.crt;CN=system:k3s-controller;;client
client-k3s-cloud-controller;client-k3s-cloud-controller.crt;client-k3s-cloud-controller.key;client-ca.crt;CN=k3s-cloud-controller-manager;;client
client-auth-proxy;client-auth-proxy.crt;client-auth-proxy.key;request-header-ca.crt;CN=system:auth-proxy;;client
serving-kube-apiserver;serving-kube-apiserver.crt;serving-kube-apiserver.key;server-ca.crt;CN=kube-apiserver;$K3S_API;server
etcd-client;etcd/client.crt;etcd/client.key;etcd/server-ca.crt;CN=etcd-client;;client
etcd-server-client;etcd/server-client.crt;etcd/server-client.key;etcd/server-ca.crt;CN=etcd-server;$K3S_ETCD;both
etcd-peer-server-client;etcd/peer-server-client.crt;etcd/peer-server-client.key;etcd/peer-ca.crt;CN=etcd-peer;$K3S_ETCD;both"
K3S_KEYS='service.key client-kubelet.key serving-kubelet.key'

CONSUL_CAS='consul-agent-ca;consul-agent-ca.pem;consul-agent-ca-key.pem;CN=Consul Agent CA,O=pkictl'
CONSUL_LEAVES='dc1-server-consul-0;dc1-server-consul-0.pem;dc1-server-consul-0-key.pem;consul-agent-ca.pem;CN=server.dc1.consul;DNS:server.dc1.consul,DNS:localhost,IP Address:127.0.0.1;both
dc1-client-consul-0;dc1-client-consul-0.pem;dc1-client-consul-0-key.pem;consul-agent-ca.pem;CN=client.dc1.consul;DNS:client.dc1.consul,DNS:localhost,IP Address:127.0.0.1;both
dc1-cli-consul-0;dc1-cli-consul-0.pem;dc1-cli-consul-0-key.pem;consul-agent-ca.pem;CN=cli.dc1.consul;DNS:cli.dc1.consul,DNS:localhost;client'

# files TABLE...: the cert and key files of CA/leaf tables (fields 2 and 3), one a line
files() { local t; for t in "$@"; do printf '%s\n' "$t" | cut -d';' -f2,3 | tr ';' '\n'; done; }

# ================================================================ cluster profile
for p in k3s consul; do
    pk_ok "cluster profile $p" cluster profile "$p"
    cp "$T_TMP/.out" "$W/$p.json"
    is_valid_json "cluster profile $p prints JSON python3 parses" "$W/$p.json"
    is_eq "$p profile: version 1" "$(jv "$W/$p.json" "d['version']")" 1
    is_eq "$p profile: nothing on stderr" "$(cat "$T_TMP/.err")" ""
done
manifest_matches "k3s" "$W/k3s.json" "$K3S_CAS" "$K3S_LEAVES"
is_eq "k3s profile: plain keys service (rsa 2048), client-kubelet and serving-kubelet (ecdsa)" \
    "$(jv "$W/k3s.json" "[[k['name'], k['key'], k.get('key_type'), k.get('key_size')] for k in d['keys']]")" \
    '[["service", "service.key", "rsa", 2048], ["client-kubelet", "client-kubelet.key", "ecdsa", null], ["serving-kubelet", "serving-kubelet.key", "ecdsa", null]]'
is_eq "k3s profile: every CA a root (no parent)" "$(jv "$W/k3s.json" "[c for c in d['cas'] if 'parent' in c]")" '[]'
manifest_matches "consul" "$W/consul.json" "$CONSUL_CAS" "$CONSUL_LEAVES"
is_eq "consul profile: no plain keys" "$(jv "$W/consul.json" "d.get('keys', [])")" '[]'

pk_fails "cluster init --profile=nosuch: refused" 1 cluster init --profile=nosuch --dir="$W"
for n in cockroach redis-enterprise k3s consul; do err_has "the refusal lists $n" "(^|[ (,])$n([,)]|$)"; done
pk_fails "cluster profile nosuch: refused" 1 cluster profile nosuch
for n in cockroach redis-enterprise k3s consul; do err_has "cluster profile nosuch lists $n" "(^|[ (,])$n([,)]|$)"; done
pk_ok "cluster init --help" cluster init --help
out_has "init --help names k3s" 'k3s'
out_has "init --help names consul" 'consul'
pk_ok "cluster profile --help" cluster profile --help
out_has "profile --help names k3s and consul" 'k3s, consul'

# ================================================================ init --profile=k3s
K="$T_TMP/k3s"; mkdir -p "$K"
pk_ok "cluster init --profile=k3s" cluster init --profile=k3s --dir="$K"
wrote_exist "k3s: every wrote PATH exists"
want=$( { files "$K3S_CAS" "$K3S_LEAVES"; printf '%s\n' $K3S_KEYS pkictl-cluster.json; } | LC_ALL=C sort | tr '\n' ' ')
is_eq "k3s: exactly the declared files (40), no staging leftovers" \
    "$(cd "$K" && find . -type f | sed 's|^\./||' | LC_ALL=C sort | tr '\n' ' ')" "$want"
is_eq "k3s: 40 files" "$(cd "$K" && find . -type f | wc -l)" 40
is_eq "k3s: one wrote line per file" "$(grep -c '^wrote ' "$T_TMP/.out")" 40
is_eq "k3s: the only folder is etcd/" "$(cd "$K" && find . -mindepth 1 -type d)" "./etcd"
mode_is "k3s: etcd/ mode 0700" "$K/etcd" 700
for f in $(cd "$K" && find . -name '*.key' | sed 's|^\./||'); do mode_is "k3s: $f mode 0600" "$K/$f" 600; done
jeq "k3s: pkictl-cluster.json is the k3s profile" "$K/pkictl-cluster.json" "$W/k3s.json"
check_cas "$K" k3s "$K3S_CAS"
check_leaves "$K" k3s "$K3S_LEAVES"
is_rsa "k3s: service.key is an RSA 2048 key" "$K/service.key" 2048
check "k3s: service.key passes openssl pkey -check" openssl pkey -in "$K/service.key" -check -noout
for f in client-kubelet.key serving-kubelet.key; do
    mode_is "k3s: $f mode 0600" "$K/$f" 600
    is_ec256 "k3s: $f is ECDSA P-256" "$K/$f"
done
# the CAs are distinct: a client certificate does not verify under the server CA, nor etcd's
if openssl verify -CAfile "$K/server-ca.crt" "$K/client-admin.crt" >/dev/null 2>&1; then
    not_ok "k3s: client-admin does not verify against server-ca.crt"
else ok "k3s: client-admin does not verify against server-ca.crt"; fi
if openssl verify -CAfile "$K/etcd/server-ca.crt" "$K/etcd/peer-server-client.crt" >/dev/null 2>&1; then
    not_ok "k3s: the etcd peer certificate does not verify against etcd/server-ca.crt"
else ok "k3s: the etcd peer certificate does not verify against etcd/server-ca.crt"; fi
pk_ok "k3s: cluster status exits 0" cluster status --dir="$K" --format=json
cp "$T_TMP/.out" "$W/k3s-status.json"
is_eq "k3s: status has 5 CAs and 13 leaves" \
    "$(jv "$W/k3s-status.json" "[len([c for c in d['certificates'] if c['kind'] == k]) for k in ('ca', 'leaf')]")" '[5, 13]'
is_eq "k3s: every verdict ok" "$(jv "$W/k3s-status.json" "sorted(set(c['verdict'] for c in d['certificates']))")" '["ok"]'
pk_ok "k3s: cluster status (table) exits 0" cluster status --dir="$K"
lacks "k3s: no verdict other than ok in the table" "$(cat "$T_TMP/.out")" \
    'renew soon|expired|not yet valid|missing|unreadable|key mismatch|broken chain|drift'

refuses "k3s: init again in the same dir" 1 "$K" "$W" -- cluster init --profile=k3s --dir="$K"
err_has "k3s: names an existing file" 'exist'
refuses "k3s: init --profile=consul over it" 1 "$K" "$W" -- cluster init --profile=consul --dir="$K"

# ================================================================ init --profile=consul
C="$T_TMP/consul"; mkdir -p "$C"
pk_ok "cluster init --profile=consul" cluster init --profile=consul --dir="$C"
wrote_exist "consul: every wrote PATH exists"
want=$( { files "$CONSUL_CAS" "$CONSUL_LEAVES"; echo pkictl-cluster.json; } | LC_ALL=C sort | tr '\n' ' ')
is_eq "consul: exactly the declared files (9), no staging leftovers" \
    "$(cd "$C" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort | tr '\n' ' ')" "$want"
is_eq "consul: one wrote line per file" "$(grep -c '^wrote ' "$T_TMP/.out")" 9
for f in $(cd "$C" && find . -name '*-key.pem' | sed 's|^\./||'); do mode_is "consul: $f mode 0600" "$C/$f" 600; done
jeq "consul: pkictl-cluster.json is the consul profile" "$C/pkictl-cluster.json" "$W/consul.json"
check_cas "$C" consul "$CONSUL_CAS"
check_leaves "$C" consul "$CONSUL_LEAVES"
pk_ok "consul: cluster status exits 0" cluster status --dir="$C" --format=json
cp "$T_TMP/.out" "$W/consul-status.json"
is_eq "consul: status names" "$(jv "$W/consul-status.json" "[[c['name'], c['kind'], c['verdict']] for c in d['certificates']]")" \
    '[["consul-agent-ca", "ca", "ok"], ["dc1-server-consul-0", "leaf", "ok"], ["dc1-client-consul-0", "leaf", "ok"], ["dc1-cli-consul-0", "leaf", "ok"]]'

refuses "consul: init again in the same dir" 1 "$C" "$W" -- cluster init --profile=consul --dir="$C"
err_has "consul: names an existing file" 'exist'
# one of consul's files already there: refused, nothing written
C2="$T_TMP/consul2"; mkdir -p "$C2"; echo "keep me" >"$C2/dc1-cli-consul-0.pem"
refuses "consul: a file the profile names already exists" 1 "$C2" "$W" -- cluster init --profile=consul --dir="$C2"
err_has "consul: names dc1-cli-consul-0.pem" 'dc1-cli-consul-0\.pem'

# each profile's JSON is accepted by init --manifest and gives the same layout
for p in k3s consul; do
    mkdir -p "$T_TMP/m-$p"
    pk_ok "init --manifest=<output of cluster profile $p>" cluster init --manifest="$W/$p.json" --dir="$T_TMP/m-$p"
    is_eq "$p: --manifest gives the same file list as --profile" \
        "$(cd "$T_TMP/m-$p" && find . | LC_ALL=C sort | tr '\n' ' ')" \
        "$(cd "$T_TMP/$p" && find . | LC_ALL=C sort | tr '\n' ' ')"
done
finish
