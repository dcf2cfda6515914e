#!/usr/bin/env bash
# cert create-node: SANs, extensions, chain, PKCS#8 copy, --overwrite, key types, lifetimes,
# CA expiry, multi-CA ca.crt.
. "$(dirname "$0")/common.sh"

D="$T_TMP/certs"; KD="$T_TMP/keys"
new_ca "$D" "$KD/ca.key"
CASKI=$(cski "$D/ca.crt")

# ---------------------------------------------------------------- basic node
pk_ok "create-node localhost node1.example.com 127.0.0.1 ::1" cert create-node localhost node1.example.com 127.0.0.1 ::1 \
    --certs-dir="$D" --ca-key="$KD/ca.key" --key-type=ecdsa
out_has "prints wrote node.crt" '^wrote .*/node\.crt$'
out_has "prints wrote node.key" '^wrote .*/node\.key$'
wrote_exist "every wrote PATH exists"
is_eq "stdout is exactly two wrote lines" "$(grep -c '^wrote ' "$T_TMP/.out")/$(wc -l <"$T_TMP/.out")" "2/2"
is_eq "certs dir holds ca.crt node.crt node.key only" "$(ls -A "$D" | tr '\n' ' ')" "ca.crt node.crt node.key "
mode_is "node.crt mode 0644" "$D/node.crt" 644
mode_is "node.key mode 0600" "$D/node.key" 600
is_eq "node.key is PKCS#8 PEM" "$(head -n1 "$D/node.key")" "-----BEGIN PRIVATE KEY-----"
matches "node.key matches node.crt" "$D/node.crt" "$D/node.key"
T=$(ctext "$D/node.crt")
has "X.509 v3" "$T" 'Version: 3 \(0x2\)'
has "leaf key is P-256" "$T" 'prime256v1|P-256'
is_eq "subject is O=pkictl, CN=node" "$(csubject "$D/node.crt")" "CN=node,O=pkictl"
is_eq "issuer is the CA" "$(cissuer "$D/node.crt")" "CN=pkictl CA,O=pkictl"
is_eq "SANs are the hosts" "$(san_list "$D/node.crt" | sort | tr '\n' '|')" \
    "DNS:localhost|DNS:node1.example.com|IP Address:0:0:0:0:0:0:0:1|IP Address:127.0.0.1|"
EKU=$(cext "$D/node.crt" extendedKeyUsage)
has "EKU serverAuth" "$EKU" 'TLS Web Server Authentication'
has "EKU clientAuth" "$EKU" 'TLS Web Client Authentication'
has "basic constraints critical" "$(cext "$D/node.crt" basicConstraints)" 'Basic Constraints: critical'
has "CA:FALSE" "$(cext "$D/node.crt" basicConstraints)" 'CA:FALSE'
KU=$(cext "$D/node.crt" keyUsage)
has "key usage critical" "$KU" 'Key Usage: critical'
has "EC leaf: digitalSignature" "$KU" 'Digital Signature'
lacks "EC leaf: no keyEncipherment, no certSign" "$KU" 'Key Encipherment|Certificate Sign|CRL Sign'
NSKI=$(cski "$D/node.crt")
has "leaf SKI present" "$NSKI" '^([0-9A-F]{2}:)+[0-9A-F]{2}$'
is_ne "leaf SKI differs from the CA's" "$NSKI" "$CASKI"
same "leaf AKI is the CA's SKI" "$(caki "$D/node.crt")" "$CASKI"
has "leaf serial is positive hex" "$(cserial "$D/node.crt")" '^[0-9A-F]{16,40}$'
is_ne "leaf serial differs from the CA's" "$(cserial "$D/node.crt")" "$(cserial "$D/ca.crt")"
is_eq "P-256 CA signs the leaf with ecdsa-with-SHA256" "$(sigalg "$D/node.crt")" "ecdsa-with-SHA256"
check "chain verifies" openssl verify -CAfile "$D/ca.crt" "$D/node.crt"
check "chain verifies for purpose sslserver" openssl verify -purpose sslserver -CAfile "$D/ca.crt" "$D/node.crt"
check "chain verifies for purpose sslclient" openssl verify -purpose sslclient -CAfile "$D/ca.crt" "$D/node.crt"

