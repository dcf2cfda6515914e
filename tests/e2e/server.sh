#!/usr/bin/env bash
# pkictl server end to end: bootstrap, restart, roots, configuration, leaf,
# sign, token policies, rotation with cross-signing (checked with `openssl
# verify` from a client that trusts only the old root and one that trusts
# only the new one), forced rotation, pruning on a test clock, metrics and
# the audit log. The real binary, on 127.0.0.1.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/server_lib.sh"

D="$T_TMP/data"
W="$T_TMP/work"
mkdir -p "$W"

# ---- bootstrap
check "server starts and bootstraps" srv_start "$D"
has "it says where it listens" "$(cat "$T_TMP/server.err")" "listening on https://127\.0\.0\.1:[0-9]+"
mode_is "data dir is 0700" "$D" 700
mode_is "tls/ (the API certificate's folder) is 0700" "$D/tls" 700
# server.addr is written once every worker serves: each has its signer by then.
is_eq "when the address is written, each worker has forked its signer" \
    "$(srv_signer_pids | wc -l)" "$(srv_worker_pids | wc -l)"
# Confinement (docs/server.md): the server says what the kernel allowed, as the kernel says it.
LL_ABI=$(python3 -c 'import ctypes; print(ctypes.CDLL(None, use_errno=True).syscall(444, None, 0, 1))')
if [ "$LL_ABI" -ge 1 ]; then
    has "workers and signers are confined (Landlock ABI $LL_ABI)" "$(cat "$T_TMP/server.err")" \
        "workers and signers confined with Landlock \(ABI $LL_ABI\)"
    for p in $(srv_worker_pids) $(srv_signer_pids); do
        has "process $p: no_new_privs" "$(cat /proc/"$p"/status)" "NoNewPrivs:[[:space:]]+1"
    done
else
    has "no Landlock here: the server says it is not confined" "$(cat "$T_TMP/server.err")" \
        "has no Landlock: workers and signers are not confined"
fi
for f in operator.token store.key tls/server.key pkictl.db audit.log; do
    mode_is "$f is 0600" "$D/$f" 600
