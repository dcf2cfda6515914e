#!/usr/bin/env bash
# cert create-client: file names, CN, EKU, chain, user name forms, PKCS#8 copy, --overwrite, lifetime.
. "$(dirname "$0")/common.sh"

D="$T_TMP/certs"; KD="$T_TMP/keys"
new_ca "$D" "$KD/ca.key"

pk_ok "create-client alice" cert create-client alice --certs-dir="$D" --ca-key="$KD/ca.key" --key-type=ecdsa
out_has "prints wrote client.alice.crt" '^wrote .*/client\.alice\.crt$'
out_has "prints wrote client.alice.key" '^wrote .*/client\.alice\.key$'
wrote_exist "every wrote PATH exists"
is_eq "stdout is exactly two wrote lines" "$(grep -c '^wrote ' "$T_TMP/.out")/$(wc -l <"$T_TMP/.out")" "2/2"
is_eq "certs dir: ca.crt client.alice.crt client.alice.key" "$(ls -A "$D" | tr '\n' ' ')" "ca.crt client.alice.crt client.alice.key "
C="$D/client.alice.crt"
mode_is "client.alice.crt mode 0644" "$C" 644
mode_is "client.alice.key mode 0600" "$D/client.alice.key" 600
is_eq "client key is PKCS#8 PEM" "$(head -n1 "$D/client.alice.key")" "-----BEGIN PRIVATE KEY-----"
matches "client key matches its certificate" "$C" "$D/client.alice.key"
is_eq "subject is O=pkictl, CN=alice" "$(csubject "$C")" "CN=alice,O=pkictl"
is_eq "issuer is the CA" "$(cissuer "$C")" "CN=pkictl CA,O=pkictl"
has "X.509 v3" "$(ctext "$C")" 'Version: 3 \(0x2\)'
EKU=$(cext "$C" extendedKeyUsage)
has "EKU clientAuth" "$EKU" 'TLS Web Client Authentication'
lacks "EKU has no serverAuth" "$EKU" 'Server Authentication'
has "basic constraints critical" "$(cext "$C" basicConstraints)" 'Basic Constraints: critical'
has "CA:FALSE" "$(cext "$C" basicConstraints)" 'CA:FALSE'
KU=$(cext "$C" keyUsage)
has "key usage critical" "$KU" 'Key Usage: critical'
has "EC client: digitalSignature" "$KU" 'Digital Signature'
lacks "EC client: no keyEncipherment/certSign" "$KU" 'Key Encipherment|Certificate Sign'
same "AKI is the CA's SKI" "$(caki "$C")" "$(cski "$D/ca.crt")"
has "SKI present" "$(cski "$C")" '^([0-9A-F]{2}:)+[0-9A-F]{2}$'
has "serial positive hex, >= 64 bits" "$(cserial "$C")" '^[0-9A-F]{16,40}$'
is_eq "signature ecdsa-with-SHA256" "$(sigalg "$C")" "ecdsa-with-SHA256"
check "chain verifies" openssl verify -CAfile "$D/ca.crt" "$C"
check "chain verifies for purpose sslclient" openssl verify -purpose sslclient -CAfile "$D/ca.crt" "$C"
if openssl verify -purpose sslserver -CAfile "$D/ca.crt" "$C" >/dev/null 2>&1; then not_ok "client cert is not a server cert"
else ok "client cert is not a server cert"; fi

# user name forms
U63=$(printf 'u%.0s' {1..63})
for u in bob root _svc _ a Z 9lives "first.last@example.com" "A-b_c.d@e" "a." "$U63"; do
    pk_ok "user name '$u' accepted" cert create-client "$u" --certs-dir="$D" --ca-key="$KD/ca.key" --key-type=ecdsa
    exists "client.$u.crt written" "$D/client.$u.crt"
    exists "client.$u.key written" "$D/client.$u.key"
    is_eq "CN is '$u'" "$(openssl x509 -in "$D/client.$u.crt" -noout -subject -nameopt RFC2253,-esc_msb | sed 's/^subject=//')" "CN=$u,O=pkictl"
