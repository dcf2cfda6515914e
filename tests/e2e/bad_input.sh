#!/usr/bin/env bash
# Every bad input in docs/cli.md: non-zero exit, one "pkictl: " stderr line, nothing on disk changed
# (neither the certs dir nor the CA key's dir).
. "$(dirname "$0")/common.sh"

D="$T_TMP/certs"; KD="$T_TMP/keys"
new_ca "$D" "$KD/ca.key"
E="$T_TMP/empty"; EK="$T_TMP/emptykeys"; mkdir -p "$E" "$EK"

# bn "what" CODE HOST... [flags]: create-node in D must be refused, nothing changed
# (--key-type=ecdsa is added for speed unless the arguments give a --key-type)
kt_default() { KT=(); case " $* " in *" --key-type"*) ;; *) KT=(--key-type=ecdsa) ;; esac; }
bn() { local w=$1 c=$2; shift 2; kt_default "$@"
       refuses "create-node: $w" "$c" "$D" "$KD" -- cert create-node "$@" --certs-dir="$D" --ca-key="$KD/ca.key" "${KT[@]}"; }
# bc "what" CODE USER [flags]: create-client in D must be refused
bc() { local w=$1 c=$2; shift 2; kt_default "$@"
       refuses "create-client: $w" "$c" "$D" "$KD" -- cert create-client "$@" --certs-dir="$D" --ca-key="$KD/ca.key" "${KT[@]}"; }
# ba "what" CODE [flags]: create-ca in the empty dir E (key in EK) must be refused
ba() { local w=$1 c=$2; shift 2
       refuses "create-ca: $w" "$c" "$E" "$EK" -- cert create-ca --certs-dir="$E" --ca-key="$EK/ca.key" "$@"; }

# ---------------------------------------------------------------- user names
U64=$(printf 'u%.0s' {1..64})
for u in 'a/b' '/etc' '..' 'a..b' '../x' 'x/..' $'a\tb' $'a\nb' $'a\x01b' $'a\x7fb' 'a b' ' alice' "$U64" \
         '.alice' '@alice' 'josé' 'a*b' 'a:b' 'a\b' 'a;b' "a'b"; do
    bc "user $(printf '%q' "$u")" 1 "$u"
done
bc "empty user" any ''
bc "user '-alice' (plain)" any '-alice'
is_eq "no client file was ever written" "$(find "$D" -name 'client*' | wc -l)" 0

# ---------------------------------------------------------------- hosts
L64=$(printf 'a%.0s' {1..64}); L63=$(printf 'a%.0s' {1..63})
N254="$L63.$L63.$L63.$(printf 'b%.0s' {1..62})"
for h in 'a..b' '1.2.3.256' 'a_b.com' "$L64.com" "$N254" 'example.com.' 'fe80::1%eth0' '[fe80::1%eth0]' \
         '*.com' '*' 'a.*.example.com' 'f*.example.com' '*.*.example.com' '**.example.com' '*a.example.com' \
         'a b.com' 'bad-.com' 'a.-b.com' '.example.com' '.' 'example.123' '1.2.3' '1.2.3.4.5' '256.1.1.1' \
         '[::1' '::1]' '::g' '1:2:3:4:5:6:7:8:9' 'ex/ample.com' 'exa$mple.com' 'é.example.com' $'a\tb.com' $'a\nb.com' \
         '01.2.3.4' '127.1' '0x7f.0.0.1' '*.1.2.3' '*.example.123'; do
    bn "host $(printf '%q' "$h")" 1 "$h"
done
bn "host '-bad.com'" any '-bad.com'
bn "empty host" any ''
bn "one bad host among good ones" 1 localhost 127.0.0.1 a_b.com
HOSTS=(); for i in $(seq 1 257); do HOSTS+=("h$i.example.com"); done
bn "257 hosts" 1 "${HOSTS[@]}"
absent "no node.crt was ever written" "$D/node.crt"

# ---------------------------------------------------------------- durations
for l in abc 10 1.5 10y -5h 0h 0 0s 0.1s 500ms 999ms 1µs 9999999999h 2562048h 1h- h 1hh '1h 2m' ' 1h' 1e3h '+-1h' 5H 1h-5m; do
    bn "lifetime $(printf '%q' "$l")" 1 localhost --lifetime="$l"
done
bn "empty lifetime" any localhost --lifetime=
for l in abc 10 -5h 0h 500ms 9999999999h; do
    bc "lifetime '$l'" 1 alice --lifetime="$l"
    ba "lifetime '$l'" 1 --key-type=ecdsa --lifetime="$l"