done
exists "ca.pem is written" "$D/ca.pem"
# TLS 1.3 with a default OpenSSL client (which lists AES-256-GCM first): the server picks
# AES-128-GCM; a client offering only AES-256-GCM still gets it. The chain verifies.
SRV_HOSTPORT=${SRV_URL#https://}
tls_cipher() { # [s_client options]: the negotiated cipher
    timeout 15 openssl s_client -connect "$SRV_HOSTPORT" -CAfile "$D/ca.pem" -verify_return_error \
        -verify_ip 127.0.0.1 "$@" </dev/null 2>/dev/null | sed -n 's/^New, TLSv1.3, Cipher is //p'
}
is_eq "TLS 1.3: the server prefers AES-128-GCM" "$(tls_cipher)" TLS_AES_128_GCM_SHA256
is_eq "TLS 1.3: AES-256-GCM when the client offers only it" \
    "$(tls_cipher -ciphersuites TLS_AES_256_GCM_SHA384)" TLS_AES_256_GCM_SHA384
OP=$(cat "$D/operator.token")
has "operator token is a UUID" "$OP" '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
lacks "the store holds no key in the clear" "$(strings "$D/pkictl.db" "$D"/pkictl.db-wal 2>/dev/null)" "PRIVATE KEY"
lacks "the store does not hold the operator token" "$(strings "$D/pkictl.db" "$D"/pkictl.db-wal 2>/dev/null)" "$OP"

# ---- roots (no token needed)
api GET /v1/connect/ca/roots
is_eq "roots: 200 without a token" "$API_CODE" 200
cp "$API_BODY" "$W/roots0.json"
TD=$(jget "$W/roots0.json" 'd["TrustDomain"]')
has "trust domain is <uuid>.consul" "$TD" '^[0-9a-f-]{36}\.consul$'
ROOT0=$(jget "$W/roots0.json" 'd["ActiveRootID"]')
is_eq "one root" "$(jget "$W/roots0.json" 'len(d["Roots"])')" 1
is_eq "ActiveRootID is the root's ID" "$(jget "$W/roots0.json" 'd["Roots"][0]["ID"]')" "$ROOT0"
is_eq "root is active" "$(jget "$W/roots0.json" 'd["Roots"][0]["Active"]')" true
is_eq "root key type" "$(jget "$W/roots0.json" 'd["Roots"][0]["PrivateKeyType"]')" ec
is_eq "root key bits" "$(jget "$W/roots0.json" 'd["Roots"][0]["PrivateKeyBits"]')" 256
for k in Name SerialNumber SigningKeyID NotBefore NotAfter RootCert IntermediateCerts CreateIndex ModifyIndex; do
    is_eq "root has $k" "$(jget "$W/roots0.json" "'$k' in d['Roots'][0]")" true
done
jget "$W/roots0.json" 'd["Roots"][0]["RootCert"]' >"$W/root0.pem"
jget "$W/roots0.json" 'd["Roots"][0]["IntermediateCerts"][0]' >"$W/int0.pem"
is_eq "root ID is its SHA-1 fingerprint" "$ROOT0" \
    "$(openssl x509 -in "$W/root0.pem" -noout -fingerprint -sha1 | sed 's/.*=//' | tr A-F a-f)"
has "root carries the trust domain URI" "$(cext "$W/root0.pem" subjectAltName)" "URI:spiffe://$TD"
has "root has a URI name constraint for the trust domain" "$(cext "$W/root0.pem" nameConstraints)" "URI:$TD"
has "root is a CA" "$(cext "$W/root0.pem" basicConstraints)" "CA:TRUE"
check "intermediate verifies under the root" openssl verify -CAfile "$W/root0.pem" "$W/int0.pem"
api GET '/v1/connect/ca/roots?pem=true'
is_eq "roots?pem=true: 200" "$API_CODE" 200
is_eq "roots?pem=true is the root PEM" "$(openssl x509 -in "$API_BODY" -noout -fingerprint -sha1)" \
    "$(openssl x509 -in "$W/root0.pem" -noout -fingerprint -sha1)"

# ---- auth
api GET /v1/connect/ca/configuration
is_eq "config without a token: 401" "$API_CODE" 401
has "401 is JSON with an error" "$(cat "$API_BODY")" '"error":'
api GET /v1/connect/ca/configuration 00000000-0000-4000-8000-000000000000
is_eq "config with an unknown token: 403" "$API_CODE" 403
has "unknown token: ACL not found" "$(cat "$API_BODY")" "ACL not found"
api GET /v1/connect/ca/configuration "$OP"
is_eq "config with the operator token: 200" "$API_CODE" 200
cp "$API_BODY" "$W/config0.json"
is_eq "Provider consul" "$(jget "$W/config0.json" 'd["Provider"]')" consul
is_eq "LeafCertTTL default 72h" "$(jget "$W/config0.json" 'd["Config"]["LeafCertTTL"]')" 72h0m0s
is_eq "IntermediateCertTTL default" "$(jget "$W/config0.json" 'd["Config"]["IntermediateCertTTL"]')" 8760h0m0s
is_eq "RootCertTTL default" "$(jget "$W/config0.json" 'd["Config"]["RootCertTTL"]')" 87600h0m0s
is_eq "PrivateKeyType default" "$(jget "$W/config0.json" 'd["Config"]["PrivateKeyType"]')" ec
curl -sS -o "$W/bearer.json" -w '%{http_code}' --cacert "$D/ca.pem" -H "Authorization: Bearer $OP" \
    "$SRV_URL/v1/connect/ca/configuration" >"$W/bearer.code"
is_eq "Authorization: Bearer works too" "$(cat "$W/bearer.code")" 200
api GET /v1/nonexistent "$OP"
is_eq "unknown path: 404" "$API_CODE" 404
api DELETE /v1/connect/ca/roots
is_eq "wrong method: 405" "$API_CODE" 405

# ---- leaf for a service
leaf_files() { # JSON PREFIX: writes PREFIX.crt (leaf), PREFIX.chain (rest), PREFIX.key
    jget "$1" 'd["CertPEM"]' >"$2.all"
    awk -v a="$2.crt" -v b="$2.chain" '/BEGIN CERT/{n++} {print > (n==1 ? a : b)}' "$2.all"
    jget "$1" 'd.get("PrivateKeyPEM","")' >"$2.key"
}
api GET /v1/agent/connect/ca/leaf/web "$OP"
is_eq "leaf/web with the operator token: 200" "$API_CODE" 200
cp "$API_BODY" "$W/leaf1.json"
leaf_files "$W/leaf1.json" "$W/leaf1"
is_eq "Service" "$(jget "$W/leaf1.json" 'd["Service"]')" web
is_eq "ServiceURI" "$(jget "$W/leaf1.json" 'd["ServiceURI"]')" "spiffe://$TD/ns/default/dc/dc1/svc/web"
check "leaf verifies: root + intermediate" openssl verify -CAfile "$W/root0.pem" -untrusted "$W/leaf1.chain" "$W/leaf1.crt"
check "leaf verifies for TLS server and client purposes" openssl verify -purpose sslserver -CAfile "$W/root0.pem" -untrusted "$W/leaf1.chain" "$W/leaf1.crt"
check "... and sslclient" openssl verify -purpose sslclient -CAfile "$W/root0.pem" -untrusted "$W/leaf1.chain" "$W/leaf1.crt"
has "leaf SAN is the service URI" "$(cext "$W/leaf1.crt" subjectAltName)" "URI:spiffe://$TD/ns/default/dc/dc1/svc/web"
has "leaf EKU" "$(cext "$W/leaf1.crt" extendedKeyUsage)" "TLS Web Server Authentication, TLS Web Client Authentication"
has "leaf is not a CA" "$(cext "$W/leaf1.crt" basicConstraints)" "CA:FALSE"
is_eq "private key matches the leaf" "$(kpub "$W/leaf1.key")" "$(cpub "$W/leaf1.crt")"
is_eq "notBefore is a minute in the past" "$(openssl x509 -in "$W/leaf1.crt" -noout -startdate | sed 's/.*=//')" \
    "$(date -u -d "@$((NOWS - 60))" '+%b %e %H:%M:%S %Y GMT')"
is_eq "notAfter is now + 72h" "$(openssl x509 -in "$W/leaf1.crt" -noout -enddate | sed 's/.*=//')" \
    "$(date -u -d "@$((NOWS + 72 * 3600))" '+%b %e %H:%M:%S %Y GMT')"
is_eq "SerialNumber matches the certificate" "$(jget "$W/leaf1.json" 'd["SerialNumber"]' | tr -d : | tr a-f A-F)" \
    "$(cserial "$W/leaf1.crt")"
is_eq "ValidAfter is the notBefore (RFC 3339)" "$(jget "$W/leaf1.json" 'd["ValidAfter"]')" \
    "$(date -u -d "@$((NOWS - 60))" '+%Y-%m-%dT%H:%M:%SZ')"
is_eq "ValidBefore is the notAfter (RFC 3339)" "$(jget "$W/leaf1.json" 'd["ValidBefore"]')" \
    "$(date -u -d "@$((NOWS + 72 * 3600))" '+%Y-%m-%dT%H:%M:%SZ')"
is_eq "CreateIndex and ModifyIndex: equal whole numbers" \
    "$(jget "$W/leaf1.json" '"%s %s %s" % (type(d["CreateIndex"]).__name__, d["CreateIndex"] == d["ModifyIndex"], d["CreateIndex"] > 0)')" \
    "int True True"
is_eq "CertPEM: the leaf, then the intermediate, in PEM blocks" \
    "$(jget "$W/leaf1.json" 'd["CertPEM"].count("-----BEGIN CERTIFICATE-----\n")')" 2
curl -sS -D "$W/leaf1.head" -o /dev/null --cacert "$D/ca.pem" -H "X-Consul-Token: $OP" \
    "$SRV_URL/v1/agent/connect/ca/leaf/web"
is_eq "answer head: status line, Content-Type, Content-Length, keep-alive" \
    "$(tr -d '\r' <"$W/leaf1.head" | grep -E '^(HTTP/|Content-Type|Content-Length|Connection|Cache-Control)' |
       sed 's/^\(Content-Length: \)[0-9]*$/\1N/' | tr '\n' '|')" \
    "HTTP/1.1 200 OK|Content-Type: application/json|Content-Length: N|Cache-Control: no-store|Connection: keep-alive|"
