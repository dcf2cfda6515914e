#!/usr/bin/env bash
# cert show: text fields, JSON fields compared with openssl x509, bundles in order, an expired
# certificate (negative seconds_left), refusals.
. "$(dirname "$0")/common.sh"
. "$E2E_DIR/sign_common.sh"

P="$T_TMP/p"; K="$T_TMP/keys"; W="$T_TMP/w"; mkdir -p "$W"
export PKICTL_NOW=$NOW0           # every certificate below is made at NOW0
new_ca "$P" "$K/ca.key"
new_node "$P" "$K/ca.key" localhost 127.0.0.1 ::1 node.example.com
if pk cert create-client alice --certs-dir="$P" --ca-key="$K/ca.key" --key-type=rsa; then ok "setup: RSA client"
else not_ok "setup: RSA client" "$(head -c 300 "$T_TMP/.pk.err")"; fi
mkdir -p "$T_TMP/ed"; cp "$P/ca.crt" "$T_TMP/ed/"
if pk cert create-node ed.example.com --certs-dir="$T_TMP/ed" --ca-key="$K/ca.key" --key-type=ed25519; then ok "setup: Ed25519 node"
else not_ok "setup: Ed25519 node" "$(head -c 300 "$T_TMP/.pk.err")"; fi
mk_ocsr "intermediate CSR" "$W/int.csr" ec:P-384 "/O=Example/CN=Show Intermediate"
pk_ok "setup: intermediate (cert sign)" cert sign "$W/int.csr" --ca-cert="$P/ca.crt" --ca-key="$K/ca.key" --profile=intermediate --out="$W/int.crt"
mk_ocsr "CSR with URI and email SANs" "$W/uri.csr" ec:P-256 "/CN=workload" \
    -addext "subjectAltName=URI:spiffe://cluster.local/ns/a/sa/b,email:ops@example.com,DNS:w.example.com"
pk_ok "setup: client with URI/email SANs" cert sign "$W/uri.csr" --ca-cert="$P/ca.crt" --ca-key="$K/ca.key" --profile=client --out="$W/uri.crt"
unset PKICTL_NOW

NODE="$P/node.crt"; CA="$P/ca.crt"; CLIENT="$P/client.alice.crt"; ED="$T_TMP/ed/node.crt"; INT="$W/int.crt"; URI="$W/uri.crt"
upper()  { tr a-f A-F; }
nozero() { sed 's/^0*//'; }

pk_ok "cert show --help exits 0" cert show --help
out_has "cert show --help shows its usage" 'cert show'

# ---------------------------------------------------------------- text
PKICTL_NOW=$NOW0 pk_ok "text output (default)" cert show "$NODE"
TXT=$(cat "$T_TMP/.out")
has "text: subject (RFC 2253)" "$TXT" 'CN=node,O=pkictl'
has "text: issuer (RFC 2253)" "$TXT" 'CN=pkictl CA,O=pkictl'
SER=$(cserial "$NODE" | nozero)
has "text: serial (hex)" "$(printf '%s' "$TXT" | tr -d ':' | upper)" "$SER"
has "text: notBefore" "$TXT" "$(ymd $((NOW0 - 3600)))|$(date -u -d @$((NOW0 - 3600)) '+%b %e')"
has "text: notAfter" "$TXT" "$(ymd "$(not_after "$NODE")")|$(date -u -d @"$(not_after "$NODE")" '+%b %e')"
has "text: time left" "$TXT" '[0-9]+ ?(d|days?|h|hours?|s|seconds?)\b|left|remaining'
has "text: SAN localhost" "$TXT" 'localhost'
has "text: SAN 127.0.0.1" "$TXT" '127\.0\.0\.1'
has "text: SAN node.example.com" "$TXT" 'node\.example\.com'
has "text: key type ECDSA" "$TXT" 'ECDSA'
has "text: key size / curve" "$TXT" 'P-256|256'
has "text: signature algorithm" "$TXT" 'ecdsa-with-SHA256'
has "text: key usage" "$(printf '%s' "$TXT" | tr A-Z a-z)" 'digital ?signature'
has "text: EKU server auth" "$(printf '%s' "$TXT" | tr A-Z a-z)" 'server ?auth'
has "text: EKU client auth" "$(printf '%s' "$TXT" | tr A-Z a-z)" 'client ?auth'
has "text: basic constraints, not a CA" "$(printf '%s' "$TXT" | tr A-Z a-z)" 'ca.{0,3}(false|no)'
has "text: SHA-256 fingerprint" "$(printf '%s' "$TXT" | upper)" "$(fp256 "$NODE")"
has "text: SHA-1 fingerprint" "$(printf '%s' "$TXT" | upper)" "$(fp1 "$NODE")"
pk_ok "--format=text" cert show "$NODE" --format=text
has "--format=text: same fields" "$(cat "$T_TMP/.out")" 'CN=node,O=pkictl'
pk_ok "text output of an intermediate" cert show "$INT"
has "text: CA true" "$(tr A-Z a-z <"$T_TMP/.out")" 'ca.{0,3}(true|yes)'
has "text: path length 0" "$(tr A-Z a-z <"$T_TMP/.out")" 'path.?len[a-z]*.{0,3}0'
has "text: key usage keyCertSign" "$(tr A-Z a-z <"$T_TMP/.out")" 'cert(ificate)? ?sign'

