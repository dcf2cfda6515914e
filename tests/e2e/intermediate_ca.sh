#!/usr/bin/env bash
# create-ca --parent-ca-cert/--parent-ca-key: an intermediate CA in its own certs dir; ca.crt holds
# intermediate then root; leaves under it carry the chain; refusals leave the disk as it was.
. "$(dirname "$0")/common.sh"
. "$E2E_DIR/sign_common.sh"

A="$T_TMP/a"; B="$T_TMP/b"; K="$T_TMP/keys"; mkdir -p "$B"
new_ca "$A" "$K/a.key"
ROOT="$A/ca.crt"

# ---------------------------------------------------------------- the intermediate
pk_ok "create-ca under a parent" cert create-ca --certs-dir="$B" --ca-key="$K/b.key" --key-type=ecdsa \
    --parent-ca-cert="$ROOT" --parent-ca-key="$K/a.key" --lifetime=43920h
out_has "prints wrote ca.crt" '^wrote .*/ca\.crt$'
out_has "prints wrote the key" '^wrote .*/b\.key$'
wrote_exist "every wrote PATH exists"
is_eq "stdout is exactly two wrote lines" "$(grep -c '^wrote ' "$T_TMP/.out")/$(wc -l <"$T_TMP/.out")" "2/2"
is_eq "B holds ca.crt only" "$(ls -A "$B" | tr '\n' ' ')" "ca.crt "
mode_is "ca.crt mode 0644" "$B/ca.crt" 644
mode_is "intermediate key mode 0600" "$K/b.key" 600
is_eq "intermediate key is PKCS#8 PEM" "$(head -n1 "$K/b.key")" "-----BEGIN PRIVATE KEY-----"
cert_count "B/ca.crt holds two certificates" "$B/ca.crt" 2
nth_cert "$B/ca.crt" 1 >"$T_TMP/int.pem"; nth_cert "$B/ca.crt" 2 >"$T_TMP/second.pem"
same "second certificate is the root" "$(fp256 "$T_TMP/second.pem")" "$(fp256 "$ROOT")"
matches "first certificate is the new key's" "$T_TMP/int.pem" "$K/b.key"
is_eq "intermediate: issuer is the root's subject" "$(cissuer "$T_TMP/int.pem")" "$(csubject "$ROOT")"
same "intermediate: AKI is the root's SKI" "$(caki "$T_TMP/int.pem")" "$(cski "$ROOT")"
is_ne "intermediate: its own SKI" "$(cski "$T_TMP/int.pem")" "$(cski "$ROOT")"
is_eq "intermediate: CA:TRUE, pathlen:0" "$(cval "$T_TMP/int.pem" basicConstraints)" "CA:TRUE, pathlen:0"
if ccrit "$T_TMP/int.pem" basicConstraints; then ok "intermediate: basic constraints critical"; else not_ok "intermediate: basic constraints critical"; fi
is_eq "intermediate: key usage" "$(cval "$T_TMP/int.pem" keyUsage | sorted)" "$(echo 'Digital Signature, Certificate Sign, CRL Sign' | sorted)"
is_eq "intermediate: no EKU" "$(cext "$T_TMP/int.pem" extendedKeyUsage)" ""
has "intermediate: P-256 key" "$(ctext "$T_TMP/int.pem")" 'prime256v1|P-256'
check "intermediate verifies against the root" openssl verify -CAfile "$ROOT" "$T_TMP/int.pem"
if openssl verify -CAfile "$T_TMP/int.pem" "$T_TMP/int.pem" >/dev/null 2>&1; then not_ok "intermediate is not self-signed"
else ok "intermediate is not self-signed"; fi

# ---------------------------------------------------------------- leaves under it
new_node "$B" "$K/b.key" localhost 127.0.0.1 node.example.com --lifetime=8760h
cert_count "node.crt: leaf + intermediate" "$B/node.crt" 2
nth_cert "$B/node.crt" 2 >"$T_TMP/node2.pem"
same "node.crt: second certificate is the intermediate" "$(fp256 "$T_TMP/node2.pem")" "$(fp256 "$T_TMP/int.pem")"
matches "node.key matches the first certificate" "$B/node.crt" "$B/node.key"
same "node: AKI is the intermediate's SKI" "$(caki "$B/node.crt")" "$(cski "$T_TMP/int.pem")"
is_eq "node: subject CN=node, O=pkictl" "$(csubject "$B/node.crt")" "CN=node,O=pkictl"
is_eq "node: SANs" "$(san_list "$B/node.crt" | sort | tr '\n' '|')" "DNS:localhost|DNS:node.example.com|IP Address:127.0.0.1|"
check "openssl verify -CAfile A/ca.crt -untrusted B/node.crt B/node.crt" \
    openssl verify -CAfile "$ROOT" -untrusted "$B/node.crt" "$B/node.crt"