check "certtool accepts the leaf chain" bash -c "cat '$W/leaf1.crt' '$W/leaf1.chain' >'$W/leaf1.bundle' && certtool --verify --load-ca-certificate '$W/root0.pem' --infile '$W/leaf1.bundle' --verify-profile=low >/dev/null 2>&1"
api GET /v1/agent/connect/ca/leaf/Bad_Name "$OP"
is_eq "bad service name: 400" "$API_CODE" 400

# ---- tokens and policies
printf '{"Description":"web only","ServiceIdentities":[{"ServiceName":"web"}]}' >"$W/tok.json"
api PUT /v1/acl/token "$OP" "$W/tok.json"
is_eq "token create: 200" "$API_CODE" 200
WEB=$(jget "$API_BODY" 'd["SecretID"]')
WEB_ACC=$(jget "$API_BODY" 'd["AccessorID"]')
has "token has a SecretID" "$WEB" '^[0-9a-f-]{36}$'
lacks "the store does not hold the new secret" "$(strings "$D/pkictl.db" "$D"/pkictl.db-wal 2>/dev/null)" "$WEB"
api GET /v1/agent/connect/ca/leaf/web "$WEB"
is_eq "service token: leaf for its service" "$API_CODE" 200
api GET /v1/agent/connect/ca/leaf/db "$WEB"
is_eq "service token: another service refused (403)" "$API_CODE" 403
has "403 says why" "$(cat "$API_BODY")" 'Permission denied'
api GET /v1/connect/ca/configuration "$WEB"
is_eq "service token: config refused" "$API_CODE" 403
api PUT /v1/acl/token "$WEB" "$W/tok.json"
is_eq "service token cannot create tokens" "$API_CODE" 403
api GET /v1/acl/tokens "$OP"
is_eq "token list: 200" "$API_CODE" 200
lacks "token list has no secrets" "$(cat "$API_BODY")" "SecretID|$WEB"
has "token list has the accessor" "$(cat "$API_BODY")" "$WEB_ACC"