# ---------------------------------------------------------------- JSON vs openssl
# jcheck TAG CERT JSONFILE N NOW: certificate N of the JSON is CERT, field by field
jcheck() {
    local t=$1 c=$2 j=$3 n=$4 now=$5 e="d['certificates'][$(( $4 - 1 ))]"
    is_eq "$t: index" "$(jv "$j" "${e}['index']")" "$n"
    is_eq "$t: subject" "$(jv "$j" "${e}['subject']")" "$(csubject "$c")"
    is_eq "$t: issuer" "$(jv "$j" "${e}['issuer']")" "$(cissuer "$c")"
    is_eq "$t: serial" "$(jv "$j" "${e}['serial']" | upper | nozero)" "$(cserial "$c" | nozero)"
    has "$t: serial is upper-case hex" "$(jv "$j" "${e}['serial']")" '^[0-9A-F]+$'
    is_eq "$t: not_before" "$(jv "$j" "${e}['not_before']")" "$(rfc3339 "$(not_before "$c")")"
    is_eq "$t: not_after" "$(jv "$j" "${e}['not_after']")" "$(rfc3339 "$(not_after "$c")")"
    is_eq "$t: seconds_left" "$(jv "$j" "${e}['seconds_left']")" "$(( $(not_after "$c") - now ))"
    is_eq "$t: fingerprint sha256" "$(jv "$j" "${e}['fingerprints']['sha256']")" "$(fp256 "$c")"
    is_eq "$t: fingerprint sha1" "$(jv "$j" "${e}['fingerprints']['sha1']")" "$(fp1 "$c")"
    is_eq "$t: signature_algorithm" "$(jv "$j" "${e}['signature_algorithm']" | tr A-Z a-z)" "$(sigalg "$c" | tr A-Z a-z)"
}
# jsans TAG CERT JSONFILE N: the JSON "sans" are the certificate's SANs, in its order, typed
# dns/ip/uri/email (IPv6 values are not compared here: openssl prints them expanded)
san_pairs() {
    san_list "$1" | sed -E 's/^DNS:/dns /; s/^IP Address:([0-9.]+)$/ip \1/; s/^IP Address:.*/ip */; s/^URI:/uri /; s/^email:/email /'
}
jsans() {
    is_eq "$1: sans" "$(jv "$3" "'\\n'.join(s['type'] + ' ' + ('*' if s['type'] == 'ip' and ':' in s['value'] else s['value']) for s in d['certificates'][$(( $4 - 1 ))]['sans'])")" \
        "$(san_pairs "$2")"
}
# jis TAG JSONFILE EXPR WANT
jis() { is_eq "$1" "$(jv "$2" "$3")" "$4"; }

PKICTL_NOW=$NOW0 pk_ok "JSON of node.crt" cert show "$NODE" --format=json
cp "$T_TMP/.out" "$W/node.json"
check "JSON parses" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$W/node.json"
jis "file is the path given" "$W/node.json" "d['file']" "$NODE"
jis "one certificate" "$W/node.json" "len(d['certificates'])" 1
jcheck "node" "$NODE" "$W/node.json" 1 $NOW0
jis "node: subject literally" "$W/node.json" "d['certificates'][0]['subject']" "CN=node,O=pkictl"
jis "node: issuer literally" "$W/node.json" "d['certificates'][0]['issuer']" "CN=pkictl CA,O=pkictl"
jis "node: seconds_left = 43920h" "$W/node.json" "d['certificates'][0]['seconds_left']" $((43920 * 3600))
jsans "node" "$NODE" "$W/node.json" 1
jis "node: the ::1 SAN is ::1" "$W/node.json" \
    "[str(__import__('ipaddress').ip_address(s['value'].strip('[]'))) for s in d['certificates'][0]['sans'] if s['type'] == 'ip' and ':' in s['value']]" '["::1"]'