# ---------------------------------------------------------------- host forms
L63=$(printf 'a%.0s' {1..63})
N253="$L63.$L63.$L63.$(printf 'b%.0s' {1..61})"
pk_ok "create-node with IPv6, [::1], wildcard, long names" cert create-node --overwrite '[::1]' 2001:db8::1 '*.dev.example.com' '*.example.com' \
    x-y.example.com 123.example.com 1a.b2 "$L63.example.com" "$N253" 10.0.0.1 --certs-dir="$D" --ca-key="$KD/ca.key" --key-type=ecdsa
S=$(san_list "$D/node.crt")
has "[::1] is an IP SAN" "$S" '^IP Address:0:0:0:0:0:0:0:1$'
has "2001:db8::1 is an IP SAN" "$S" '^IP Address:2001:DB8:0:0:0:0:0:1$'
has "10.0.0.1 is an IP SAN" "$S" '^IP Address:10\.0\.0\.1$'
has "wildcard leftmost label is a DNS SAN" "$S" '^DNS:\*\.dev\.example\.com$'
has "wildcard with two labels after it" "$S" '^DNS:\*\.example\.com$'
has "hyphenated name" "$S" '^DNS:x-y\.example\.com$'
has "all-digit non-last label" "$S" '^DNS:123\.example\.com$'
has "digit-leading labels" "$S" '^DNS:1a\.b2$'
has "63-character label" "$S" "^DNS:$L63\\.example\\.com$"
has "253-character name" "$S" "^DNS:$N253$"
is_eq "10 SANs" "$(printf '%s\n' "$S" | wc -l)" 10
lacks "no IP given as DNS" "$S" '^DNS:[0-9.:\[]+$'
check "chain verifies (host forms)" openssl verify -CAfile "$D/ca.crt" "$D/node.crt"

pk_ok "duplicate hosts" cert create-node --overwrite localhost localhost 127.0.0.1 127.0.0.1 ::1 '[::1]' \
    --certs-dir="$D" --ca-key="$KD/ca.key" --key-type=ecdsa
is_eq "duplicates are kept once" "$(san_list "$D/node.crt" | sort | tr '\n' '|')" \
    "DNS:localhost|IP Address:0:0:0:0:0:0:0:1|IP Address:127.0.0.1|"

HOSTS=(); for i in $(seq 1 256); do HOSTS+=("h$i.example.com"); done
pk_ok "256 hosts are accepted" cert create-node --overwrite "${HOSTS[@]}" --certs-dir="$D" --ca-key="$KD/ca.key" --key-type=ecdsa
is_eq "256 SANs" "$(san_list "$D/node.crt" | wc -l)" 256

# ---------------------------------------------------------------- --also-generate-pkcs8-key, --overwrite
oldkey=$(cat "$D/node.key")
pk_ok "--overwrite --also-generate-pkcs8-key" cert create-node db.example.com --certs-dir="$D" --ca-key="$KD/ca.key" \
    --key-type=ecdsa --overwrite --also-generate-pkcs8-key