# ---- sign a CSR
csr_req web "URI:spiffe://$TD/ns/default/dc/dc1/svc/web,DNS:web.internal"
api POST /v1/connect/ca/sign "$WEB" "$W/web.req"
is_eq "sign: 200 for its own service" "$API_CODE" 200
cp "$API_BODY" "$W/sign1.json"
leaf_files "$W/sign1.json" "$W/sign1"
check "signed leaf verifies" openssl verify -CAfile "$W/root0.pem" -untrusted "$W/sign1.chain" "$W/sign1.crt"
is_eq "signed leaf has the CSR's key" "$(cpub "$W/sign1.crt")" "$(kpub "$W/web.key")"
has "signed leaf keeps the DNS SAN" "$(cext "$W/sign1.crt" subjectAltName)" "DNS:web.internal"
is_eq "sign answer has no private key" "$(jget "$W/sign1.json" '"PrivateKeyPEM" in d')" false
csr_req db "URI:spiffe://$TD/ns/default/dc/dc1/svc/db"
api POST /v1/connect/ca/sign "$WEB" "$W/db.req"
is_eq "sign: CSR for another service refused (403)" "$API_CODE" 403
csr_req evil "URI:spiffe://other.consul/ns/default/dc/dc1/svc/web"
api POST /v1/connect/ca/sign "$OP" "$W/evil.req"
is_eq "sign: foreign trust domain refused (400)" "$API_CODE" 400
csr_req nouri "DNS:web.internal"
api POST /v1/connect/ca/sign "$OP" "$W/nouri.req"
is_eq "sign: CSR without a URI SAN refused" "$API_CODE" 400
csr_req ip "URI:spiffe://$TD/ns/default/dc/dc1/svc/web,IP:10.0.0.1"
api POST /v1/connect/ca/sign "$OP" "$W/ip.req"
is_eq "sign: IP SAN refused" "$API_CODE" 400
printf '{"CSR": "-----BEGIN CERTIFICATE REQUEST-----\\nAAAA\\n-----END CERTIFICATE REQUEST-----\\n"}' >"$W/bad.req"
api POST /v1/connect/ca/sign "$OP" "$W/bad.req"
is_eq "sign: invalid CSR refused (400)" "$API_CODE" 400
printf '{"CSR": ' >"$W/trunc.req"
api POST /v1/connect/ca/sign "$OP" "$W/trunc.req"
is_eq "sign: malformed JSON refused (400)" "$API_CODE" 400
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["Extra"]=1; print(json.dumps(d))' "$W/web.req" >"$W/extra.req"
api POST /v1/connect/ca/sign "$OP" "$W/extra.req"
is_eq "sign: unknown field refused (400)" "$API_CODE" 400
has "unknown field is named" "$(cat "$API_BODY")" "Extra"
head -c 70000 /dev/zero | tr '\0' 'a' >"$W/big.req"
api POST /v1/connect/ca/sign "$OP" "$W/big.req"
is_eq "body over 64 KiB: 413" "$API_CODE" 413
api GET /v1/connect/ca/roots
is_eq "the server still serves after bad input" "$API_CODE" 200

# ---- configuration changes
put_config() { # JSON-TEXT
    printf '%s' "$1" >"$W/cfg.json"
    api PUT /v1/connect/ca/configuration "$OP" "$W/cfg.json"
}
put_config '{"Provider":"consul","Config":{"LeafCertTTL":"30m"}}'
is_eq "LeafCertTTL 30m refused" "$API_CODE" 400
has "the error names LeafCertTTL" "$(cat "$API_BODY")" "LeafCertTTL"
put_config '{"Provider":"consul","Config":{"LeafCertTTL":"72h","IntermediateCertTTL":"100h"}}'
is_eq "IntermediateCertTTL < 3 x leaf refused" "$API_CODE" 400
put_config '{"Provider":"consul","Config":{"PrivateKeyType":"ec","PrivateKeyBits":1024}}'
is_eq "EC 1024 refused" "$API_CODE" 400
put_config '{"Provider":"consul","Config":{"Bogus":1}}'
is_eq "unknown Config field refused" "$API_CODE" 400
put_config '{"Provider":"vault","Config":{}}'
is_eq "unknown provider refused" "$API_CODE" 400
api GET /v1/connect/ca/configuration "$OP"
is_eq "refused changes left the config whole" "$(jget "$API_BODY" 'd["ModifyIndex"]')" "$(jget "$W/config0.json" 'd["ModifyIndex"]')"
put_config '{"Provider":"consul","Config":{"LeafCertTTL":"24h"}}'
is_eq "LeafCertTTL 24h accepted" "$API_CODE" 200
api GET /v1/connect/ca/roots
is_eq "a TTL change does not rotate" "$(jget "$API_BODY" 'd["ActiveRootID"]')" "$ROOT0"
api GET /v1/agent/connect/ca/leaf/web "$OP"
leaf_files "$API_BODY" "$W/leaf24"
is_eq "new leaves use the new TTL" "$(openssl x509 -in "$W/leaf24.crt" -noout -enddate | sed 's/.*=//')" \
    "$(date -u -d "@$((NOWS + 24 * 3600))" '+%b %e %H:%M:%S %Y GMT')"