jis "node: key" "$W/node.json" "d['certificates'][0]['key']" '{"bits": 256, "description": "ECDSA P-256", "type": "ECDSA"}'
jis "node: key_usage" "$W/node.json" "sorted(d['certificates'][0]['key_usage'])" '["digitalSignature"]'
jis "node: extended_key_usage" "$W/node.json" "sorted(d['certificates'][0]['extended_key_usage'])" '["clientAuth", "serverAuth"]'
jis "node: basic_constraints" "$W/node.json" "d['certificates'][0]['basic_constraints']" '{"ca": false, "path_len": null}'
jis "node: signature_algorithm literally" "$W/node.json" "d['certificates'][0]['signature_algorithm']" "ecdsa-with-SHA256"

PKICTL_NOW=$NOW0 pk_ok "JSON of the RSA client" cert show "$CLIENT" --format=json
cp "$T_TMP/.out" "$W/client.json"
jcheck "client" "$CLIENT" "$W/client.json" 1 $NOW0
jis "client: key type and bits" "$W/client.json" "[d['certificates'][0]['key'][k] for k in ('type', 'bits')]" '["RSA", 2048]'
jis "client: key_usage" "$W/client.json" "sorted(d['certificates'][0]['key_usage'])" '["digitalSignature", "keyEncipherment"]'
jis "client: extended_key_usage" "$W/client.json" "d['certificates'][0]['extended_key_usage']" '["clientAuth"]'
jis "client: no SANs" "$W/client.json" "d['certificates'][0]['sans']" '[]'
jis "client: subject" "$W/client.json" "d['certificates'][0]['subject']" "CN=alice,O=pkictl"

PKICTL_NOW=$NOW0 pk_ok "JSON of the CA" cert show "$CA" --format=json
cp "$T_TMP/.out" "$W/ca.json"
jcheck "CA" "$CA" "$W/ca.json" 1 $NOW0
jis "CA: basic_constraints" "$W/ca.json" "d['certificates'][0]['basic_constraints']" '{"ca": true, "path_len": null}'
jis "CA: key_usage" "$W/ca.json" "sorted(d['certificates'][0]['key_usage'])" '["cRLSign", "digitalSignature", "keyCertSign"]'
jis "CA: no EKU" "$W/ca.json" "not d['certificates'][0]['extended_key_usage']" 'true'
jis "CA: issuer is itself" "$W/ca.json" "d['certificates'][0]['issuer'] == d['certificates'][0]['subject']" 'true'

PKICTL_NOW=$NOW0 pk_ok "JSON of the intermediate" cert show "$INT" --format=json
cp "$T_TMP/.out" "$W/int.json"
jcheck "intermediate" "$INT" "$W/int.json" 1 $NOW0
jis "intermediate: basic_constraints" "$W/int.json" "d['certificates'][0]['basic_constraints']" '{"ca": true, "path_len": 0}'
jis "intermediate: key" "$W/int.json" "d['certificates'][0]['key']" '{"bits": 384, "description": "ECDSA P-384", "type": "ECDSA"}'
jis "intermediate: subject" "$W/int.json" "d['certificates'][0]['subject']" "CN=Show Intermediate,O=Example"

PKICTL_NOW=$NOW0 pk_ok "JSON of the Ed25519 node" cert show "$ED" --format=json
cp "$T_TMP/.out" "$W/ed.json"
jcheck "ed25519" "$ED" "$W/ed.json" 1 $NOW0
has "ed25519: key type" "$(jv "$W/ed.json" "d['certificates'][0]['key']['type']")" '^(Ed25519|ED25519|EdDSA)$'
jis "ed25519: sans" "$W/ed.json" "d['certificates'][0]['sans']" '[{"type": "dns", "value": "ed.example.com"}]'


PKICTL_NOW=$NOW0 pk_ok "JSON of a certificate with URI and email SANs" cert show "$URI" --format=json
cp "$T_TMP/.out" "$W/uri.json"
jcheck "uri" "$URI" "$W/uri.json" 1 $NOW0
jsans "uri" "$URI" "$W/uri.json" 1
jis "uri: the three SAN types" "$W/uri.json" "sorted(s['type'] for s in d['certificates'][0]['sans'])" '["dns", "email", "uri"]'

