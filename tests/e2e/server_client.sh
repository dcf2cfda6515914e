#!/usr/bin/env bash
# The client commands of pkictl against the real `pkictl server` (the same binary):
# ca roots [--pem] [--format=json], ca get-config, ca set-config (a TTL change, the
# get-config output fed back, a rotation, a forced one, refused configs with the
# server's message), ca leaf --out-dir (files, modes, the chain verifies, no silent
# overwrite), ca sign (PEM and DER CSRs, --out), token create/list/delete and a
# service token used for its own service and refused for another, audit verify
# (intact, edited, cut), with flags and with PKICTL_ADDR / PKICTL_CA_FILE /
# PKICTL_TOKEN. Each answer is checked against the server's own API (curl).
# tests/e2e/client_cli.sh covers the same commands against a stub.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/server_lib.sh"
unset PKICTL_ADDR PKICTL_CA_FILE PKICTL_TOKEN

D="$T_TMP/data"
W="$T_TMP/work"
mkdir -p "$W"
check "setup: server starts" srv_start "$D"
ADDR=$(cat "$D/server.addr")
OP=$(cat "$D/operator.token")
C=(--addr="$ADDR" --ca-file="$D/ca.pem" --token-file="$D/operator.token")

# rc_is "what" WANT args...: pkictl exits WANT (output in .out/.err)
rc_is() {
    local what=$1 want=$2 rc; shift 2
    "$PKICTL" "$@" >"$T_TMP/.out" 2>"$T_TMP/.err"; rc=$?
    if [ "$rc" -eq "$want" ]; then ok "$what"; else not_ok "$what" "exit $rc, want $want: $(head -c 300 "$T_TMP/.err")"; fi
}
canon() { python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), sort_keys=True))' "$1" 2>/dev/null; }
no_secret() { # "what" SECRET: not in the last command's output
    if grep -qF -- "$2" "$T_TMP/.out" "$T_TMP/.err"; then not_ok "$1" "secret printed"; else ok "$1"; fi
}
same_file() { # "what" A B: same bytes
    if cmp -s "$2" "$3"; then ok "$1"; else not_ok "$1" "$2 and $3 differ"; fi
}

# ---------------------------------------------------------------- ca roots
api GET /v1/connect/ca/roots
cp "$API_BODY" "$W/roots0.json"
TD=$(jget "$W/roots0.json" 'd["TrustDomain"]')
ROOT0=$(jget "$W/roots0.json" 'd["ActiveRootID"]')
jget "$W/roots0.json" 'd["Roots"][0]["RootCert"]' >"$W/root0.pem"
pk_ok "ca roots" ca roots --addr="$ADDR" --ca-file="$D/ca.pem"
out_has "ca roots: the trust domain" "^Trust domain: +$TD$"
out_has "ca roots: the active root ID" "^Active root: +$ROOT0$"
out_has "ca roots: one root, active" "^Root 1 of 1 \(active\)$"
out_has "ca roots: its key" "Key: +ec 256"
out_has "ca roots: its signing key ID" "Signing key ID: +$(jget "$W/roots0.json" 'd["Roots"][0]["SigningKeyID"]')"
pk_ok "ca roots needs no token" ca roots --addr="$ADDR" --ca-file="$D/ca.pem"
pk_ok "ca roots --pem" ca roots --pem --addr="$ADDR" --ca-file="$D/ca.pem"
cp "$T_TMP/.out" "$W/roots0.pem"
is_eq "ca roots --pem: one certificate" "$(ncerts "$W/roots0.pem")" 1
is_eq "ca roots --pem: the active root" "$(openssl x509 -in "$W/roots0.pem" -noout -fingerprint -sha1 | sed 's/.*=//' | tr A-F a-f)" "$ROOT0"
check "ca roots --pem output works as a trust store for the API" \
    curl -sS -o /dev/null --max-time 10 --cacert "$W/roots0.pem" "$ADDR/v1/connect/ca/roots"