check "node verifies for sslserver" openssl verify -purpose sslserver -CAfile "$ROOT" -untrusted "$B/node.crt" "$B/node.crt"
check "node verifies against B/ca.crt" openssl verify -CAfile "$B/ca.crt" "$B/node.crt"
if openssl verify -CAfile "$ROOT" "$B/node.crt" >/dev/null 2>&1; then not_ok "node alone does not verify against the root (needs the intermediate)"
else ok "node alone does not verify against the root (needs the intermediate)"; fi
new_client "$B" "$K/b.key" alice --lifetime=8760h
cert_count "client.alice.crt: leaf + intermediate" "$B/client.alice.crt" 2
check "client verifies with the chain it carries" openssl verify -purpose sslclient -CAfile "$ROOT" \
    -untrusted "$B/client.alice.crt" "$B/client.alice.crt"
matches "client key matches the first certificate" "$B/client.alice.crt" "$B/client.alice.key"

pk_ok "cert list in B" cert list --certs-dir="$B"
lst=$(cat "$T_TMP/.out")
has "list shows the CA with 2 certs" "$lst" 'num certs: 2'
has "list shows the node" "$lst" 'node\.crt'
pk_ok "cert list --format=json in B (exit 0: no errors)" cert list --certs-dir="$B" --format=json
cp "$T_TMP/.out" "$T_TMP/list.json"
is_eq "every row's error is empty" "$(jv "$T_TMP/list.json" "[c['error'] for c in d['certificates']]")" '["", "", ""]'
is_eq "rows: CA, node, client" "$(jv "$T_TMP/list.json" "[c['usage'] for c in d['certificates']]")" \
    '["Certificate Authority", "Node", "Client"]'
is_eq "CA row: num_certs 2" "$(jv "$T_TMP/list.json" "d['certificates'][0]['num_certs']")" 2

# an intermediate with an RSA key, and the default lifetime under a pinned parent
P="$T_TMP/p"; Q="$T_TMP/q"; mkdir -p "$Q"
PKICTL_NOW=$NOW0 new_ca "$P" "$K/p.key"
PKICTL_NOW=$NOW0 pk_ok "intermediate with the default lifetime, same clock as the parent" cert create-ca --certs-dir="$Q" \
    --ca-key="$K/q.key" --key-type=rsa --parent-ca-cert="$P/ca.crt" --parent-ca-key="$K/p.key"
nth_cert "$Q/ca.crt" 1 >"$T_TMP/q1.pem"
is_eq "default lifetime 87840h (ends with the parent)" "$(not_after "$T_TMP/q1.pem")" $((NOW0 + 87840 * 3600))
is_eq "notBefore is now-1h" "$(not_before "$T_TMP/q1.pem")" $((NOW0 - 3600))
has "RSA intermediate" "$(ctext "$T_TMP/q1.pem")" 'Public-Key: \(2048 bit\)'
is_eq "P-256 parent signs it with ecdsa-with-SHA256" "$(sigalg "$T_TMP/q1.pem")" "ecdsa-with-SHA256"
check "pinned intermediate verifies at that time" openssl verify -attime $NOW0 -CAfile "$P/ca.crt" "$T_TMP/q1.pem"

# a default lifetime under a 10-year root made 10 s earlier is shortened to end with the root
B0="$T_TMP/b0"; mkdir -p "$B0"
PKICTL_NOW=$(( $(not_before "$ROOT") + 3600 + 10 )) pk_ok "create-ca under a root made earlier, no --lifetime" cert create-ca \
    --certs-dir="$B0" --ca-key="$K/b0.key" --key-type=ecdsa --parent-ca-cert="$ROOT" --parent-ca-key="$K/a.key"