out_has "prints wrote node.key.pk8" '^wrote .*/node\.key\.pk8$'
is_eq "stdout is exactly three wrote lines" "$(grep -c '^wrote ' "$T_TMP/.out")/$(wc -l <"$T_TMP/.out")" "3/3"
mode_is "node.key.pk8 mode 0600" "$D/node.key.pk8" 600
is_eq "node.key.pk8 is DER (starts with a SEQUENCE)" "$(head -c1 "$D/node.key.pk8" | od -An -tx1 | tr -d ' ')" "30"
check "node.key.pk8 is PKCS#8 DER (openssl pkcs8 -inform DER reads it)" openssl pkcs8 -inform DER -nocrypt -in "$D/node.key.pk8"
check "openssl pkey -inform DER reads node.key.pk8" openssl pkey -inform DER -in "$D/node.key.pk8" -noout
same "node.key.pk8 is the node key" "$(kpub_der "$D/node.key.pk8")" "$(cpub "$D/node.crt")"
matches "--overwrite: new node.key matches new node.crt" "$D/node.crt" "$D/node.key"
is_ne "--overwrite: node.key replaced" "$(cat "$D/node.key")" "$oldkey"
is_eq "--overwrite: SANs replaced" "$(san_list "$D/node.crt" | tr '\n' '|')" "DNS:db.example.com|"
is_eq "certs dir holds no temp files" "$(ls -A "$D" | tr '\n' ' ')" "ca.crt node.crt node.key node.key.pk8 "

# ---------------------------------------------------------------- flag forms and env defaults
pk_ok "--flag VALUE, flags between hosts" cert create-node --certs-dir "$D" a.example.com --ca-key "$KD/ca.key" \
    --overwrite 127.0.0.2 --key-type ecdsa --lifetime 720h b.example.com
is_eq "all hosts taken" "$(san_list "$D/node.crt" | sort | tr '\n' '|')" "DNS:a.example.com|DNS:b.example.com|IP Address:127.0.0.2|"
PKICTL_CA_KEY="$KD/ca.key" PKICTL_CERTS_DIR="$D" pk_ok "PKICTL_CA_KEY and PKICTL_CERTS_DIR defaults" \
    cert create-node env.example.com --overwrite --key-type=ecdsa
is_eq "env defaults: node.crt written in PKICTL_CERTS_DIR" "$(san_list "$D/node.crt")" "DNS:env.example.com"
check "env defaults: chain verifies" openssl verify -CAfile "$D/ca.crt" "$D/node.crt"

chmod 400 "$KD/ca.key"
pk_ok "CA key with mode 0400 is accepted" cert create-node m.example.com --overwrite --certs-dir="$D" --ca-key="$KD/ca.key" --key-type=ecdsa
chmod 600 "$KD/ca.key"

# ---------------------------------------------------------------- key types
pk_ok "node with default key type (RSA)" cert create-node r.example.com --overwrite --certs-dir="$D" --ca-key="$KD/ca.key"
T=$(ctext "$D/node.crt")
has "default node key is RSA 2048" "$T" 'Public-Key: \(2048 bit\)'
KU=$(cext "$D/node.crt" keyUsage)
has "RSA leaf: digitalSignature" "$KU" 'Digital Signature'
has "RSA leaf: keyEncipherment" "$KU" 'Key Encipherment'
matches "RSA node key matches" "$D/node.crt" "$D/node.key"
check "RSA leaf chain verifies" openssl verify -CAfile "$D/ca.crt" "$D/node.crt"
pk_ok "node with ecdsa 384" cert create-node e.example.com --overwrite --certs-dir="$D" --ca-key="$KD/ca.key" --key-type=ecdsa --key-size=384
has "ecdsa 384 leaf key is P-384" "$(ctext "$D/node.crt")" 'secp384r1|P-384'
is_eq "P-256 CA still signs with SHA-256" "$(sigalg "$D/node.crt")" "ecdsa-with-SHA256"
check "P-384 leaf chain verifies" openssl verify -CAfile "$D/ca.crt" "$D/node.crt"
pk_ok "node with ecdsa 521" cert create-node e.example.com --overwrite --certs-dir="$D" --ca-key="$KD/ca.key" --key-type=ecdsa --key-size=521
has "ecdsa 521 leaf key is P-521" "$(ctext "$D/node.crt")" 'secp521r1|P-521'
pk_ok "node with ed25519" cert create-node ed.example.com --overwrite --certs-dir="$D" --ca-key="$KD/ca.key" --key-type=ed25519 \
    --also-generate-pkcs8-key