pk_ok "ca roots --format=json" ca roots --format=json --addr="$ADDR" --ca-file="$D/ca.pem"
cp "$T_TMP/.out" "$W/roots0.cli.json"
same "ca roots --format=json is the server's answer" "$(canon "$W/roots0.cli.json")" "$(canon "$W/roots0.json")"
pk_fails "ca roots without a CA file: TLS refused" 1 ca roots --addr="$ADDR"
err_has "... says the certificate did not verify and what to pass" "did not verify.*--ca-file"
pk_fails "ca roots with another CA file: TLS refused" 1 ca roots --addr="$ADDR" --ca-file="$W/root0.pem.none"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/other.key" \
    -subj /CN=other -days 2 -out "$W/other.pem" 2>/dev/null
pk_fails "ca roots trusting an unrelated CA: refused" 1 ca roots --addr="$ADDR" --ca-file="$W/other.pem"
err_has "... TLS did not verify" "did not verify"

# ---------------------------------------------------------------- ca get-config / set-config
api GET /v1/connect/ca/configuration "$OP"
cp "$API_BODY" "$W/config0.json"
pk_ok "ca get-config" ca get-config "${C[@]}"
cp "$T_TMP/.out" "$W/config0.cli.json"
same "ca get-config prints the server's config" "$(canon "$W/config0.cli.json")" "$(canon "$W/config0.json")"
no_secret "ca get-config does not print the token" "$OP"
pk_fails "ca get-config without a token" 2 ca get-config --addr="$ADDR" --ca-file="$D/ca.pem"
err_has "... says which token to pass" "needs a token.*--token-file"
pk_fails "ca get-config with an unknown token" 1 ca get-config --addr="$ADDR" --ca-file="$D/ca.pem" \
    --token=00000000-0000-4000-8000-000000000000
err_has "... the server's message" "403.*ACL not found"

printf '{"Provider":"consul","Config":{"LeafCertTTL":"24h"}}\n' >"$W/ttl.json"
pk_ok "ca set-config: LeafCertTTL 24h" ca set-config "$W/ttl.json" "${C[@]}"
out_has "... says so" "configuration updated"
api GET /v1/connect/ca/configuration "$OP"
is_eq "... the server has it" "$(jget "$API_BODY" 'd["Config"]["LeafCertTTL"]')" 24h0m0s
api GET /v1/connect/ca/roots
is_eq "... no rotation" "$(jget "$API_BODY" 'd["ActiveRootID"]')" "$ROOT0"
pk_ok "ca get-config again" ca get-config "${C[@]}"
cp "$T_TMP/.out" "$W/config1.cli.json"
MI1=$(jget "$W/config1.cli.json" 'd["ModifyIndex"]')
pk_ok "the get-config output is a valid set-config input" ca set-config "$W/config1.cli.json" "${C[@]}"
api GET /v1/connect/ca/configuration "$OP"
cfg_only() { python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["Config"], sort_keys=True))' "$1" 2>/dev/null; }
same "... same settings after the round trip" "$(cfg_only "$API_BODY")" "$(cfg_only "$W/config1.cli.json")"
is_ne "... stored again (ModifyIndex moved)" "$(jget "$API_BODY" 'd["ModifyIndex"]')" "$MI1"
api GET /v1/connect/ca/roots
is_eq "... and no rotation" "$(jget "$API_BODY" 'd["ActiveRootID"]')" "$ROOT0"
pk_ok "ca set-config from standard input" ca set-config - "${C[@]}" <"$W/ttl.json"