# ---- rotation with cross-signing (EC P-256 -> EC P-384)
put_config '{"Provider":"consul","Config":{"LeafCertTTL":"24h","PrivateKeyType":"ec","PrivateKeyBits":384}}'
is_eq "key change: rotation accepted" "$API_CODE" 200
api GET /v1/connect/ca/roots
cp "$API_BODY" "$W/roots1.json"
ROOT1=$(jget "$W/roots1.json" 'd["ActiveRootID"]')
is_ne "a new active root" "$ROOT1" "$ROOT0"
is_eq "both roots listed" "$(jget "$W/roots1.json" 'len(d["Roots"])')" 2
is_eq "old root inactive" "$(jget "$W/roots1.json" '[r["Active"] for r in d["Roots"] if r["ID"]=="'"$ROOT0"'"][0]')" false
is_eq "old root has RotatedOutAt" "$(jget "$W/roots1.json" '[r["RotatedOutAt"] for r in d["Roots"] if r["ID"]=="'"$ROOT0"'"][0]')" "$(date -u -d "@$NOWS" +%Y-%m-%dT%H:%M:%SZ)"
is_eq "new root is P-384" "$(jget "$W/roots1.json" 'd["Roots"][0]["PrivateKeyBits"]')" 384
is_eq "new root lists intermediate + cross-signed copy" "$(jget "$W/roots1.json" 'len(d["Roots"][0]["IntermediateCerts"])')" 2
jget "$W/roots1.json" 'd["Roots"][0]["RootCert"]' >"$W/root1.pem"
api GET /v1/agent/connect/ca/leaf/web "$OP"
cp "$API_BODY" "$W/leaf2.json"
leaf_files "$W/leaf2.json" "$W/leaf2"
check "new leaf: a client that trusts only the new root verifies it" \
    openssl verify -CAfile "$W/root1.pem" -untrusted "$W/leaf2.chain" "$W/leaf2.crt"
check "new leaf: a client that trusts only the OLD root verifies it (cross-signature)" \
    openssl verify -CAfile "$W/root0.pem" -untrusted "$W/leaf2.chain" "$W/leaf2.crt"
check "old leaf still verifies with the old root" \
    openssl verify -CAfile "$W/root0.pem" -untrusted "$W/leaf1.chain" "$W/leaf1.crt"
check "ca.pem holds both roots: old leaf verifies with it" \
    openssl verify -CAfile "$D/ca.pem" -untrusted "$W/leaf1.chain" "$W/leaf1.crt"
check "ca.pem: new leaf verifies with it" \
    openssl verify -CAfile "$D/ca.pem" -untrusted "$W/leaf2.chain" "$W/leaf2.crt"
check "the API certificate was re-issued under the new root" \
    curl -sS -o /dev/null --cacert "$W/root1.pem" "$SRV_URL/v1/connect/ca/roots"
check "... and old-root clients still reach the API" \
    curl -sS -o /dev/null --cacert "$W/root0.pem" "$SRV_URL/v1/connect/ca/roots"

# ---- forced rotation without cross-signing (-> RSA 2048)
put_config '{"Provider":"consul","Config":{"LeafCertTTL":"24h","PrivateKeyType":"rsa","PrivateKeyBits":2048},"ForceWithoutCrossSigning":true}'
is_eq "forced rotation: 200" "$API_CODE" 200
has "forced rotation warns what may break" "$(cat "$API_BODY")" "Warning.*cross-signature"
api GET /v1/connect/ca/roots
cp "$API_BODY" "$W/roots2.json"
ROOT2=$(jget "$W/roots2.json" 'd["ActiveRootID"]')
is_ne "forced: a new active root" "$ROOT2" "$ROOT1"
is_eq "forced: no cross-signed copy" "$(jget "$W/roots2.json" 'len(d["Roots"][0]["IntermediateCerts"])')" 1
is_eq "forced: three roots listed" "$(jget "$W/roots2.json" 'len(d["Roots"])')" 3
jget "$W/roots2.json" 'd["Roots"][0]["RootCert"]' >"$W/root2.pem"
api GET /v1/agent/connect/ca/leaf/web "$OP"
leaf_files "$API_BODY" "$W/leaf3"
check "forced: new leaf verifies with the new root" openssl verify -CAfile "$W/root2.pem" -untrusted "$W/leaf3.chain" "$W/leaf3.crt"
check_fails() { if "${@:2}" >/dev/null 2>&1; then not_ok "$1" "succeeded"; else ok "$1"; fi; }
check_fails "forced: a client with only the previous root does not" openssl verify -CAfile "$W/root1.pem" -untrusted "$W/leaf3.chain" "$W/leaf3.crt"
is_eq "forced: leaf key is RSA" "$(openssl pkey -in "$W/leaf3.key" -noout -text 2>/dev/null | head -1 | grep -o 'Private-Key: (2048 bit')" "Private-Key: (2048 bit"

# ---- pruning on the test clock: rotated out at NOWS, leaf TTL 24h
API_INSECURE=1
set_clock $((NOWS + 2 * 24 * 3600 - 10))
api GET /v1/connect/ca/roots
is_eq "not pruned before rotated-out + 2 x leaf TTL" "$(jget "$API_BODY" 'len(d["Roots"])')" 3
set_clock $((NOWS + 2 * 24 * 3600 + 10))
api GET /v1/connect/ca/roots
is_eq "pruned after rotated-out + 2 x leaf TTL" "$(jget "$API_BODY" 'len(d["Roots"])')" 1
is_eq "the active root stays" "$(jget "$API_BODY" 'd["ActiveRootID"]')" "$ROOT2"
is_eq "ca.pem now holds one root" "$(grep -c 'BEGIN CERTIFICATE' "$D/ca.pem")" 1