# ---------------------------------------------------------------- a bundle: every certificate in order
cat "$NODE" "$INT" "$CA" >"$W/bundle.pem"
PKICTL_NOW=$NOW0 pk_ok "JSON of a three-certificate file" cert show "$W/bundle.pem" --format=json
cp "$T_TMP/.out" "$W/bundle.json"
jis "bundle: three certificates" "$W/bundle.json" "len(d['certificates'])" 3
jis "bundle: indexes 1..3" "$W/bundle.json" "[c['index'] for c in d['certificates']]" '[1, 2, 3]'
jis "bundle: subjects in file order" "$W/bundle.json" "'|'.join(c['subject'] for c in d['certificates'])" \
    "CN=node,O=pkictl|CN=Show Intermediate,O=Example|CN=pkictl CA,O=pkictl"
nth_cert "$W/bundle.pem" 2 >"$W/b2.pem"; nth_cert "$W/bundle.pem" 3 >"$W/b3.pem"
jcheck "bundle #1" "$NODE" "$W/bundle.json" 1 $NOW0
jcheck "bundle #2" "$W/b2.pem" "$W/bundle.json" 2 $NOW0
jcheck "bundle #3" "$W/b3.pem" "$W/bundle.json" 3 $NOW0
pk_ok "text of a three-certificate file" cert show "$W/bundle.pem"
l1=$(grep -n 'CN=node,O=pkictl' "$T_TMP/.out" | head -n1 | cut -d: -f1)
l2=$(grep -n 'CN=Show Intermediate,O=Example' "$T_TMP/.out" | head -n1 | cut -d: -f1)
l3=$(grep -n "$(fp256 "$CA")" "$T_TMP/.out" | head -n1 | cut -d: -f1)
if [ -n "$l1" ] && [ -n "$l2" ] && [ -n "$l3" ] && [ "$l1" -lt "$l2" ] && [ "$l2" -lt "$l3" ]; then ok "text: the three certificates in order"
else not_ok "text: the three certificates in order" "lines [$l1] [$l2] [$l3]"; fi
has "text: each fingerprint shown" "$(grep -ciF -e "$(fp256 "$NODE")" -e "$(fp256 "$W/b2.pem")" -e "$(fp256 "$CA")" "$T_TMP/.out")" '^3$'

# ---------------------------------------------------------------- expired, not yet valid
LATER=$((NOW0 + 20 * 366 * 86400))
PKICTL_NOW=$LATER pk_ok "show an expired certificate" cert show "$NODE" --format=json
cp "$T_TMP/.out" "$W/expired.json"
jis "expired: seconds_left negative" "$W/expired.json" "d['certificates'][0]['seconds_left'] < 0" 'true'
jis "expired: seconds_left = notAfter - now" "$W/expired.json" "d['certificates'][0]['seconds_left']" "$(( $(not_after "$NODE") - LATER ))"
PKICTL_NOW=$((NOW0 - 86400)) pk_ok "show a not-yet-valid certificate" cert show "$NODE" --format=json
cp "$T_TMP/.out" "$W/early.json"
jis "not yet valid: seconds_left = notAfter - now" "$W/early.json" "d['certificates'][0]['seconds_left']" "$(( $(not_after "$NODE") - NOW0 + 86400 ))"
PKICTL_NOW=$LATER pk_ok "text of an expired certificate" cert show "$NODE"

# ---------------------------------------------------------------- refusals
head -c 1200 /dev/urandom >"$W/garbage.pem"; : >"$W/empty.pem"; echo "hello" >"$W/text.pem"
head -c $(( $(wc -c <"$NODE") / 2 )) "$NODE" >"$W/trunc.pem"
for f in garbage empty text trunc; do
    refuses "cert show: $f file" 1 "$W" "$P" -- cert show "$W/$f.pem"
    refuses "cert show --format=json: $f file" 1 "$W" "$P" -- cert show "$W/$f.pem" --format=json
done
refuses "cert show: a CSR" 1 "$W" "$P" -- cert show "$W/int.csr"
refuses "cert show: missing file" 1 "$W" "$P" -- cert show "$W/nope.pem"
refuses "cert show: --format=xml" 1 "$W" "$P" -- cert show "$NODE" --format=xml
refuses "cert show: no FILE: exit 2" 2 "$W" "$P" -- cert show
refuses "cert show: two FILEs: exit 2" 2 "$W" "$P" -- cert show "$NODE" "$CA"
refuses "cert show: unknown flag: exit 2" 2 "$W" "$P" -- cert show "$NODE" --bogus
refuses "cert show: --format without a value: exit 2" 2 "$W" "$P" -- cert show "$NODE" --format

finish
