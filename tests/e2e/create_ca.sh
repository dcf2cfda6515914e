#!/usr/bin/env bash
# cert create-ca: defaults, key types, extensions, lifetime, refusals, reuse, rotation, env defaults.
. "$(dirname "$0")/common.sh"

KD="$T_TMP/keys"; mkdir -p "$KD"

# ---------------------------------------------------------------- defaults (RSA 2048)
D1="$T_TMP/d1"; mkdir -p "$D1"
pk_ok "create-ca with defaults" cert create-ca --certs-dir="$D1" --ca-key="$KD/ca1.key"
t_done=$(date +%s)
out_has "prints wrote for ca.crt" '^wrote .*/ca\.crt$'
out_has "prints wrote for the key" '^wrote .*/ca1\.key$'
wrote_exist "every wrote PATH exists"
is_eq "stdout is exactly two wrote lines" "$(grep -c '^wrote ' "$T_TMP/.out")/$(wc -l <"$T_TMP/.out")" "2/2"
is_eq "certs dir holds only ca.crt (no temp files left)" "$(ls -A "$D1")" "ca.crt"
is_eq "key dir holds only the key" "$(ls -A "$KD")" "ca1.key"
mode_is "ca.crt mode 0644" "$D1/ca.crt" 644
mode_is "CA key mode 0600" "$KD/ca1.key" 600
is_eq "CA key is PKCS#8 PEM" "$(head -n1 "$KD/ca1.key")" "-----BEGIN PRIVATE KEY-----"
is_eq "ca.crt holds one certificate" "$(ncerts "$D1/ca.crt")" 1
T=$(ctext "$D1/ca.crt")
has "default key type is RSA" "$T" 'Public Key Algorithm: rsaEncryption'
has "default RSA size is 2048" "$T" 'Public-Key: \(2048 bit\)'
has "X.509 v3" "$T" 'Version: 3 \(0x2\)'
is_eq "signature is sha256WithRSAEncryption" "$(sigalg "$D1/ca.crt")" "sha256WithRSAEncryption"
is_eq "subject is O=pkictl, CN=pkictl CA" "$(csubject "$D1/ca.crt")" "CN=pkictl CA,O=pkictl"
is_eq "issuer is the subject (self-signed)" "$(cissuer "$D1/ca.crt")" "CN=pkictl CA,O=pkictl"
has "basic constraints critical" "$(cext "$D1/ca.crt" basicConstraints)" 'Basic Constraints: critical'
has "CA:TRUE" "$(cext "$D1/ca.crt" basicConstraints)" 'CA:TRUE'
KU=$(cext "$D1/ca.crt" keyUsage)
has "key usage critical" "$KU" 'Key Usage: critical'
has "key usage keyCertSign" "$KU" 'Certificate Sign'
has "key usage cRLSign" "$KU" 'CRL Sign'
has "key usage digitalSignature" "$KU" 'Digital Signature'
lacks "key usage has no keyEncipherment" "$KU" 'Key Encipherment'
SKI1=$(cski "$D1/ca.crt"); AKI1=$(caki "$D1/ca.crt")
has "subject key identifier present" "$SKI1" '^([0-9A-F]{2}:)+[0-9A-F]{2}$'
same "authority key identifier present and equals SKI" "$AKI1" "$SKI1"
S1=$(cserial "$D1/ca.crt")
has "serial is hex, positive (no sign)" "$S1" '^[0-9A-F]+$'
S1N=$(printf '%s' "$S1" | sed 's/^0*//')
if [ ${#S1N} -ge 16 ] && [ ${#S1N} -le 40 ]; then ok "serial has >= 64 bits (and <= 20 octets)"; else not_ok "serial has >= 64 bits" "serial $S1"; fi
matches "ca.crt holds the key's public key" "$D1/ca.crt" "$KD/ca1.key"
check "ca.crt verifies against itself" openssl verify -CAfile "$D1/ca.crt" "$D1/ca.crt"
NA=$(not_after "$D1/ca.crt"); NB=$(not_before "$D1/ca.crt")
d=$(( NA - t_done - 87840*3600 ))
if [ "$d" -ge -120 ] && [ "$d" -le 5 ]; then ok "default lifetime is 87840h from the real clock"; else not_ok "default lifetime is 87840h" "off by ${d}s"; fi
d=$(( NB - t_done + 3600 ))
if [ "$d" -ge -120 ] && [ "$d" -le 5 ]; then ok "notBefore is one hour before now"; else not_ok "notBefore is one hour before now" "off by ${d}s"; fi

# a second CA: different serial, different key
D2="$T_TMP/d2"; mkdir -p "$D2"
pk_ok "second default CA" cert create-ca --certs-dir="$D2" --ca-key="$KD/ca2.key"
is_ne "two CAs have different serials" "$(cserial "$D2/ca.crt")" "$S1"
is_ne "two CAs have different keys" "$(cpub "$D2/ca.crt")" "$(cpub "$D1/ca.crt")"

# ---------------------------------------------------------------- key types
kt() { # NAME args...: a CA in $T_TMP/kt-NAME, key $T_TMP/kt-NAME.key; sets d
    d="$T_TMP/kt-$1"; shift; mkdir -p "$d"
    pk_ok "create-ca $*" cert create-ca --certs-dir="$d" --ca-key="$d.key" "$@"
}
kt ec256 --key-type=ecdsa
T=$(ctext "$d/ca.crt")
has "ecdsa default is P-256" "$T" 'prime256v1|P-256'
is_eq "P-256 CA signs with ecdsa-with-SHA256" "$(sigalg "$d/ca.crt")" "ecdsa-with-SHA256"
matches "P-256 key matches" "$d/ca.crt" "$d.key"
mode_is "P-256 key mode 0600" "$d.key" 600
is_eq "P-256 key is PKCS#8 PEM" "$(head -n1 "$d.key")" "-----BEGIN PRIVATE KEY-----"
kt ec256b --key-type=ecdsa --key-size=256
has "ecdsa 256 is P-256" "$(ctext "$d/ca.crt")" 'prime256v1|P-256'
kt ec384 --key-type=ecdsa --key-size=384
has "ecdsa 384 is P-384" "$(ctext "$d/ca.crt")" 'secp384r1|P-384'
is_eq "P-384 CA signs with ecdsa-with-SHA384" "$(sigalg "$d/ca.crt")" "ecdsa-with-SHA384"
check "P-384 CA verifies" openssl verify -CAfile "$d/ca.crt" "$d/ca.crt"
kt ec521 --key-type=ecdsa --key-size=521
has "ecdsa 521 is P-521" "$(ctext "$d/ca.crt")" 'secp521r1|P-521'
is_eq "P-521 CA signs with ecdsa-with-SHA512" "$(sigalg "$d/ca.crt")" "ecdsa-with-SHA512"
kt ed --key-type=ed25519
has "ed25519 key" "$(ctext "$d/ca.crt")" 'Public Key Algorithm: ED25519'
is_eq "ed25519 CA signs with ED25519" "$(sigalg "$d/ca.crt")" "ED25519"
matches "ed25519 key matches" "$d/ca.crt" "$d.key"
is_eq "ed25519 key is PKCS#8 PEM" "$(head -n1 "$d.key")" "-----BEGIN PRIVATE KEY-----"
has "ed25519 CA has CA:TRUE" "$(cext "$d/ca.crt" basicConstraints)" 'CA:TRUE'
check "ed25519 CA verifies" openssl verify -CAfile "$d/ca.crt" "$d/ca.crt"
kt rsa4096 --key-type=rsa --key-size=4096
has "rsa 4096" "$(ctext "$d/ca.crt")" 'Public-Key: \(4096 bit\)'
kt rsa3072 --key-type=rsa --key-size=3072
has "rsa 3072" "$(ctext "$d/ca.crt")" 'Public-Key: \(3072 bit\)'
is_eq "RSA 3072 CA signs with sha256WithRSAEncryption" "$(sigalg "$d/ca.crt")" "sha256WithRSAEncryption"

# ---------------------------------------------------------------- lifetime (pinned clock)
PKICTL_NOW=$NOW0 kt life720 --key-type=ecdsa --lifetime=720h
is_eq "--lifetime=720h: notAfter is now+30 days" "$(not_after "$d/ca.crt")" $((NOW0 + 720*3600))
is_eq "--lifetime=720h: openssl enddate" "$(openssl x509 -in "$d/ca.crt" -noout -enddate)" "notAfter=Dec 14 22:13:20 2023 GMT"
is_eq "PKICTL_NOW: notBefore is now-1h" "$(not_before "$d/ca.crt")" $((NOW0 - 3600))
is_eq "PKICTL_NOW: openssl startdate" "$(openssl x509 -in "$d/ca.crt" -noout -startdate)" "notBefore=Nov 14 21:13:20 2023 GMT"
PKICTL_NOW=$NOW0 kt lifedef --key-type=ecdsa
is_eq "default lifetime is exactly 87840h" "$(not_after "$d/ca.crt")" $((NOW0 + 87840*3600))
PKICTL_NOW=$NOW0 kt life30d --key-type=ecdsa --lifetime=30d
is_eq "--lifetime=30d is 720h" "$(not_after "$d/ca.crt")" $((NOW0 + 720*3600))
PKICTL_NOW=$NOW0 kt lifego --key-type=ecdsa --lifetime=87840h0m0s
is_eq "--lifetime=87840h0m0s" "$(not_after "$d/ca.crt")" $((NOW0 + 87840*3600))
PKICTL_NOW=$NOW0 kt life15 --key-type=ecdsa --lifetime=1.5h
is_eq "--lifetime=1.5h" "$(not_after "$d/ca.crt")" $((NOW0 + 5400))
PKICTL_NOW=$NOW0 kt life90m --key-type=ecdsa --lifetime 90m
is_eq "--lifetime 90m (separate value)" "$(not_after "$d/ca.crt")" $((NOW0 + 5400))

# ---------------------------------------------------------------- refusals
refuses "existing ca.crt is refused without --overwrite" 1 "$D1" "$KD" -- \
    cert create-ca --certs-dir="$D1" --ca-key="$KD/new.key" --key-type=ecdsa
err_has "refusal names ca.crt" 'ca\.crt'
absent "refused create-ca did not write the new key" "$KD/new.key"

D3="$T_TMP/d3"; mkdir -p "$D3"
refuses "existing CA key is refused without --allow-ca-key-reuse" 1 "$D3" "$KD" -- \
    cert create-ca --certs-dir="$D3" --ca-key="$KD/ca1.key" --key-type=ecdsa
absent "refused create-ca did not write ca.crt" "$D3/ca.crt"

D3b="$T_TMP/d3b"; mkdir -p "$D3b"
refuses "existing CA key is refused even with --overwrite" 1 "$D3b" "$KD" -- \
    cert create-ca --certs-dir="$D3b" --ca-key="$KD/ca1.key" --key-type=ecdsa --overwrite

refuses "missing certs dir is refused" 1 "$D1" "$KD" -- \
    cert create-ca --certs-dir="$T_TMP/nope" --ca-key="$KD/nope.key" --key-type=ecdsa
err_has "missing certs dir message" 'certs dir ".*nope" does not exist'

# ---------------------------------------------------------------- --allow-ca-key-reuse
RK="$T_TMP/rk"; mkdir -p "$RK"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$RK/ca.key" 2>/dev/null
chmod 600 "$RK/ca.key"
ksum=$(sha256sum <"$RK/ca.key")
pk_ok "--allow-ca-key-reuse with an existing key" cert create-ca --certs-dir="$D3" --ca-key="$RK/ca.key" \
    --allow-ca-key-reuse --key-type=rsa --key-size=4096
matches "reused key: ca.crt holds the existing key's public key" "$D3/ca.crt" "$RK/ca.key"
has "reused key: --key-type/--key-size not applied (still EC)" "$(ctext "$D3/ca.crt")" 'id-ecPublicKey'
is_eq "reused key: key file unchanged" "$(sha256sum <"$RK/ca.key")" "$ksum"
mode_is "reused key: mode still 0600" "$RK/ca.key" 600
out_has "reused key: wrote ca.crt" '^wrote .*/ca\.crt$'

D3c="$T_TMP/d3c"; mkdir -p "$D3c"
pk_ok "--allow-ca-key-reuse with no existing key makes one" cert create-ca --certs-dir="$D3c" \
    --ca-key="$RK/fresh.key" --allow-ca-key-reuse --key-type=ecdsa
matches "fresh key matches its CA" "$D3c/ca.crt" "$RK/fresh.key"
mode_is "fresh key mode 0600" "$RK/fresh.key" 600

D3d="$T_TMP/d3d"; mkdir -p "$D3d"
chmod 644 "$RK/ca.key"
refuses "reused key with mode 0644 is refused" 1 "$D3d" "$RK" -- \
    cert create-ca --certs-dir="$D3d" --ca-key="$RK/ca.key" --allow-ca-key-reuse
PKICTL_SKIP_KEY_PERMISSION_CHECK=true pk_ok "reused key with mode 0644 accepted with PKICTL_SKIP_KEY_PERMISSION_CHECK=true" \
    cert create-ca --certs-dir="$D3d" --ca-key="$RK/ca.key" --allow-ca-key-reuse
matches "skip-permission CA uses that key" "$D3d/ca.crt" "$RK/ca.key"
chmod 600 "$RK/ca.key"

# ---------------------------------------------------------------- --overwrite (rotation)
D4="$T_TMP/d4"; K4="$T_TMP/k4"; mkdir -p "$D4" "$K4"
new_ca "$D4" "$K4/a.key"
old=$(cat "$D4/ca.crt"); oldserial=$(cserial "$D4/ca.crt")
refuses "--overwrite with the existing key but no --allow-ca-key-reuse is refused" 1 "$D4" "$K4" -- \
    cert create-ca --certs-dir="$D4" --ca-key="$K4/a.key" --key-type=ecdsa --overwrite
pk_ok "--overwrite with a new key" cert create-ca --certs-dir="$D4" --ca-key="$K4/b.key" --key-type=ecdsa --overwrite
is_eq "ca.crt now holds 2 certificates" "$(ncerts "$D4/ca.crt")" 2
nth_cert "$D4/ca.crt" 1 >"$T_TMP/c1.pem"; nth_cert "$D4/ca.crt" 2 >"$T_TMP/c2.pem"
matches "first certificate is the new CA" "$T_TMP/c1.pem" "$K4/b.key"
same "second certificate is the old CA, unchanged" "$(cat "$T_TMP/c2.pem")" "$old"
is_ne "new CA has a new serial" "$(cserial "$T_TMP/c1.pem")" "$oldserial"
mode_is "ca.crt still 0644 after --overwrite" "$D4/ca.crt" 644
is_eq "no temp files left after --overwrite" "$(ls -A "$D4")" "ca.crt"
two=$(cat "$D4/ca.crt")
pk_ok "--overwrite --allow-ca-key-reuse with the current key" cert create-ca --certs-dir="$D4" --ca-key="$K4/b.key" \
    --overwrite --allow-ca-key-reuse
is_eq "ca.crt now holds 3 certificates" "$(ncerts "$D4/ca.crt")" 3
nth_cert "$D4/ca.crt" 1 >"$T_TMP/c1.pem"
matches "newest (first) certificate has the reused key" "$T_TMP/c1.pem" "$K4/b.key"
same "older two certificates follow unchanged" "$(nth_cert "$D4/ca.crt" 2; nth_cert "$D4/ca.crt" 3)" "$two"

D5="$T_TMP/d5"; mkdir -p "$D5"; head -c 300 /dev/urandom >"$D5/ca.crt"
refuses "--overwrite over an unreadable ca.crt is refused" 1 "$D5" "$K4" -- \
    cert create-ca --certs-dir="$D5" --ca-key="$K4/c.key" --key-type=ecdsa --overwrite
absent "refused --overwrite did not write a key" "$K4/c.key"
D5b="$T_TMP/d5b"; mkdir -p "$D5b"
pk_ok "--overwrite with no ca.crt yet just creates it" cert create-ca --certs-dir="$D5b" --ca-key="$K4/d.key" --key-type=ecdsa --overwrite
is_eq "--overwrite with no old ca.crt: one certificate" "$(ncerts "$D5b/ca.crt")" 1

# ---------------------------------------------------------------- environment defaults
D6="$T_TMP/d6"; EK="$T_TMP/envkeys"; mkdir -p "$D6" "$EK"
PKICTL_CA_KEY="$EK/ca.key" pk_ok "PKICTL_CA_KEY supplies --ca-key" cert create-ca --certs-dir="$D6" --key-type=ecdsa
exists "key written at PKICTL_CA_KEY" "$EK/ca.key"
matches "that key signs ca.crt" "$D6/ca.crt" "$EK/ca.key"
D6b="$T_TMP/d6b"; mkdir -p "$D6b"
PKICTL_CA_KEY="$EK/env.key" pk_ok "--ca-key beats PKICTL_CA_KEY" cert create-ca --certs-dir="$D6b" --ca-key="$EK/flag.key" --key-type=ecdsa
exists "flag key written" "$EK/flag.key"
absent "env key not written" "$EK/env.key"

D7="$T_TMP/d7"; mkdir -p "$D7"
PKICTL_CERTS_DIR="$D7" pk_ok "PKICTL_CERTS_DIR supplies --certs-dir" cert create-ca --ca-key="$EK/d7.key" --key-type=ecdsa
exists "ca.crt written in PKICTL_CERTS_DIR" "$D7/ca.crt"
D7b="$T_TMP/d7b"; mkdir -p "$D7b"
PKICTL_CERTS_DIR="$D7" pk_ok "--certs-dir beats PKICTL_CERTS_DIR" cert create-ca --certs-dir="$D7b" --ca-key="$EK/d7b.key" --key-type=ecdsa
exists "ca.crt written in --certs-dir" "$D7b/ca.crt"
is_eq "PKICTL_CERTS_DIR untouched" "$(ncerts "$D7/ca.crt")" 1

refuses "HOME default: missing \$HOME/.pkictl-certs refused" 1 "$HOME" "$EK" -- \
    cert create-ca --ca-key="$EK/home.key" --key-type=ecdsa
err_has "HOME default: message names \$HOME/.pkictl-certs" "certs dir \"$HOME/.pkictl-certs/?\" does not exist"
mkdir -p "$HOME/.pkictl-certs"
pk_ok "HOME default: \$HOME/.pkictl-certs used" cert create-ca --ca-key="$EK/home.key" --key-type=ecdsa
exists "ca.crt written in \$HOME/.pkictl-certs" "$HOME/.pkictl-certs/ca.crt"

# ---------------------------------------------------------------- modes do not depend on umask
D8="$T_TMP/d8"; mkdir -p "$D8"
mkdir -p "$T_TMP/k8"
(umask 000; "$PKICTL" cert create-ca --certs-dir="$D8" --ca-key="$T_TMP/k8/ca.key" --key-type=ecdsa >/dev/null 2>&1)
mode_is "umask 000: key still 0600" "$T_TMP/k8/ca.key" 600
mode_is "umask 000: ca.crt 0644" "$D8/ca.crt" 644

# --flag VALUE form and flags in any order
D9="$T_TMP/d9"; mkdir -p "$D9"
pk_ok "--flag VALUE form" cert create-ca --key-type ecdsa --certs-dir "$D9" --lifetime 720h --ca-key "$T_TMP/k9.key" --key-size 384
has "--key-size 384 (separate value) applied" "$(ctext "$D9/ca.crt")" 'secp384r1|P-384'

finish