has "ed25519 leaf key" "$(ctext "$D/node.crt")" 'Public Key Algorithm: ED25519'
KU=$(cext "$D/node.crt" keyUsage)
has "ed25519 leaf: digitalSignature" "$KU" 'Digital Signature'
lacks "ed25519 leaf: no keyEncipherment" "$KU" 'Key Encipherment'
matches "ed25519 node key matches" "$D/node.crt" "$D/node.key"
same "ed25519 node.key.pk8 is the node key" "$(kpub_der "$D/node.key.pk8")" "$(cpub "$D/node.crt")"
check "ed25519 leaf chain verifies" openssl verify -CAfile "$D/ca.crt" "$D/node.crt"

for ca in "rsa:--key-type=rsa:sha256WithRSAEncryption" "ed:--key-type=ed25519:ED25519" \
          "p384:--key-type=ecdsa --key-size=384:ecdsa-with-SHA384" "p521:--key-type=ecdsa --key-size=521:ecdsa-with-SHA512"; do
    n=${ca%%:*}; rest=${ca#*:}; args=${rest%%:*}; alg=${rest#*:}
    d="$T_TMP/ca-$n"; mkdir -p "$d"
    # shellcheck disable=SC2086
    pk_ok "$n CA" cert create-ca --certs-dir="$d" --ca-key="$d.key" $args
    pk_ok "node under $n CA" cert create-node localhost --certs-dir="$d" --ca-key="$d.key" --key-type=ecdsa
    is_eq "$n CA signs the leaf with $alg" "$(sigalg "$d/node.crt")" "$alg"
    same "$n CA: leaf AKI is its SKI" "$(caki "$d/node.crt")" "$(cski "$d/ca.crt")"
    check "$n CA: chain verifies" openssl verify -CAfile "$d/ca.crt" "$d/node.crt"
done

# ---------------------------------------------------------------- lifetimes (pinned clock)
P="$T_TMP/pinned"
PKICTL_NOW=$NOW0 new_ca "$P" "$T_TMP/pinned.key"
nl() { # what lifetime-args... expected-seconds
    local what=$1 want=$(( ${!#} )); set -- "${@:2:$#-2}"
    PKICTL_NOW=$NOW0 pk_ok "$what" cert create-node localhost --overwrite --certs-dir="$P" --ca-key="$T_TMP/pinned.key" --key-type=ecdsa "$@"
    is_eq "$what: notAfter" "$(not_after "$P/node.crt" 2>/dev/null)" $((NOW0 + want))
}
nl "default node lifetime is 43920h" 43920*3600
is_eq "node notBefore is now-1h" "$(not_before "$P/node.crt")" $((NOW0 - 3600))
check "pinned node verifies at that time" openssl verify -attime $NOW0 -CAfile "$P/ca.crt" "$P/node.crt"
nl "--lifetime=720h" --lifetime=720h 720*3600
nl "--lifetime 30d" --lifetime 30d 720*3600
nl "--lifetime=1h30m" --lifetime=1h30m 5400
nl "--lifetime=2.5h" --lifetime=2.5h 9000
nl "--lifetime=3600s" --lifetime=3600s 3600
nl "--lifetime=1s" --lifetime=1s 1
nl "--lifetime=61m" --lifetime=61m 3660
nl "--lifetime=1d12h" --lifetime=1d12h 129600
for f in 1h1ns 1h1us 1h1µs 1h999ms; do
    PKICTL_NOW=$NOW0 pk_ok "--lifetime=$f" cert create-node localhost --overwrite --certs-dir="$P" --ca-key="$T_TMP/pinned.key" --key-type=ecdsa --lifetime=$f
    d=$(( $(not_after "$P/node.crt" 2>/dev/null || echo 0) - NOW0 - 3600 ))
    if [ "$d" -ge 0 ] && [ "$d" -le 1 ]; then ok "--lifetime=$f: notAfter about 1h on"; else not_ok "--lifetime=$f: notAfter about 1h on" "off by $d"; fi
done

# ---------------------------------------------------------------- leaf beyond CA expiry / CA not valid now
S="$T_TMP/short"; SK="$T_TMP/shortkey"
PKICTL_NOW=$NOW0 new_ca "$S" "$SK/ca.key" --lifetime=720h      # CA expires 2023-12-14T22:13:20Z
# Without --lifetime the default (43920h) is shortened to end with the CA, and a note says so.
PKICTL_NOW=$NOW0 pk_ok "default lifetime past the CA is shortened" cert create-node localhost \
    --certs-dir="$S" --ca-key="$SK/ca.key" --key-type=ecdsa
out_has "a note names the CA's expiry date" '^note: .*shortened.*2023-12-14'
same "shortened leaf ends with the CA" "$(not_after "$S/node.crt")" "$(not_after "$S/ca.crt")"
rm -f "$S/node.crt" "$S/node.key"
PKICTL_NOW=$NOW0 refuses "leaf 1h longer than the CA is refused" 1 "$S" "$SK" -- \
    cert create-node localhost --certs-dir="$S" --ca-key="$SK/ca.key" --key-type=ecdsa --lifetime=721h
err_has "message names the CA's expiry date (721h)" '2023'
PKICTL_NOW=$NOW0 pk_ok "leaf ending exactly with the CA is accepted" cert create-node localhost --certs-dir="$S" \
    --ca-key="$SK/ca.key" --key-type=ecdsa --lifetime=720h
same "leaf notAfter equals the CA's" "$(not_after "$S/node.crt")" "$(not_after "$S/ca.crt")"
PKICTL_NOW=$((NOW0 + 100*3600)) pk_ok "leaf inside the CA's remaining life is accepted" cert create-node localhost --overwrite \
    --certs-dir="$S" --ca-key="$SK/ca.key" --key-type=ecdsa --lifetime=600h
PKICTL_NOW=$((NOW0 + 721*3600)) refuses "expired CA cannot sign" 1 "$S" "$SK" -- \
    cert create-node localhost --overwrite --certs-dir="$S" --ca-key="$SK/ca.key" --key-type=ecdsa --lifetime=1h
PKICTL_NOW=$((NOW0 - 7200)) refuses "not-yet-valid CA cannot sign" 1 "$S" "$SK" -- \
    cert create-node localhost --overwrite --certs-dir="$S" --ca-key="$SK/ca.key" --key-type=ecdsa --lifetime=1h

# ---------------------------------------------------------------- ca.crt with several CAs
R="$T_TMP/rot"; RK="$T_TMP/rotkeys"
new_ca "$R" "$RK/old.key"
pk_ok "rotate the CA" cert create-ca --certs-dir="$R" --ca-key="$RK/new.key" --key-type=ecdsa --overwrite
nth_cert "$R/ca.crt" 1 >"$T_TMP/new.pem"; nth_cert "$R/ca.crt" 2 >"$T_TMP/old.pem"
pk_ok "node signed by the new CA key" cert create-node localhost --certs-dir="$R" --ca-key="$RK/new.key" --key-type=ecdsa
same "new key: AKI is the first certificate's SKI" "$(caki "$R/node.crt")" "$(cski "$T_TMP/new.pem")"
check "new key: chain verifies against ca.crt" openssl verify -CAfile "$R/ca.crt" "$R/node.crt"
check "new key: chain verifies against the new CA alone" openssl verify -CAfile "$T_TMP/new.pem" "$R/node.crt"
pk_ok "node signed by the old CA key" cert create-node localhost --overwrite --certs-dir="$R" --ca-key="$RK/old.key" --key-type=ecdsa
same "old key: AKI is the second certificate's SKI" "$(caki "$R/node.crt")" "$(cski "$T_TMP/old.pem")"
check "old key: chain verifies against the old CA alone" openssl verify -CAfile "$T_TMP/old.pem" "$R/node.crt"

finish