# ---- metrics
api GET /v1/metrics "$OP"
is_eq "metrics: 200" "$API_CODE" 200
has "leaves issued (leaf endpoint)" "$(cat "$API_BODY")" '^pkictl_leaves_issued_total\{endpoint="leaf"\} [1-9]'
has "leaves issued (sign endpoint)" "$(cat "$API_BODY")" '^pkictl_leaves_issued_total\{endpoint="sign"\} 1$'
has "issuance histogram" "$(cat "$API_BODY")" '^pkictl_issue_duration_seconds_bucket\{le="\+Inf"\}'
has "errors by kind" "$(cat "$API_BODY")" '^pkictl_errors_total\{kind="forbidden"\} [1-9]'
has "root expiry" "$(cat "$API_BODY")" '^pkictl_root_expiry_seconds [0-9]'
has "rotations" "$(cat "$API_BODY")" '^pkictl_rotations_total 2$'
api GET /v1/metrics "$WEB"
is_eq "metrics need an operator token" "$API_CODE" 403

API_INSECURE=
set_clock "$NOWS"

# ---- token delete
api DELETE "/v1/acl/token/$WEB_ACC" "$OP"
is_eq "token delete: 200" "$API_CODE" 200
api GET /v1/agent/connect/ca/leaf/web "$WEB"
is_eq "deleted token no longer works" "$API_CODE" 403

# ---- restart keeps the CA
srv_stop
is_eq "clean stop: exit 0" "$SRV_RC" 0
absent "server.addr removed on stop" "$D/server.addr"
cp "$D/operator.token" "$W/op.before"
# A data dir from before tls/: its server.crt/server.key at the top are moved into tls/,
# and the server presents the same certificate.
api_cert_fp() { # the SHA-256 fingerprint of the certificate the server presents
    timeout 15 openssl s_client -connect "${SRV_URL#https://}" -CAfile "$D/ca.pem" \
        -verify_return_error </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256
}
FP_BEFORE=$(openssl x509 -in "$D/tls/server.crt" -noout -fingerprint -sha256)
mv "$D/tls/server.crt" "$D/tls/server.key" "$D/" && rmdir "$D/tls"
check "server restarts on the same data dir" srv_start "$D"
exists "old layout: server.crt moved into tls/" "$D/tls/server.crt"
absent "old layout: no server.key left at the top" "$D/server.key"
mode_is "old layout: tls/server.key keeps 0600" "$D/tls/server.key" 600
is_eq "old layout: the same API certificate is served" "$(api_cert_fp)" "$FP_BEFORE"
api GET /v1/connect/ca/roots
is_eq "same active root after restart" "$(jget "$API_BODY" 'd["ActiveRootID"]')" "$ROOT2"
is_eq "same trust domain after restart" "$(jget "$API_BODY" 'd["TrustDomain"]')" "$TD"
is_eq "operator token untouched" "$(cat "$D/operator.token")" "$(cat "$W/op.before")"
api GET /v1/agent/connect/ca/leaf/web "$OP"
is_eq "leaf after restart" "$API_CODE" 200
D2_OUT=$("$PKICTL" server --data-dir="$D" --listen=127.0.0.1:0 2>&1)
has "a second server on the same dir is refused" "$D2_OUT" "another pkictl server"
srv_stop
check "--no-sandbox: the server starts" srv_start "$D" --no-sandbox
lacks "--no-sandbox: nothing is confined" "$(cat "$T_TMP/server.err")" "confined with Landlock"
api GET /v1/agent/connect/ca/leaf/web "$OP"
is_eq "--no-sandbox: leaf" "$API_CODE" 200
srv_stop

# ---- audit log
A=$(cat "$D/audit.log")
for e in bootstrap leaf.issue config.change root.rotate root.prune token.create token.delete server.start server.stop; do
    has "audit has $e" "$A" "\"event\":\"$e\""
done
lacks "audit has no key" "$A" "PRIVATE KEY"
lacks "audit has no secret" "$A" "$OP|$WEB"
if "$PKICTL" audit verify --help >/dev/null 2>&1; then
    check "pkictl audit verify: chain intact" "$PKICTL" audit verify "$D/audit.log" --data-dir "$D"
    sed '3s/"seq":3/"seq":3,"x":1/' "$D/audit.log" >"$W/audit.bad"
    check_fails "audit verify catches an edited line" "$PKICTL" audit verify "$W/audit.bad"
fi