api GET /v1/connect/ca/configuration "$OP"
MI2=$(jget "$API_BODY" 'd["ModifyIndex"]')
printf '{"Provider":"consul","Config":{"LeafCertTTL":"30m"}}' >"$W/bad-ttl.json"
pk_fails "ca set-config: LeafCertTTL 30m refused" 1 ca set-config "$W/bad-ttl.json" "${C[@]}"
err_has "... with the server's message" "400.*LeafCertTTL.*at least 1h"
printf '{"Provider":"consul","Config":{"PrivateKeyType":"ec","PrivateKeyBits":1024}}' >"$W/bad-bits.json"
pk_fails "ca set-config: ec 1024 refused" 1 ca set-config "$W/bad-bits.json" "${C[@]}"
err_has "... names PrivateKeyBits" "PrivateKeyBits"
printf '{"Provider":"consul","Config":{},"Extra":true}' >"$W/bad-extra.json"
pk_fails "ca set-config: unknown field refused" 1 ca set-config "$W/bad-extra.json" "${C[@]}"
err_has "... names it" "Extra"
printf '{"Provider":"vault","Config":{}}' >"$W/bad-prov.json"
pk_fails "ca set-config: unknown provider refused" 1 ca set-config "$W/bad-prov.json" "${C[@]}"
err_has "... lists the providers" "consul"
printf '{"Provider":' >"$W/bad-json.json"
pk_fails "ca set-config: malformed JSON refused" any ca set-config "$W/bad-json.json" "${C[@]}"
pk_fails "ca set-config: a missing file" 1 ca set-config "$W/nonexistent.json" "${C[@]}"
err_has "... names it" "nonexistent\.json"
api GET /v1/connect/ca/configuration "$OP"
is_eq "refused configs changed nothing" "$(jget "$API_BODY" 'd["ModifyIndex"]')" "$MI2"

printf '{"Provider":"consul","Config":{"LeafCertTTL":"24h","PrivateKeyType":"ec","PrivateKeyBits":384}}' >"$W/rot.json"
pk_ok "ca set-config: rotation to ec 384" ca set-config "$W/rot.json" "${C[@]}"
is_eq "... no warning (cross-signed)" "$(cat "$T_TMP/.err")" ""
pk_ok "ca roots after the rotation (ca.pem now holds both roots)" ca roots --format=json --addr="$ADDR" --ca-file="$D/ca.pem"
cp "$T_TMP/.out" "$W/roots1.json"
ROOT1=$(jget "$W/roots1.json" 'd["ActiveRootID"]')
is_ne "... a new active root" "$ROOT1" "$ROOT0"
is_eq "... two roots" "$(jget "$W/roots1.json" 'len(d["Roots"])')" 2
jget "$W/roots1.json" 'd["Roots"][0]["RootCert"]' >"$W/root1.pem"
pk_ok "ca roots (text) after the rotation" ca roots --addr="$ADDR" --ca-file="$D/ca.pem"
out_has "... root 1 of 2 is active" "^Root 1 of 2 \(active\)$"
out_has "... root 2 of 2 rotated out" "^Root 2 of 2 \(rotated out at [0-9T:-]+Z\)$"
out_has "... the new key" "Key: +ec 384"
pk_ok "ca roots --pem after the rotation" ca roots --pem --addr="$ADDR" --ca-file="$D/ca.pem"
is_eq "... two roots" "$(ncerts "$T_TMP/.out")" 2
is_eq "... active first" "$(nth_cert "$T_TMP/.out" 1 | openssl x509 -noout -fingerprint -sha1 | sed 's/.*=//' | tr A-F a-f)" "$ROOT1"
pk_ok "a client that trusts only the old root still talks to the server" ca roots --addr="$ADDR" --ca-file="$W/root0.pem"
pk_ok "... and one that trusts only the new root" ca get-config --addr="$ADDR" --ca-file="$W/root1.pem" --token-file="$D/operator.token"