nth_cert "$B0/ca.crt" 1 >"$T_TMP/b01.pem"
same "default intermediate lifetime ends with the root" "$(not_after "$T_TMP/b01.pem")" "$(not_after "$ROOT")"
has "a note says it was shortened" "$(tail -n1 "$T_TMP/.out")" '^note: '

# ---------------------------------------------------------------- --overwrite keeps the old certificates after
cp "$T_TMP/int.pem" "$T_TMP/old-int.pem"
pk_ok "create-ca --overwrite under the parent (rotation)" cert create-ca --certs-dir="$B" --ca-key="$K/b2.key" --key-type=ecdsa \
    --parent-ca-cert="$ROOT" --parent-ca-key="$K/a.key" --lifetime=43920h --overwrite
nth_cert "$B/ca.crt" 1 >"$T_TMP/new-int.pem"; nth_cert "$B/ca.crt" 2 >"$T_TMP/new-second.pem"
matches "rotation: first certificate is the new key's" "$T_TMP/new-int.pem" "$K/b2.key"
same "rotation: then the root" "$(fp256 "$T_TMP/new-second.pem")" "$(fp256 "$ROOT")"
has "rotation: the old intermediate is still in ca.crt" "$(fps "$B/ca.crt")" "$(fp256 "$T_TMP/old-int.pem")"
check "rotation: old node.crt still verifies against B/ca.crt" openssl verify -CAfile "$B/ca.crt" "$B/node.crt"

# ---------------------------------------------------------------- refusals
E="$T_TMP/e"; EK="$T_TMP/ek"; mkdir -p "$E" "$EK"
# ri "what" CODE args...: create-ca into the empty E (key in EK) refused, nothing changed in E or EK
ri() { local w=$1 c=$2; shift 2
       refuses "create-ca under a parent: $w" "$c" "$E" "$EK" -- cert create-ca --certs-dir="$E" --ca-key="$EK/e.key" --key-type=ecdsa "$@"; }
ri "only --parent-ca-cert" any --parent-ca-cert="$ROOT" --lifetime=720h
ri "only --parent-ca-key" any --parent-ca-key="$K/a.key" --lifetime=720h
new_ca "$T_TMP/other" "$K/other.key"
new_node "$A" "$K/a.key" leaf.example.com
ri "parent key not matching the parent certificate" 1 --parent-ca-cert="$ROOT" --parent-ca-key="$K/other.key" --lifetime=720h
ri "parent is not a CA (a node certificate)" 1 --parent-ca-cert="$T_TMP/a/node.crt" --parent-ca-key="$T_TMP/a/node.key" --lifetime=720h
ri "parent is an intermediate with pathlen 0" 1 --parent-ca-cert="$B/ca.crt" --parent-ca-key="$K/b2.key" --lifetime=720h
ri "parent certificate missing" 1 --parent-ca-cert="$T_TMP/nope.crt" --parent-ca-key="$K/a.key" --lifetime=720h
ri "parent key missing" 1 --parent-ca-cert="$ROOT" --parent-ca-key="$K/nope.key" --lifetime=720h
head -c 800 /dev/urandom >"$T_TMP/garbage.crt"
ri "parent certificate garbage" 1 --parent-ca-cert="$T_TMP/garbage.crt" --parent-ca-key="$K/a.key" --lifetime=720h
chmod 644 "$K/a.key"
ri "parent key with mode 0644" 1 --parent-ca-cert="$ROOT" --parent-ca-key="$K/a.key" --lifetime=720h
chmod 600 "$K/a.key"
ri "explicit intermediate lifetime beyond the parent" 1 \
    --parent-ca-cert="$ROOT" --parent-ca-key="$K/a.key" --lifetime=87841h
err_has "message names the parent's expiry" "$(date -u -d @"$(not_after "$ROOT")" +%Y-%m-%d)"
S="$T_TMP/s"
PKICTL_NOW=$NOW0 new_ca "$S" "$K/s.key" --lifetime=720h     # expires 2023-12-14T22:13:20Z
PKICTL_NOW=$NOW0 ri "lifetime 1h beyond a pinned parent" 1 --parent-ca-cert="$S/ca.crt" --parent-ca-key="$K/s.key" --lifetime=721h
err_has "message names the parent's expiry (2023-12-14)" '2023-12-14|Dec 14 .*2023'
PKICTL_NOW=$NOW0 ri "explicit default-sized lifetime (87840h) beyond a pinned parent" 1 --parent-ca-cert="$S/ca.crt" \
    --parent-ca-key="$K/s.key" --lifetime=87840h