# ---- a root supplied in the configuration (RootCert + PrivateKey)
D3="$T_TMP/data3"
check "fresh server for a supplied root" srv_start "$D3"
OP3=$(cat "$D3/operator.token")
api GET /v1/connect/ca/roots
jget "$API_BODY" 'd["Roots"][0]["RootCert"]' >"$W/r3old.pem"
R3OLD=$(jget "$API_BODY" 'd["ActiveRootID"]')
root_body() { # CERT KEY OUT: the PUT body that supplies CERT and KEY as the root
    python3 -c 'import json,sys; print(json.dumps({"Provider":"consul","Config":{"LeafCertTTL":"24h",
  "RootCert":open(sys.argv[1]).read(),"PrivateKey":open(sys.argv[2]).read()}}))' "$1" "$2" >"$3"
}
# A supplied root that is not valid yet, has expired, or ends within one LeafCertTTL (24h
# here) would leave leaves no peer accepts: refused whole (400), the roots unchanged.
CLK=$(cat "$SRV_CLOCK")
bad_root() { # NAME NOW LIFETIME: a P-256 CA made at NOW by pkictl, and its PUT body
    mkdir -p "$W/br-$1"
    PKICTL_NOW=$2 "$PKICTL" cert create-ca --certs-dir="$W/br-$1" --ca-key="$W/br-$1.key" \
        --key-type=ecdsa --lifetime="$3" >/dev/null 2>&1
    root_body "$W/br-$1/ca.crt" "$W/br-$1.key" "$W/br-$1.json"
}
bad_root future $((CLK + 2 * 86400)) 720h
bad_root expired $((CLK - 10 * 86400)) 48h
bad_root short "$CLK" 12h
for t in "future:is not valid yet" "expired:has expired" "short:expires before .*within one LeafCertTTL"; do
    api PUT /v1/connect/ca/configuration "$OP3" "$W/br-${t%%:*}.json"
    is_eq "supplied root (${t%%:*}): refused" "$API_CODE" 400
    has "supplied root (${t%%:*}): says why" "$(cat "$API_BODY")" "Config\.RootCert ${t#*:}"
    api GET /v1/connect/ca/roots
    is_eq "supplied root (${t%%:*}): the active root unchanged" "$(jget "$API_BODY" 'd["ActiveRootID"]')" "$R3OLD"
    is_eq "supplied root (${t%%:*}): still one root" "$(jget "$API_BODY" 'len(d["Roots"])')" 1
done
# A supplied root whose name constraints leave out a name this server certifies (the trust
# domain's URIs, the API certificate's DNS names and IPs), or whose own names the active
# root's constraints refuse on the cross-signed path: refused whole, naming the name.
TD3=$(jget "$API_BODY" 'd["TrustDomain"]')
nc_root() { # NAME EXTENSION...: a self-made P-256 root with those extensions, and its PUT body
    local name=$1 ext=() e; shift
    for e in "$@"; do ext+=(-addext "$e"); done
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/nc-$name.key" \
        -subj "/CN=Operator Root $name" -days 365 -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" "${ext[@]}" -out "$W/nc-$name.pem" 2>/dev/null
    root_body "$W/nc-$name.pem" "$W/nc-$name.key" "$W/nc-$name.json"
}
nc_root uri "nameConstraints=critical,permitted;URI:other.example"
nc_root dns "nameConstraints=critical,permitted;DNS:example.com"
nc_root ip "nameConstraints=critical,excluded;IP:127.0.0.0/255.0.0.0"
nc_root san "subjectAltName=URI:spiffe://other.example"
for t in "uri:Config\.RootCert's name constraints do not permit URI:spiffe://$TD3, a name of the signing CA" \
         "dns:Config\.RootCert's name constraints do not permit DNS:localhost, a name of this server's TLS certificate \\(--advertise\\)" \
         "ip:Config\.RootCert's name constraints exclude IP Address:127\.0\.0\.1, a name of this server's TLS certificate" \
         "san:the active root's name constraints do not permit URI:spiffe://other\.example, a name of the new root"; do
    api PUT /v1/connect/ca/configuration "$OP3" "$W/nc-${t%%:*}.json"
    is_eq "supplied root with name constraints (${t%%:*}): refused" "$API_CODE" 400
    has "supplied root with name constraints (${t%%:*}): names the name" "$(cat "$API_BODY")" "${t#*:}"
    api GET /v1/connect/ca/roots
    is_eq "supplied root with name constraints (${t%%:*}): the active root unchanged" \
        "$(jget "$API_BODY" 'd["ActiveRootID"]')" "$R3OLD"
    is_eq "supplied root with name constraints (${t%%:*}): still one root" "$(jget "$API_BODY" 'len(d["Roots"])')" 1
done
# The same roots through openssl: a leaf with those names fails under each, so the refusals
# above are what peers would do.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/nc-leaf.key" \
    -subj "/CN=service" -out "$W/nc-leaf.csr" 2>/dev/null
for t in uri dns ip; do
    openssl x509 -req -in "$W/nc-leaf.csr" -CA "$W/nc-$t.pem" -CAkey "$W/nc-$t.key" -days 1 \
        -extfile <(printf 'subjectAltName=URI:spiffe://%s/ns/default/dc/dc1/svc/service,DNS:localhost,IP:127.0.0.1\n' "$TD3") \
        -out "$W/nc-leaf-$t.crt" 2>/dev/null
    check_fails "openssl verify refuses a leaf with our names under the $t-constrained root" \
        openssl verify -CAfile "$W/nc-$t.pem" "$W/nc-leaf-$t.crt"