# ---------------------------------------------------------------- ca leaf
mkdir -p "$W/out"
pk_ok "ca leaf web --out-dir" ca leaf web --out-dir "$W/out" "${C[@]}"
wrote_exist "... the files it names exist"
no_secret "... the token is not printed" "$OP"
lacks "... nor the key" "$(cat "$T_TMP/.out" "$T_TMP/.err")" "PRIVATE KEY"
out_has "... a summary line" "^leaf for web \(spiffe://$TD/ns/default/dc/dc1/svc/web\), serial ([0-9a-f]{2}:)+[0-9a-f]{2}, valid until "
LEAF_SERIAL=$(sed -n 's/.*serial \([0-9a-f:]*\),.*/\1/p' "$T_TMP/.out" | tr -d : | tr a-f A-F)
mode_is "... web.key is 0600" "$W/out/web.key" 600
mode_is "... web.crt is 0644" "$W/out/web.crt" 644
is_eq "... web.crt: leaf, intermediate, cross-signed root" "$(ncerts "$W/out/web.crt")" 3
nth_cert "$W/out/web.crt" 1 >"$W/web.leaf"
awk '/BEGIN CERT/{n++} n>1' "$W/out/web.crt" >"$W/web.chain"
matches "... the key is the leaf's" "$W/web.leaf" "$W/out/web.key"
check "... the chain verifies with ca.pem" openssl verify -CAfile "$D/ca.pem" -untrusted "$W/web.chain" "$W/web.leaf"
check "... and with the new root alone" openssl verify -CAfile "$W/root1.pem" -untrusted "$W/web.chain" "$W/web.leaf"
check "... and with the old root alone" openssl verify -CAfile "$W/root0.pem" -untrusted "$W/web.chain" "$W/web.leaf"
has "... SAN is the service URI" "$(cext "$W/web.leaf" subjectAltName)" "URI:spiffe://$TD/ns/default/dc/dc1/svc/web"
is_eq "... CN web" "$(csubject "$W/web.leaf")" "CN=web"
is_eq "... the summary serial is the certificate's" "$LEAF_SERIAL" "$(cserial "$W/web.leaf")"
cp "$W/out/web.crt" "$W/web.crt.1"; cp "$W/out/web.key" "$W/web.key.1"
pk_fails "ca leaf again without --overwrite: refused" 1 ca leaf web --out-dir "$W/out" "${C[@]}"
err_has "... says to pass --overwrite" "already exists.*--overwrite"
same_file "... web.crt untouched" "$W/out/web.crt" "$W/web.crt.1"
same_file "... web.key untouched" "$W/out/web.key" "$W/web.key.1"
rm "$W/out/web.crt"
pk_fails "ca leaf with only web.key present: refused too" 1 ca leaf web --out-dir "$W/out" "${C[@]}"
same_file "... web.key untouched" "$W/out/web.key" "$W/web.key.1"
absent "... web.crt not written alone" "$W/out/web.crt"
cp "$W/web.crt.1" "$W/out/web.crt"
pk_ok "ca leaf --overwrite" ca leaf web --out-dir "$W/out" --overwrite "${C[@]}"
is_ne "... a new certificate" "$(cserial "$W/out/web.crt")" "$(cserial "$W/web.crt.1")"
nth_cert "$W/out/web.crt" 1 >"$W/web2.leaf"
matches "... with its new key" "$W/web2.leaf" "$W/out/web.key"
mode_is "... web.key still 0600" "$W/out/web.key" 600
pk_fails "ca leaf into a missing dir" 1 ca leaf web --out-dir "$W/missing" "${C[@]}"
err_has "... says so" "does not exist"
pk_fails "ca leaf for a bad service name" 1 ca leaf Bad_Name "${C[@]}"
err_has "... names the rule" "lower-case"
pk_ok "ca leaf without --out-dir: a summary" ca leaf db "${C[@]}"
out_has "... names the service" "^Service: +db$"
out_has "... and its URI" "^URI: +spiffe://$TD/ns/default/dc/dc1/svc/db$"
lacks "... no key on the terminal" "$(cat "$T_TMP/.out")" "PRIVATE KEY"
pk_ok "ca leaf --format=json: the server's answer" ca leaf db --format=json "${C[@]}"
cp "$T_TMP/.out" "$W/db.json"
is_eq "... Service db" "$(jget "$W/db.json" 'd["Service"]')" db
jget "$W/db.json" 'd["CertPEM"]' >"$W/db.all"; jget "$W/db.json" 'd["PrivateKeyPEM"]' >"$W/db.key"
nth_cert "$W/db.all" 1 >"$W/db.leaf"
matches "... its key matches its certificate" "$W/db.leaf" "$W/db.key"