done
ba "empty lifetime" any --key-type=ecdsa --lifetime=

# ---------------------------------------------------------------- key types and sizes
for ks in "rsa 1024" "rsa 2047" "rsa 0" "rsa 2049" "rsa -2048" "rsa abc" "ecdsa 255" "ecdsa 512" "ecdsa 2048" "ecdsa 224" \
          "ed25519 256" "ed25519 0"; do
    set -- $ks
    ba "--key-type=$1 --key-size=$2" 1 --key-type="$1" --key-size="$2"
done
ba "--key-type=dsa" 1 --key-type=dsa
ba "--key-type=ec" 1 --key-type=ec
ba "empty --key-type" any --key-type=
ba "empty --key-size" any --key-type=rsa --key-size=
ba "--key-size without --key-type (rsa 256)" 1 --key-size=256
for ks in "rsa 1024" "ecdsa 255" "ed25519 256"; do
    set -- $ks
    bn "--key-type=$1 --key-size=$2" 1 localhost --key-type="$1" --key-size="$2"
    bc "--key-type=$1 --key-size=$2" 1 alice --key-type="$1" --key-size="$2"
done
bn "--key-type=dsa" 1 localhost --key-type=dsa
bc "--key-type=dsa" 1 alice --key-type=dsa

# ---------------------------------------------------------------- certs dir, CA key, ca.crt
refuses "create-node: missing certs dir" 1 "$D" "$KD" -- \
    cert create-node localhost --certs-dir="$T_TMP/nope" --ca-key="$KD/ca.key" --key-type=ecdsa
err_has "missing certs dir message" "certs dir \".*nope\" does not exist"
absent "missing certs dir not created" "$T_TMP/nope"
refuses "create-client: missing certs dir" 1 "$D" "$KD" -- \
    cert create-client alice --certs-dir="$T_TMP/nope" --ca-key="$KD/ca.key" --key-type=ecdsa
err_has "missing certs dir message (client)" "certs dir \".*nope\" does not exist"
: >"$T_TMP/afile"
refuses "create-node: certs dir is a file" 1 "$D" "$KD" -- \
    cert create-node localhost --certs-dir="$T_TMP/afile" --ca-key="$KD/ca.key" --key-type=ecdsa

refuses "create-node: missing CA key" 1 "$D" "$KD" -- \
    cert create-node localhost --certs-dir="$D" --ca-key="$KD/missing.key" --key-type=ecdsa
refuses "create-client: missing CA key" 1 "$D" "$KD" -- \
    cert create-client alice --certs-dir="$D" --ca-key="$KD/missing.key" --key-type=ecdsa

OD="$T_TMP/otherca"; OKD="$T_TMP/otherkeys"
new_ca "$OD" "$OKD/ca.key"
refuses "create-node: CA key of another CA" 1 "$D" "$OKD" -- \
    cert create-node localhost --certs-dir="$D" --ca-key="$OKD/ca.key" --key-type=ecdsa
refuses "create-client: CA key of another CA" 1 "$D" "$OKD" -- \
    cert create-client alice --certs-dir="$D" --ca-key="$OKD/ca.key" --key-type=ecdsa

refuses "create-node: no ca.crt in the certs dir" 1 "$E" "$KD" -- \
    cert create-node localhost --certs-dir="$E" --ca-key="$KD/ca.key" --key-type=ecdsa
refuses "create-client: no ca.crt in the certs dir" 1 "$E" "$KD" -- \
    cert create-client alice --certs-dir="$E" --ca-key="$KD/ca.key" --key-type=ecdsa

for m in 644 640 604 660 666 610 602; do
    chmod "$m" "$KD/ca.key"
    bn "CA key with mode 0$m" 1 localhost
    bc "CA key with mode 0$m" 1 alice
done
chmod 644 "$KD/ca.key"
S="$T_TMP/skip"; cp -a "$D" "$S"
PKICTL_SKIP_KEY_PERMISSION_CHECK=true pk_ok "CA key 0644 accepted with PKICTL_SKIP_KEY_PERMISSION_CHECK=true" \
    cert create-node localhost --certs-dir="$S" --ca-key="$KD/ca.key" --key-type=ecdsa
check "skip-permission node verifies" openssl verify -CAfile "$S/ca.crt" "$S/node.crt"
mode_is "the node key it wrote is still 0600" "$S/node.key" 600
chmod 600 "$KD/ca.key"