done
# The operator's own root below carries constraints that permit every name we issue: the
# trust domain, and the API certificate's localhost, 127.0.0.1 and ::1. openssl verify
# enforces them on the leaf further down.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/own.key" \
    -subj "/CN=Operator Root" -days 365 -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "nameConstraints=critical,permitted;URI:$TD3,permitted;DNS:localhost,permitted;IP:127.0.0.1/255.255.255.255,permitted;IP:::1/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" \
    -out "$W/own.pem" 2>/dev/null
root_body "$W/own.pem" "$W/own.key" "$W/own.json"
api PUT /v1/connect/ca/configuration "$OP3" "$W/own.json"
is_eq "supplied root: rotation accepted" "$API_CODE" 200
api GET /v1/connect/ca/roots
is_eq "supplied root is active (ID = its fingerprint)" "$(jget "$API_BODY" 'd["ActiveRootID"]')" \
    "$(openssl x509 -in "$W/own.pem" -noout -fingerprint -sha1 | sed 's/.*=//' | tr A-F a-f)"
api GET /v1/agent/connect/ca/leaf/web "$OP3"
leaf_files "$API_BODY" "$W/own-leaf"
check "leaf under the supplied root verifies with it" openssl verify -CAfile "$W/own.pem" -untrusted "$W/own-leaf.chain" "$W/own-leaf.crt"
check "... and with the previous root (cross-signed)" openssl verify -CAfile "$W/r3old.pem" -untrusted "$W/own-leaf.chain" "$W/own-leaf.crt"
# Under that root a CSR's DNS names must pass its constraints (DNS:localhost only).
csr_req ncout "URI:spiffe://$TD3/ns/default/dc/dc1/svc/web,DNS:web.internal"
api POST /v1/connect/ca/sign "$OP3" "$W/ncout.req"
is_eq "sign under a constrained root: a DNS name it does not permit refused (400)" "$API_CODE" 400
has "... naming it" "$(cat "$API_BODY")" "the active root's name constraints do not permit DNS:web\.internal, a name of the CSR"
csr_req ncin "URI:spiffe://$TD3/ns/default/dc/dc1/svc/web,DNS:localhost"
api POST /v1/connect/ca/sign "$OP3" "$W/ncin.req"
is_eq "sign under a constrained root: a permitted DNS name signed" "$API_CODE" 200
leaf_files "$API_BODY" "$W/ncin"
check "... and the leaf verifies under the constraints" openssl verify -CAfile "$W/own.pem" -untrusted "$W/ncin.chain" "$W/ncin.crt"
api PUT /v1/connect/ca/configuration "$OP3" "$W/own.json"
is_eq "the same supplied root again: 200" "$API_CODE" 200
api GET /v1/connect/ca/roots
is_eq "... and no second rotation" "$(jget "$API_BODY" 'len(d["Roots"])')" 2
api GET /v1/connect/ca/configuration "$OP3"
lacks "GET config never returns the private key" "$(cat "$API_BODY")" "PRIVATE KEY"
lacks "the store holds no key in the clear after a supplied root" \
    "$(strings "$D3/pkictl.db" "$D3"/pkictl.db-wal 2>/dev/null)" "PRIVATE KEY"
printf '{"Provider":"consul","Config":{"RootCert":"%s"}}' "not a pem" >"$W/half.json"
api PUT /v1/connect/ca/configuration "$OP3" "$W/half.json"
is_eq "RootCert without PrivateKey refused" "$API_CODE" 400
srv_stop

# ---- other key types at bootstrap
for kt in "rsa 2048" "ed25519 0" "ec 384"; do
    set -- $kt
    DK="$T_TMP/data-$1"
    if [ "$2" = 0 ]; then check "bootstrap with --key-type=$1" srv_start "$DK" --key-type="$1"
    else check "bootstrap with --key-type=$1 --key-bits=$2" srv_start "$DK" --key-type="$1" --key-bits="$2"; fi
    api GET /v1/connect/ca/roots
    is_eq "$1: PrivateKeyType" "$(jget "$API_BODY" 'd["Roots"][0]["PrivateKeyType"]')" "$1"
    jget "$API_BODY" 'd["Roots"][0]["RootCert"]' >"$W/root-$1.pem"
    api GET /v1/agent/connect/ca/leaf/web "$(cat "$DK/operator.token")"
    is_eq "$1: leaf 200" "$API_CODE" 200
    leaf_files "$API_BODY" "$W/leaf-$1"
    check "$1: leaf verifies" openssl verify -CAfile "$W/root-$1.pem" -untrusted "$W/leaf-$1.chain" "$W/leaf-$1.crt"
    srv_stop
done
out=$("$PKICTL" server --data-dir="$T_TMP/data-bad" --key-type=dsa 2>&1); rc=$?
is_eq "unknown --key-type: exit 1" "$rc" 1
has "unknown --key-type says so" "$out" "dsa"
absent "a refused bootstrap leaves no store" "$T_TMP/data-bad/pkictl.db"
out=$("$PKICTL" server 2>&1); rc=$?
is_eq "no --data-dir: exit 2" "$rc" 2
out=$("$PKICTL" server --help); rc=$?
is_eq "server --help: exit 0" "$rc" 0
has "server --help shows curl usage" "$out" "curl --cacert"

finish