F="$T_TMP/f"; mkdir -p "$F"
PKICTL_NOW=$NOW0 pk_ok "without --lifetime, the default is shortened to end with the parent" cert create-ca --certs-dir="$F" \
    --ca-key="$K/f.key" --key-type=ecdsa --parent-ca-cert="$S/ca.crt" --parent-ca-key="$K/s.key"
nth_cert "$F/ca.crt" 1 >"$T_TMP/f1.pem"
same "shortened: notAfter equals the parent's" "$(not_after "$T_TMP/f1.pem")" "$(not_after "$S/ca.crt")"
has "shortened: the last stdout line is a note" "$(tail -n1 "$T_TMP/.out")" '^note: '
is_eq "shortened: two wrote lines, then the note" "$(cut -c1-6 "$T_TMP/.out" | tr '\n' '|')" "wrote |wrote |note: |"
PKICTL_NOW=$((NOW0 + 721 * 3600)) ri "expired parent" 1 --parent-ca-cert="$S/ca.crt" --parent-ca-key="$K/s.key" --lifetime=1h
ri "parent flags with an invalid lifetime" 1 --parent-ca-cert="$ROOT" --parent-ca-key="$K/a.key" --lifetime=10y
PKICTL_NOW=$NOW0 pk_ok "lifetime ending with a pinned parent is accepted" cert create-ca --certs-dir="$E" --ca-key="$EK/e.key" \
    --key-type=ecdsa --parent-ca-cert="$S/ca.crt" --parent-ca-key="$K/s.key" --lifetime=720h
nth_cert "$E/ca.crt" 1 >"$T_TMP/e1.pem"
same "notAfter equals the parent's" "$(not_after "$T_TMP/e1.pem")" "$(not_after "$S/ca.crt")"
refuses "create-ca under a parent: existing ca.crt without --overwrite" 1 "$E" "$EK" -- cert create-ca --certs-dir="$E" \
    --ca-key="$EK/e2.key" --key-type=ecdsa --parent-ca-cert="$ROOT" --parent-ca-key="$K/a.key" --lifetime=720h

# a leaf under the intermediate may not outlive it (explicit --lifetime); a default one is shortened
X="$T_TMP/x"; mkdir -p "$X"
PKICTL_NOW=$NOW0 pk_ok "short intermediate (720h) under the pinned root" cert create-ca --certs-dir="$X" --ca-key="$K/x.key" \
    --key-type=ecdsa --parent-ca-cert="$P/ca.crt" --parent-ca-key="$K/p.key" --lifetime=720h
PKICTL_NOW=$NOW0 refuses "create-node with an explicit lifetime outliving the intermediate" 1 "$X" "$K" -- cert create-node localhost \
    --certs-dir="$X" --ca-key="$K/x.key" --key-type=ecdsa --lifetime=721h
err_has "message names the intermediate's expiry" '2023-12-14|Dec 14 .*2023'
PKICTL_NOW=$NOW0 pk_ok "create-node without --lifetime under a short intermediate: shortened" cert create-node localhost \
    --certs-dir="$X" --ca-key="$K/x.key" --key-type=ecdsa
nth_cert "$X/ca.crt" 1 >"$T_TMP/x1.pem"
same "shortened node: notAfter equals the intermediate's" "$(not_after "$X/node.crt")" "$(not_after "$T_TMP/x1.pem")"
has "shortened node: the last stdout line is a note" "$(tail -n1 "$T_TMP/.out")" '^note: '
cert_count "shortened node.crt: leaf + intermediate" "$X/node.crt" 2
PKICTL_NOW=$NOW0 pk_ok "create-node inside the intermediate's life" cert create-node localhost --certs-dir="$X" \
    --ca-key="$K/x.key" --key-type=ecdsa --lifetime=700h --overwrite
lacks "inside: no note" "$(cat "$T_TMP/.out")" '^note:'

cert_count "node.crt under the pinned intermediate: leaf + intermediate" "$X/node.crt" 2
check "it verifies at that time" openssl verify -attime $NOW0 -CAfile "$P/ca.crt" -untrusted "$X/node.crt" "$X/node.crt"

finish