# ---------------------------------------------------------------- ca sign
csr() { # NAME URI [openssl req options]: W/NAME.csr (PEM)
    local n=$1 u=$2; shift 2
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/$n.key" \
        -subj "/CN=$n" -addext "subjectAltName=$u" -out "$W/$n.csr" "$@" 2>/dev/null
}
csr api "URI:spiffe://$TD/ns/default/dc/dc1/svc/api,DNS:api.internal"
pk_ok "ca sign CSR" ca sign "$W/api.csr" "${C[@]}"
cp "$T_TMP/.out" "$W/api.signed"
err_has "... a summary on stderr" "^signed api \(spiffe://$TD/ns/default/dc/dc1/svc/api\), serial ([0-9a-f]{2}:)+[0-9a-f]{2}, valid until "
is_eq "... prints the certificate and chain" "$(ncerts "$W/api.signed")" 3
nth_cert "$W/api.signed" 1 >"$W/api.leaf"
awk '/BEGIN CERT/{n++} n>1' "$W/api.signed" >"$W/api.chain"
matches "... the certificate has the CSR's key" "$W/api.leaf" "$W/api.key"
check "... verifies with ca.pem" openssl verify -CAfile "$D/ca.pem" -untrusted "$W/api.chain" "$W/api.leaf"
has "... keeps the DNS SAN" "$(cext "$W/api.leaf" subjectAltName)" "DNS:api.internal"
openssl req -in "$W/api.csr" -outform DER -out "$W/api.der" 2>/dev/null
pk_ok "ca sign a DER CSR --out FILE" ca sign "$W/api.der" --out "$W/api.out" "${C[@]}"
mode_is "... FILE is 0644" "$W/api.out" 644
nth_cert "$W/api.out" 1 >"$W/api2.leaf"
matches "... same key" "$W/api2.leaf" "$W/api.key"
cp "$W/api.out" "$W/api.out.1"
pk_fails "ca sign --out an existing FILE: refused" 1 ca sign "$W/api.csr" --out "$W/api.out" "${C[@]}"
same_file "... FILE untouched" "$W/api.out" "$W/api.out.1"
pk_ok "ca sign --out --overwrite" ca sign "$W/api.csr" --out "$W/api.out" --overwrite "${C[@]}"
is_ne "... replaced" "$(cserial "$W/api.out")" "$(cserial "$W/api.out.1")"
csr evil "URI:spiffe://other.consul/ns/default/dc/dc1/svc/api"
pk_fails "ca sign: a foreign trust domain refused" 1 ca sign "$W/evil.csr" "${C[@]}"
err_has "... with the server's message" "400.*(trust domain|spiffe)"
csr ip "URI:spiffe://$TD/ns/default/dc/dc1/svc/api,IP:10.0.0.1"
pk_fails "ca sign: an IP SAN refused" 1 ca sign "$W/ip.csr" "${C[@]}"
printf 'not a CSR\n' >"$W/junk.csr"
pk_fails "ca sign: a file that is no CSR" any ca sign "$W/junk.csr" "${C[@]}"