done
matches "client.alice.key untouched by other users" "$C" "$D/client.alice.key"

# PKCS#8, --overwrite, key types
oldkey=$(cat "$D/client.alice.key")
pk_ok "--overwrite --also-generate-pkcs8-key" cert create-client alice --overwrite --also-generate-pkcs8-key \
    --certs-dir="$D" --ca-key="$KD/ca.key" --key-type=ecdsa
out_has "prints wrote client.alice.key.pk8" '^wrote .*/client\.alice\.key\.pk8$'
is_eq "stdout is exactly three wrote lines" "$(grep -c '^wrote ' "$T_TMP/.out")/$(wc -l <"$T_TMP/.out")" "3/3"
mode_is "client.alice.key.pk8 mode 0600" "$D/client.alice.key.pk8" 600
check "client.alice.key.pk8 is PKCS#8 DER" openssl pkcs8 -inform DER -nocrypt -in "$D/client.alice.key.pk8"
same "client.alice.key.pk8 is the client key" "$(kpub_der "$D/client.alice.key.pk8")" "$(cpub "$C")"
is_ne "--overwrite replaced the key" "$(cat "$D/client.alice.key")" "$oldkey"
matches "new key matches new certificate" "$C" "$D/client.alice.key"

pk_ok "client with default key type (RSA)" cert create-client carol --certs-dir="$D" --ca-key="$KD/ca.key"
has "default client key is RSA 2048" "$(ctext "$D/client.carol.crt")" 'Public-Key: \(2048 bit\)'
has "RSA client: keyEncipherment" "$(cext "$D/client.carol.crt" keyUsage)" 'Digital Signature, Key Encipherment'
check "RSA client chain verifies" openssl verify -CAfile "$D/ca.crt" "$D/client.carol.crt"
pk_ok "client with ed25519" cert create-client dave --certs-dir="$D" --ca-key="$KD/ca.key" --key-type=ed25519
has "ed25519 client key" "$(ctext "$D/client.dave.crt")" 'ED25519'
check "ed25519 client chain verifies" openssl verify -CAfile "$D/ca.crt" "$D/client.dave.crt"

# flags in any order, env defaults
PKICTL_CA_KEY="$KD/ca.key" PKICTL_CERTS_DIR="$D" pk_ok "env defaults, --flag VALUE, flag before USER" \
    cert create-client --key-type ecdsa erin
exists "env defaults: client.erin.crt in PKICTL_CERTS_DIR" "$D/client.erin.crt"

# lifetime (pinned clock)
P="$T_TMP/pinned"
PKICTL_NOW=$NOW0 new_ca "$P" "$T_TMP/pk/ca.key"
PKICTL_NOW=$NOW0 pk_ok "pinned client, default lifetime" cert create-client alice --certs-dir="$P" --ca-key="$T_TMP/pk/ca.key" --key-type=ecdsa
is_eq "default client lifetime is 43920h" "$(not_after "$P/client.alice.crt")" $((NOW0 + 43920*3600))
is_eq "client notBefore is now-1h" "$(not_before "$P/client.alice.crt")" $((NOW0 - 3600))
PKICTL_NOW=$NOW0 pk_ok "pinned client, --lifetime=48h" cert create-client bob --certs-dir="$P" --ca-key="$T_TMP/pk/ca.key" --key-type=ecdsa --lifetime=48h
is_eq "--lifetime=48h" "$(not_after "$P/client.bob.crt")" $((NOW0 + 48*3600))
PKICTL_NOW=$NOW0 refuses "client outliving the CA is refused" 1 "$P" "$T_TMP/pk" -- \
    cert create-client carol --certs-dir="$P" --ca-key="$T_TMP/pk/ca.key" --key-type=ecdsa --lifetime=87841h
err_has "message names the CA's expiry date" '2033'

finish