head -c 400 /dev/urandom >"$T_TMP/garbage.key"; chmod 600 "$T_TMP/garbage.key"
refuses "create-node: garbage CA key" 1 "$D" "$KD" -- \
    cert create-node localhost --certs-dir="$D" --ca-key="$T_TMP/garbage.key" --key-type=ecdsa
cp "$D/ca.crt" "$T_TMP/cert-as.key"; chmod 600 "$T_TMP/cert-as.key"
refuses "create-node: a certificate given as CA key" 1 "$D" "$KD" -- \
    cert create-node localhost --certs-dir="$D" --ca-key="$T_TMP/cert-as.key" --key-type=ecdsa

# corrupt ca.crt (in copies of D, keyed by the right CA key)
for kind in garbage truncated empty text; do
    C="$T_TMP/ca-$kind"; cp -a "$D" "$C"
    case $kind in
        garbage)   head -c 600 /dev/urandom >"$C/ca.crt" ;;
        truncated) head -c "$(( $(wc -c <"$D/ca.crt") / 2 ))" "$D/ca.crt" >"$C/ca.crt" ;;
        empty)     : >"$C/ca.crt" ;;
        text)      echo "not a certificate" >"$C/ca.crt" ;;
    esac
    refuses "create-node: $kind ca.crt" 1 "$C" "$KD" -- \
        cert create-node localhost --certs-dir="$C" --ca-key="$KD/ca.key" --key-type=ecdsa
    refuses "create-client: $kind ca.crt" 1 "$C" "$KD" -- \
        cert create-client alice --certs-dir="$C" --ca-key="$KD/ca.key" --key-type=ecdsa
    refuses "create-ca --overwrite: $kind ca.crt" 1 "$C" "$EK" -- \
        cert create-ca --certs-dir="$C" --ca-key="$EK/new.key" --key-type=ecdsa --overwrite
done

# ---------------------------------------------------------------- existing files
new_node "$D" "$KD/ca.key" localhost
new_client "$D" "$KD/ca.key" alice
refuses "create-node: existing node.crt/node.key without --overwrite" 1 "$D" "$KD" -- \
    cert create-node other.example.com --certs-dir="$D" --ca-key="$KD/ca.key" --key-type=ecdsa
err_has "message names node.crt or node.key" 'node\.(crt|key)'
refuses "create-client: existing client.alice.crt without --overwrite" 1 "$D" "$KD" -- \
    cert create-client alice --certs-dir="$D" --ca-key="$KD/ca.key" --key-type=ecdsa
err_has "message names the client file" 'client\.alice\.(crt|key)'

X="$T_TMP/onlykey"; cp -a "$D" "$X"; rm "$X/node.crt" "$X/client.alice.crt"
refuses "create-node: existing node.key alone" 1 "$X" "$KD" -- \
    cert create-node localhost --certs-dir="$X" --ca-key="$KD/ca.key" --key-type=ecdsa
err_has "message names node.key" 'node\.key'
refuses "create-client: existing client.alice.key alone" 1 "$X" "$KD" -- \
    cert create-client alice --certs-dir="$X" --ca-key="$KD/ca.key" --key-type=ecdsa

Y="$T_TMP/onlypk8"; mkdir -p "$Y"; cp -p "$D/ca.crt" "$Y/"
echo x >"$Y/node.key.pk8"; echo x >"$Y/client.alice.key.pk8"; chmod 600 "$Y"/*.pk8
refuses "create-node: existing node.key.pk8 with --also-generate-pkcs8-key" 1 "$Y" "$KD" -- \
    cert create-node localhost --certs-dir="$Y" --ca-key="$KD/ca.key" --key-type=ecdsa --also-generate-pkcs8-key
refuses "create-client: existing client.alice.key.pk8 with --also-generate-pkcs8-key" 1 "$Y" "$KD" -- \
    cert create-client alice --certs-dir="$Y" --ca-key="$KD/ca.key" --key-type=ecdsa --also-generate-pkcs8-key

refuses "create-ca: existing ca.crt without --overwrite" 1 "$D" "$EK" -- \
    cert create-ca --certs-dir="$D" --ca-key="$EK/x.key" --key-type=ecdsa
refuses "create-ca: existing CA key without --allow-ca-key-reuse" 1 "$E" "$KD" -- \
    cert create-ca --certs-dir="$E" --ca-key="$KD/ca.key" --key-type=ecdsa

# the refusals above must not have disturbed the real files
matches "node.key still matches node.crt" "$D/node.crt" "$D/node.key"
check "node.crt still verifies" openssl verify -CAfile "$D/ca.crt" "$D/node.crt"
is_eq "empty dir still empty" "$(ls -A "$E") $(ls -A "$EK")" " "

finish