# ---------------------------------------------------------------- tokens
pk_ok "token create --policy=service:web" token create --policy=service:web --description="web svc" "${C[@]}"
WEB=$(sed -n 's/^SecretID: *//p' "$T_TMP/.out")
WEB_ACC=$(sed -n 's/^AccessorID: *//p' "$T_TMP/.out")
has "... prints a SecretID" "$WEB" '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
has "... and an AccessorID" "$WEB_ACC" '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
out_has "... and the policy" "^Policy: +service:web$"
no_secret "... not the operator token" "$OP"
mkdir -p "$W/webout"
pk_ok "the web token: ca leaf web" ca leaf web --out-dir "$W/webout" --addr="$ADDR" --ca-file="$D/ca.pem" --token="$WEB"
exists "... wrote web.crt" "$W/webout/web.crt"
pk_fails "the web token: ca leaf db refused" 1 ca leaf db --out-dir "$W/webout" --addr="$ADDR" --ca-file="$D/ca.pem" --token="$WEB"
err_has "... Permission denied (the server's 403)" "403.*Permission denied"
absent "... nothing written" "$W/webout/db.crt"
csr websvc "URI:spiffe://$TD/ns/default/dc/dc1/svc/web"
pk_ok "the web token: ca sign a web CSR" ca sign "$W/websvc.csr" --addr="$ADDR" --ca-file="$D/ca.pem" --token="$WEB"
pk_fails "the web token: ca sign an api CSR refused" 1 ca sign "$W/api.csr" --addr="$ADDR" --ca-file="$D/ca.pem" --token="$WEB"
err_has "... Permission denied" "Permission denied"
pk_fails "the web token: ca get-config refused" 1 ca get-config --addr="$ADDR" --ca-file="$D/ca.pem" --token="$WEB"
pk_fails "the web token: token create refused" 1 token create --policy=operator --addr="$ADDR" --ca-file="$D/ca.pem" --token="$WEB"
err_has "... Permission denied" "Permission denied"
pk_ok "token create --format=json --policy=service:db,cache" token create --policy=service:db,cache --format=json "${C[@]}"
cp "$T_TMP/.out" "$W/dbtok.json"
is_eq "... two service identities" "$(jget "$W/dbtok.json" '[s["ServiceName"] for s in d["ServiceIdentities"]]')" '["db", "cache"]'
DBT=$(jget "$W/dbtok.json" 'd["SecretID"]')
pk_ok "the db,cache token: leaf for cache" ca leaf cache --addr="$ADDR" --ca-file="$D/ca.pem" --token="$DBT"
pk_fails "the db,cache token: leaf for web refused" 1 ca leaf web --addr="$ADDR" --ca-file="$D/ca.pem" --token="$DBT"
pk_fails "token create with a bad service name" any token create --policy=service:Bad_Name "${C[@]}"
pk_ok "token create --policy=operator" token create --policy=operator "${C[@]}"
OP2=$(sed -n 's/^SecretID: *//p' "$T_TMP/.out")
pk_ok "the second operator token works" ca get-config --addr="$ADDR" --ca-file="$D/ca.pem" --token="$OP2"
pk_ok "token list" token list "${C[@]}"
out_has "... the header" "^Accessor +\| Policy +\| Description +\| Created$"
out_has "... the web token" "^$WEB_ACC \| service:web +\| web svc +\|"
out_has "... the bootstrap operator token" "\| operator +\| bootstrap operator token"
is_eq "... four tokens (bootstrap, web, db+cache, second operator)" "$(grep -cE '^[0-9a-f]{8}-' "$T_TMP/.out")" 4
no_secret "... no SecretID of the web token" "$WEB"
no_secret "... nor of the operator" "$OP"
pk_ok "token list --format=json" token list --format=json "${C[@]}"
lacks "... no SecretID field" "$(cat "$T_TMP/.out")" "SecretID"
pk_ok "token delete" token delete "$WEB_ACC" "${C[@]}"
pk_fails "the deleted token: ca leaf web refused" 1 ca leaf web --addr="$ADDR" --ca-file="$D/ca.pem" --token="$WEB"
err_has "... ACL not found" "403.*ACL not found"
pk_fails "token delete again: refused" 1 token delete "$WEB_ACC" "${C[@]}"
err_has "... the server's 404" "404"
pk_ok "token list after the delete" token list "${C[@]}"
lacks "... the web token is gone" "$(cat "$T_TMP/.out")" "$WEB_ACC"

# ---------------------------------------------------------------- environment variables
unset_env() { unset PKICTL_ADDR PKICTL_CA_FILE PKICTL_TOKEN; }
export PKICTL_ADDR="$ADDR" PKICTL_CA_FILE="$D/ca.pem" PKICTL_TOKEN="$OP"
pk_ok "PKICTL_ADDR + PKICTL_CA_FILE + PKICTL_TOKEN: ca get-config" ca get-config
same "... the server's config" "$(jget "$T_TMP/.out" 'd["Config"]["PrivateKeyBits"]')" 384
pk_ok "... ca roots" ca roots
out_has "... the new active root" "^Active root: +$ROOT1$"
mkdir -p "$W/envout"
pk_ok "... ca leaf --out-dir" ca leaf envsvc --out-dir "$W/envout"
check "... its chain verifies" bash -c "awk '/BEGIN CERT/{n++} n>1' '$W/envout/envsvc.crt' >'$W/env.chain' && \
    openssl verify -CAfile '$D/ca.pem' -untrusted '$W/env.chain' '$W/envout/envsvc.crt'"
pk_ok "... token list" token list
PKICTL_TOKEN=00000000-0000-4000-8000-000000000000 pk_ok "--token-file beats a wrong PKICTL_TOKEN" \
    ca get-config --token-file="$D/operator.token"
PKICTL_ADDR=https://127.0.0.1:1 pk_ok "--addr beats a wrong PKICTL_ADDR" ca roots --addr="$ADDR"
PKICTL_CA_FILE="$W/other.pem" pk_ok "--ca-file beats a wrong PKICTL_CA_FILE" ca roots --ca-file="$D/ca.pem"
PKICTL_TOKEN=00000000-0000-4000-8000-000000000000 pk_fails "a wrong PKICTL_TOKEN alone: 403" 1 ca get-config
err_has "... ACL not found" "ACL not found"
PKICTL_CA_FILE="$W/other.pem" pk_fails "a wrong PKICTL_CA_FILE alone: TLS refused" 1 ca roots
unset_env

# ---------------------------------------------------------------- audit verify
pk_ok "audit verify (server running)" audit verify "$D/audit.log" --data-dir "$D"
out_has "... chain intact, checkpoint found" "chain intact.*checkpoint"
cp "$D/audit.log" "$W/audit.copy"
NL=$(wc -l <"$W/audit.copy")
check "setup: the log has many lines" test "$NL" -ge 10
sed '4s/"seq":4/"seq":4,"x":1/' "$W/audit.copy" >"$W/audit.edited"
pk_fails "audit verify: an edited line is refused" 1 audit verify "$W/audit.edited"
err_has "... names line 5 (whose prev no longer matches)" "line 5"
sed '3d' "$W/audit.copy" >"$W/audit.dropped"
pk_fails "audit verify: a dropped line is refused" 1 audit verify "$W/audit.dropped"
err_has "... names line 3" "line 3"
head -n 3 "$W/audit.copy" >"$W/audit.cut"
pk_ok "audit verify: a cut log alone looks intact" audit verify "$W/audit.cut"
pk_fails "audit verify --data-dir: a cut log is refused" 1 audit verify "$W/audit.cut" --data-dir "$D"
err_has "... the newest lines were cut" "cut"
pk_ok "audit verify --format=json" audit verify "$D/audit.log" --format=json
is_eq "... chain_intact true, every line counted" "$(jget "$T_TMP/.out" '[d["chain_intact"], d["lines"]]')" "[true, $NL]"
lacks "audit log: no token" "$(cat "$D/audit.log")" "$OP|$OP2|$WEB|$DBT"
lacks "audit log: no key" "$(cat "$D/audit.log")" "PRIVATE KEY"

# ---------------------------------------------------------------- forced rotation, then the server gone
printf '{"Provider":"consul","Config":{"LeafCertTTL":"24h","PrivateKeyType":"ec","PrivateKeyBits":256},"ForceWithoutCrossSigning":true}' >"$W/force.json"
pk_ok "ca set-config: forced rotation" ca set-config "$W/force.json" "${C[@]}"
err_has "... the warning on stderr" "^pkictl: warning: rotated without a cross-signature"
srv_stop_clean "server"
pk_fails "ca roots with the server gone" 1 ca roots --addr="$ADDR" --ca-file="$D/ca.pem" --timeout=5
err_has "... says it cannot connect" "connect|refused"

# ---------------------------------------------------------------- plain HTTP
check "setup: a plain-HTTP server" srv_start "$T_TMP/plain" --insecure-http
has "... http:// in server.addr" "$SRV_URL" "^http://"
pk_ok "ca roots over http://" ca roots --addr="$SRV_URL"
pk_ok "ca leaf over http://" ca leaf web --addr="$SRV_URL" --token-file="$T_TMP/plain/operator.token"
out_has "... a leaf" "^Service: +web$"
srv_stop_clean "plain-HTTP server"

finish
