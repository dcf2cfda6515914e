#!/usr/bin/env bash
# cert sign: pkictl- and openssl-made CSRs under every profile; the profile (not the request)
# decides CA flag, key usage, EKU, path length; subject and SANs kept; chain output; lifetimes;
# every refusal leaves the disk as it was.
. "$(dirname "$0")/common.sh"
. "$E2E_DIR/sign_common.sh"

W="$T_TMP/w"; C="$T_TMP/ca"; mkdir -p "$W" "$C"
SRV='TLS Web Server Authentication'
CLI='TLS Web Client Authentication'

new_ca "$C/root" "$C/root.key"
ROOT="$C/root/ca.crt"; RK="$C/root.key"

# profile_is TAG CERT PROFILE KEYKIND(rsa|other): CA flag, key usage, EKU as the profile says
profile_is() {
    local t=$1 c=$2 p=$3 kk=$4 bc eku ku
    case $p in
        server)       bc='CA:FALSE';           eku=$SRV ;;
        client)       bc='CA:FALSE';           eku=$CLI ;;
        node)         bc='CA:FALSE';           eku="$CLI,$SRV" ;;
        intermediate) bc='CA:TRUE, pathlen:0'; eku='' ;;
    esac
    if [ "$p" == intermediate ]; then ku=$(echo 'Digital Signature, Certificate Sign, CRL Sign' | sorted)
    elif [ "$kk" == rsa ]; then ku='Digital Signature,Key Encipherment'
    else ku='Digital Signature'; fi
    is_eq "$t: basic constraints $bc" "$(cval "$c" basicConstraints)" "$bc"
    if ccrit "$c" basicConstraints; then ok "$t: basic constraints critical"; else not_ok "$t: basic constraints critical"; fi
    is_eq "$t: key usage $ku" "$(cval "$c" keyUsage | sorted)" "$ku"
    if ccrit "$c" keyUsage; then ok "$t: key usage critical"; else not_ok "$t: key usage critical"; fi
    is_eq "$t: EKU [$eku]" "$(cval "$c" extendedKeyUsage | sorted)" "$eku"
    has "$t: X.509 v3" "$(ctext "$c")" 'Version: 3 \(0x2\)'
    has "$t: serial is positive hex" "$(cserial "$c")" '^[0-9A-F]{16,40}$'
    has "$t: subject key identifier" "$(cski "$c")" '^([0-9A-F]{2}:)+[0-9A-F]{2}$'
}
# issued_by TAG CERT ISSUER: issuer name and AKI are ISSUER's
issued_by() {
    is_eq "$1: issuer is the CA's subject" "$(cissuer "$2")" "$(csubject "$3")"
    same "$1: AKI is the CA's SKI" "$(caki "$2")" "$(cski "$3")"
}
# rs "what" args...: cert sign must be refused (exit 1), nothing changed in W or C
rs() { local w=$1; shift; refuses "cert sign: $w" 1 "$W" "$C" -- cert sign "$@"; }
# rsr "what" CSR [profile]: signing CSR with the root must be refused
rsr() { rs "$1" "$2" --ca-cert="$ROOT" --ca-key="$RK" --profile="${3:-server}" --out="$W/refused.crt"; }

# ---------------------------------------------------------------- an intermediate (openssl CSR)
pk_ok "cert sign --help exits 0" cert sign --help
out_has "cert sign --help shows its usage" 'cert sign'
mk_ocsr "intermediate CSR (openssl)" "$C/int.csr" ec:P-256 "/O=Example/CN=Example Intermediate CA"
pk_ok "sign the intermediate with the root" cert sign "$C/int.csr" --ca-cert="$ROOT" --ca-key="$RK" \
    --profile=intermediate --out="$C/int.crt"
cert_count "signed by the root: only the new certificate (no root)" "$C/int.crt" 1
is_eq "output is PEM" "$(head -n1 "$C/int.crt")" "-----BEGIN CERTIFICATE-----"
mode_is "output mode 0644" "$C/int.crt" 644
profile_is "intermediate" "$C/int.crt" intermediate other
issued_by "intermediate" "$C/int.crt" "$ROOT"
is_eq "intermediate: subject kept" "$(csubject "$C/int.crt")" "CN=Example Intermediate CA,O=Example"
same "intermediate: key is the CSR's" "$(cpub "$C/int.crt")" "$(rpub "$C/int.csr")"
check "intermediate verifies against the root" openssl verify -CAfile "$ROOT" "$C/int.crt"
cat "$C/int.crt" "$ROOT" >"$C/int-chain.pem"
INT="$C/int.crt"; INTK="$C/int.key"; INTCH="$C/int-chain.pem"

# ---------------------------------------------------------------- pkictl-made CSRs, every profile
for kt in ecdsa rsa ed25519; do
    kk=other; [ "$kt" == rsa ] && kk=rsa
    csr="$W/pk-$kt.csr"
    pk_ok "pkictl CSR ($kt)" csr create --new-key --key-type="$kt" --subject="/C=US/O=Example/CN=svc-$kt.example.com" \
        --san="dns:svc-$kt.example.com,ip:10.0.0.5,uri:spiffe://cluster.local/ns/a/sa/b,email:ops@example.com" \
        --usage=both --out="$csr"
    for p in server client node intermediate; do
        t="pkictl $kt CSR, $p"; out="$W/pk-$kt-$p.crt"
        if [ "$p" == intermediate ]; then
            pk_ok "$t: signed by the root" cert sign "$csr" --ca-cert="$ROOT" --ca-key="$RK" --profile=$p --out="$out"
            cert_count "$t: one certificate" "$out" 1
            issued_by "$t" "$out" "$ROOT"
            is_eq "$t: SANs are not copied" "$(cext "$out" subjectAltName)" ""
        else
            pk_ok "$t: signed by the intermediate" cert sign "$csr" --ca-cert="$INTCH" --ca-key="$INTK" --profile=$p --out="$out"
            cert_count "$t: leaf + intermediate" "$out" 2
            nth_cert "$out" 2 >"$T_TMP/second.pem"
            same "$t: second certificate is the intermediate" "$(fp256 "$T_TMP/second.pem")" "$(fp256 "$INT")"
            issued_by "$t" "$out" "$INT"
            is_eq "$t: SANs kept" "$(san_list "$out" | LC_ALL=C sort | tr '\n' '|')" "$(rsan_list "$csr" | LC_ALL=C sort | tr '\n' '|')"
        fi
        profile_is "$t" "$out" "$p" "$kk"
        is_eq "$t: subject kept" "$(csubject_set "$out")" "$(rsubject_set "$csr")"
        same "$t: key is the CSR's" "$(cpub "$out")" "$(rpub "$csr")"
        verifies "$t: verifies (-CAfile root -untrusted out)" "$ROOT" "$out"
        case $p in
            server) verifies "$t: verifies for sslserver" "$ROOT" "$out" -purpose sslserver ;;
            client) verifies "$t: verifies for sslclient" "$ROOT" "$out" -purpose sslclient ;;
            node)   verifies "$t: verifies for sslserver" "$ROOT" "$out" -purpose sslserver
                    verifies "$t: verifies for sslclient" "$ROOT" "$out" -purpose sslclient ;;
        esac
    done
done
is_ne "two certificates get different serials" "$(cserial "$W/pk-ecdsa-server.crt")" "$(cserial "$W/pk-ecdsa-client.crt")"

# ---------------------------------------------------------------- openssl-made CSRs, every profile
for alg in rsa:2048 rsa:3072 ec:P-256 ec:P-384 ec:P-521 ed25519; do
    tag=${alg/:/-}; kk=other; case $alg in rsa:*) kk=rsa ;; esac
    csr="$W/o-$tag.csr"
    mk_ocsr "openssl CSR ($alg)" "$csr" "$alg" "/C=DE/ST=Berlin/L=Berlin/O=Example GmbH/OU=Ops/CN=o-$tag.example.com" \
        -addext "subjectAltName=DNS:o-$tag.example.com,DNS:*.o.example.com,IP:192.0.2.1,IP:2001:db8::5"
    for p in server client node intermediate; do
        t="openssl $alg CSR, $p"; out="$W/o-$tag-$p.crt"
        if [ "$p" == intermediate ]; then
            pk_ok "$t: signed by the root" cert sign "$csr" --ca-cert="$ROOT" --ca-key="$RK" --profile=$p --out="$out"
            is_eq "$t: SANs are not copied" "$(cext "$out" subjectAltName)" ""
        else
            pk_ok "$t: signed by the intermediate" cert sign "$csr" --ca-cert="$INTCH" --ca-key="$INTK" --profile=$p --out="$out"
            is_eq "$t: SANs kept" "$(san_list "$out" | LC_ALL=C sort | tr '\n' '|')" \
                "DNS:*.o.example.com|DNS:o-$tag.example.com|IP Address:192.0.2.1|IP Address:2001:DB8:0:0:0:0:0:5|"
        fi
        profile_is "$t" "$out" "$p" "$kk"
        is_eq "$t: subject kept" "$(csubject_set "$out")" "C=DE|CN=o-$tag.example.com|L=Berlin|O=Example GmbH|OU=Ops|ST=Berlin|"
        same "$t: key is the CSR's" "$(cpub "$out")" "$(rpub "$csr")"
        verifies "$t: verifies" "$ROOT" "$out"
    done
done
is_eq "P-256 issuer signs with ecdsa-with-SHA256" "$(sigalg "$W/o-rsa-2048-server.crt")" "ecdsa-with-SHA256"

# DER input
openssl req -in "$W/o-ec-P-256.csr" -outform DER -out "$W/der.csr" 2>/dev/null
pk_ok "a DER CSR is accepted" cert sign "$W/der.csr" --ca-cert="$ROOT" --ca-key="$RK" --profile=server --out="$W/der.crt"
same "DER CSR: key is the CSR's" "$(cpub "$W/der.crt")" "$(rpub "$W/o-ec-P-256.csr")"
verifies "DER CSR: verifies" "$ROOT" "$W/der.crt"

# ---------------------------------------------------------------- the profile wins over the request
mk_ocsr "CSR asking for CA:TRUE, keyCertSign, codeSigning, a comment" "$W/evil.csr" ec:P-256 "/O=Evil/CN=evil.example.com" \
    -addext basicConstraints=critical,CA:TRUE,pathlen:5 -addext keyUsage=critical,keyCertSign,cRLSign \
    -addext extendedKeyUsage=codeSigning,emailProtection -addext "nsComment=requested comment" \
    -addext "subjectAltName=DNS:evil.example.com,IP:10.9.9.9"
for p in server client node intermediate; do
    t="CA:TRUE request under $p"; out="$W/evil-$p.crt"
    pk_ok "$t: signed" cert sign "$W/evil.csr" --ca-cert="$ROOT" --ca-key="$RK" --profile=$p --out="$out"
    profile_is "$t" "$out" "$p" other
    T=$(ctext "$out")
    lacks "$t: no requested comment" "$T" 'Netscape Comment|requested comment'
    lacks "$t: no codeSigning / emailProtection" "$T" 'Code Signing|E-mail Protection'
    lacks "$t: no pathlen:5" "$T" 'pathlen:5'
    if [ "$p" != intermediate ]; then
        lacks "$t: no keyCertSign, no cRLSign" "$(cval "$out" keyUsage)" 'Certificate Sign|CRL Sign'
        is_eq "$t: SANs kept" "$(san_list "$out" | tr '\n' '|')" "DNS:evil.example.com|IP Address:10.9.9.9|"
        is_eq "$t: subject kept" "$(csubject "$out")" "CN=evil.example.com,O=Evil"
    fi
done
# a certificate under the CA:TRUE-requesting server cert does not verify (it is no CA)
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T_TMP/sub.key" -subj /CN=sub \
    -out "$T_TMP/sub.csr" 2>/dev/null
openssl x509 -req -in "$T_TMP/sub.csr" -CA "$W/evil-server.crt" -CAkey "$W/evil.key" -days 1 -set_serial 7 \
    -out "$T_TMP/sub.crt" 2>/dev/null
cat "$T_TMP/sub.crt" "$W/evil-server.crt" >"$T_TMP/sub-chain.pem"
if openssl verify -CAfile "$ROOT" -untrusted "$T_TMP/sub-chain.pem" "$T_TMP/sub.crt" >/dev/null 2>&1; then
    not_ok "a certificate signed by the server certificate does not verify"
else ok "a certificate signed by the server certificate does not verify"; fi

# ---------------------------------------------------------------- per-profile SAN rules
mk_ocsr "CSR with a CN and no SAN" "$W/nosan.csr" ec:P-256 "/O=Example/CN=alice"
pk_ok "client profile without SAN is accepted" cert sign "$W/nosan.csr" --ca-cert="$ROOT" --ca-key="$RK" --profile=client --out="$W/nosan-client.crt"
is_eq "client without SAN: no SAN extension" "$(cext "$W/nosan-client.crt" subjectAltName)" ""
is_eq "client without SAN: subject kept" "$(csubject "$W/nosan-client.crt")" "CN=alice,O=Example"
pk_ok "intermediate profile without SAN is accepted" cert sign "$W/nosan.csr" --ca-cert="$ROOT" --ca-key="$RK" --profile=intermediate --out="$W/nosan-int.crt"
rsr "server profile without SAN" "$W/nosan.csr" server
rsr "node profile without SAN" "$W/nosan.csr" node
mk_ocsr "CSR with only URI and email SANs" "$W/urisan.csr" ec:P-256 "/CN=workload" \
    -addext "subjectAltName=URI:spiffe://cluster.local/ns/x/sa/y,email:w@example.com"
rsr "server profile with only URI/email SANs" "$W/urisan.csr" server
rsr "node profile with only URI/email SANs" "$W/urisan.csr" node
pk_ok "client profile with URI/email SANs" cert sign "$W/urisan.csr" --ca-cert="$ROOT" --ca-key="$RK" --profile=client --out="$W/urisan.crt"
is_eq "client: URI and email SANs kept" "$(san_list "$W/urisan.crt" | tr '\n' '|')" "URI:spiffe://cluster.local/ns/x/sa/y|email:w@example.com|"
mk_ocsr "CSR with only an IP SAN" "$W/ipsan.csr" ec:P-256 "/CN=ip" -addext "subjectAltName=IP:10.0.0.9"
pk_ok "server profile with only an IP SAN" cert sign "$W/ipsan.csr" --ca-cert="$ROOT" --ca-key="$RK" --profile=server --out="$W/ipsan.crt"
is_eq "server: IP SAN kept" "$(san_list "$W/ipsan.crt")" "IP Address:10.0.0.9"

# ---------------------------------------------------------------- bad requests
cp "$W/o-ec-P-256.csr" "$C/good.csr"
openssl req -in "$C/good.csr" -outform DER -out "$W/badsig.der" 2>/dev/null
flip_byte "$W/badsig.der" 3
pem_of_der "$W/badsig.der" >"$W/badsig.csr"
o=$(openssl req -in "$W/badsig.csr" -noout -verify 2>&1)
if printf '%s' "$o" | grep -q 'verify failure'; then ok "setup: openssl says the flipped CSR's signature fails"
else not_ok "setup: openssl says the flipped CSR's signature fails" "$o"; fi
rsr "CSR whose signature does not verify (PEM)" "$W/badsig.csr"
err_has "bad signature: message says so" 'signature|verif'
rsr "CSR whose signature does not verify (DER)" "$W/badsig.der"
openssl req -in "$W/o-rsa-2048.csr" -outform DER -out "$W/badsig-rsa.der" 2>/dev/null
flip_byte "$W/badsig-rsa.der" 10
rsr "RSA CSR whose signature does not verify (DER)" "$W/badsig-rsa.der"

mk_ocsr "RSA-1024 CSR" "$W/rsa1024.csr" rsa:1024 "/CN=weak.example.com" -addext "subjectAltName=DNS:weak.example.com"
rsr "RSA-1024 CSR" "$W/rsa1024.csr"
err_has "RSA-1024: message names the key" 'rsa|key|1024|bits'
mk_ocsr "RSA-2047 CSR" "$W/rsa2047.csr" rsa:2047 "/CN=weak.example.com" -addext "subjectAltName=DNS:weak.example.com"
rsr "RSA-2047 CSR" "$W/rsa2047.csr" client
mk_ocsr "P-224 CSR" "$W/p224.csr" ec:P-224 "/CN=p224.example.com" -addext "subjectAltName=DNS:p224.example.com"
rsr "EC P-224 CSR" "$W/p224.csr"
mk_ocsr "secp256k1 CSR" "$W/k1.csr" ec:secp256k1 "/CN=k1.example.com" -addext "subjectAltName=DNS:k1.example.com"
rsr "EC secp256k1 CSR" "$W/k1.csr"

cat >"$T_TMP/dn.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
req_extensions = ext
[dn]
CN = dirname.example.com
[ext]
subjectAltName = DNS:dirname.example.com,dirName:dir_sect
[dir_sect]
CN = foo
O = bar
EOF
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/dirname.key" -config "$T_TMP/dn.cnf" \
    -out "$W/dirname.csr" 2>/dev/null
has "setup: dirName SAN present" "$(rsan_list "$W/dirname.csr")" 'DirName'
for p in server client node; do rsr "CSR with a dirName SAN ($p)" "$W/dirname.csr" $p; done
mk_ocsr "CSR with an otherName SAN" "$W/othername.csr" ec:P-256 "/CN=on.example.com" \
    -addext "subjectAltName=DNS:on.example.com,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:u@example.com"
for p in server client; do rsr "CSR with an otherName SAN ($p)" "$W/othername.csr" $p; done
mk_ocsr "CSR with a registeredID SAN" "$W/rid.csr" ec:P-256 "/CN=rid.example.com" \
    -addext "subjectAltName=DNS:rid.example.com,RID:1.2.3.4"
rsr "CSR with a registeredID SAN" "$W/rid.csr"
i=0
for s in 'DNS:a..b' 'DNS:a.*.example.com' 'DNS:*' 'DNS:*.com' 'DNS:a_b.example.com' 'DNS:example.com.' 'DNS:-a.example.com' \
         'DNS:1.2.3.256' 'email:no-at-sign' 'email:ops@a..b' 'URI:no-scheme' 'URI:https://a b.example.com' 'DNS:ok.example.com,DNS:bad..example.com'; do
    i=$((i + 1))
    mk_ocsr "CSR with SAN $s" "$W/mal$i.csr" ec:P-256 "/CN=mal.example.com" -addext "subjectAltName=$s"
    p=server; case $s in email:*|URI:*) p=client ;; esac
    rsr "CSR with malformed SAN $s ($p)" "$W/mal$i.csr" $p
done
V65=$(printf 'v%.0s' {1..65})
mk_ocsr "CSR with a 65-character street" "$W/long.csr" ec:P-256 "/CN=long.example.com/street=$V65" -addext "subjectAltName=DNS:long.example.com"
rsr "CSR with a subject value of 65 characters" "$W/long.csr"
mk_ocsr "CSR with a control character in the CN" "$W/ctl.csr" ec:P-256 "/CN=a$(printf '\x01')b" -addext "subjectAltName=DNS:ctl.example.com"
rsr "CSR with a control character in the subject" "$W/ctl.csr"

head -c $(( $(wc -c <"$C/good.csr") / 2 )) "$C/good.csr" >"$W/trunc.csr"
rsr "truncated PEM" "$W/trunc.csr"
{ head -n 4 "$C/good.csr"; echo "-----END CERTIFICATE REQUEST-----"; } >"$W/cut.csr"
rsr "PEM cut short (END after 3 lines)" "$W/cut.csr"
head -c 2000 /dev/urandom >"$W/garbage.csr"
rsr "binary garbage" "$W/garbage.csr"
: >"$W/empty.csr"
rsr "empty file" "$W/empty.csr"
echo "not a request" >"$W/text.csr"
rsr "text file" "$W/text.csr"
rsr "a certificate instead of a CSR" "$ROOT"
{ head -c 1100000 /dev/zero | tr '\0' 'x' | fold -w 64; cat "$C/good.csr"; } >"$W/big.csr"
rsr "a CSR file of more than 1 MiB" "$W/big.csr"
rsr "missing CSR file" "$W/missing.csr"

# ---------------------------------------------------------------- bad CA, key, flags
cs() { rs "$1" "$C/good.csr" --profile="${4:-server}" --out="$W/refused.crt" --ca-cert="$2" --ca-key="$3"; }
new_ca "$C/other" "$C/other.key"
cs "CA key not matching --ca-cert" "$ROOT" "$C/other.key"
cs "CA key of the intermediate with the root as --ca-cert" "$ROOT" "$INTK"
cat "$ROOT" "$INT" >"$C/wrong-order.pem"
cs "--ca-cert with the root first and the intermediate's key" "$C/wrong-order.pem" "$INTK"
cs "intermediate profile under an intermediate with pathlen 0" "$INTCH" "$INTK" intermediate
err_has "pathlen refusal names the path length" 'path|pathlen|length|intermediate'
mkdir -p "$C/leafdir"; cp "$ROOT" "$C/leafdir/ca.crt"
new_node "$C/leafdir" "$RK" leaf.example.com
cs "--ca-cert is not a CA (node.crt + node.key)" "$C/leafdir/node.crt" "$C/leafdir/node.key"
cs "--ca-cert missing" "$C/nope.crt" "$RK"
head -c 700 /dev/urandom >"$C/garbage.crt"
cs "--ca-cert garbage" "$C/garbage.crt" "$RK"
cs "--ca-key missing" "$ROOT" "$C/nope.key"
head -c 300 /dev/urandom >"$C/garbage.key"; chmod 600 "$C/garbage.key"
cs "--ca-key garbage" "$ROOT" "$C/garbage.key"
for m in 644 640 604; do
    chmod "$m" "$RK"; cs "CA key with mode 0$m" "$ROOT" "$RK"
done
chmod 600 "$RK"
PKICTL_NOW=$(( $(date +%s) + 11*366*86400 )) cs "expired CA" "$ROOT" "$RK" client
PKICTL_NOW=$(( $(date +%s) - 86400 )) cs "not-yet-valid CA" "$ROOT" "$RK" client

gs() { rs "$1" "$C/good.csr" --ca-cert="$ROOT" --ca-key="$RK" "${@:2}"; }
for pr in ca Server root leaf; do gs "--profile=$pr" --profile="$pr" --out="$W/refused.crt"; done
for l in 10y 0h abc -5h 500ms; do gs "--lifetime=$l" --profile=server --lifetime="$l" --out="$W/refused.crt"; done
refuses "cert sign: empty --profile" any "$W" "$C" -- cert sign "$C/good.csr" --ca-cert="$ROOT" --ca-key="$RK" --profile= --out="$W/refused.crt"
cl() { refuses "cert sign: $1: exit 2" 2 "$W" "$C" -- cert sign "${@:2}"; }
cl "unknown flag" "$C/good.csr" --ca-cert="$ROOT" --ca-key="$RK" --profile=server --out="$W/refused.crt" --bogus
cl "no CSR argument" --ca-cert="$ROOT" --ca-key="$RK" --profile=server --out="$W/refused.crt"
cl "two CSR arguments" "$C/good.csr" "$C/good.csr" --ca-cert="$ROOT" --ca-key="$RK" --profile=server --out="$W/refused.crt"
cl "missing --profile" "$C/good.csr" --ca-cert="$ROOT" --ca-key="$RK" --out="$W/refused.crt"
cl "missing --ca-cert" "$C/good.csr" --ca-key="$RK" --profile=server --out="$W/refused.crt"
cl "missing --ca-key" "$C/good.csr" --ca-cert="$ROOT" --profile=server --out="$W/refused.crt"
cl "missing --out" "$C/good.csr" --ca-cert="$ROOT" --ca-key="$RK" --profile=server
cl "--out without a value" "$C/good.csr" --ca-cert="$ROOT" --ca-key="$RK" --profile=server --out

# ---------------------------------------------------------------- existing --out, --overwrite
pk_ok "setup: sign to ow.crt" cert sign "$C/good.csr" --ca-cert="$ROOT" --ca-key="$RK" --profile=server --out="$W/ow.crt"
gs "existing --out without --overwrite" --profile=client --out="$W/ow.crt"
err_has "message names the file" 'ow\.crt'
old=$(cserial "$W/ow.crt")
pk_ok "--overwrite replaces --out" cert sign "$C/good.csr" --ca-cert="$ROOT" --ca-key="$RK" --profile=client --out="$W/ow.crt" --overwrite
is_ne "--overwrite: new serial" "$(cserial "$W/ow.crt")" "$old"
is_eq "--overwrite: new profile" "$(cval "$W/ow.crt" extendedKeyUsage)" "$CLI"
mode_is "--overwrite: mode 0644" "$W/ow.crt" 644
pk_ok "--flag VALUE forms, flags before the CSR" cert sign --ca-cert "$ROOT" --ca-key "$RK" --profile node --out "$W/fv.crt" \
    --lifetime 720h "$C/good.csr"
verifies "--flag VALUE: verifies" "$ROOT" "$W/fv.crt"

# ---------------------------------------------------------------- two levels: openssl int1 (no pathlen) -> pkictl int2
mk_ocsr "level-1 CA CSR" "$C/l1.csr" ec:P-256 "/O=Example/CN=Level 1 CA"
if oca_sign "$C/l1.crt" "$C/l1.csr" "$ROOT" "$RK" 3000 "$OCA_EXT"; then ok "setup: openssl signs the level-1 CA (no pathlen)"
else not_ok "setup: openssl signs the level-1 CA (no pathlen)" "$(head -c 300 "$T_TMP/.ocsr.err")"; fi
cat "$C/l1.crt" "$ROOT" >"$C/l1-chain.pem"
mk_ocsr "level-2 CA CSR" "$C/l2.csr" ec:P-256 "/O=Example/CN=Level 2 CA"
pk_ok "intermediate profile under a CA without pathlen" cert sign "$C/l2.csr" --ca-cert="$C/l1-chain.pem" --ca-key="$C/l1.key" \
    --profile=intermediate --out="$C/l2.crt"
cert_count "level-2 output: level-2 + level-1 (no root)" "$C/l2.crt" 2
is_eq "level-2 output order" "$(subjects "$C/l2.crt")" "CN=Level 2 CA,O=Example|CN=Level 1 CA,O=Example"
verifies "level-2 verifies" "$ROOT" "$C/l2.crt"
cat "$C/l2.crt" "$ROOT" >"$C/l2-chain.pem"
pk_ok "leaf under the level-2 CA" cert sign "$C/good.csr" --ca-cert="$C/l2-chain.pem" --ca-key="$C/l2.key" --profile=server --out="$W/deep.crt"
cert_count "deep leaf output: leaf + level-2 + level-1" "$W/deep.crt" 3
is_eq "deep leaf output order" "$(subjects "$W/deep.crt" | cut -d'|' -f2-)" "CN=Level 2 CA,O=Example|CN=Level 1 CA,O=Example"
verifies "deep leaf verifies (openssl verify -untrusted)" "$ROOT" "$W/deep.crt"
pk_ok "--ca-cert with the intermediate alone (no root)" cert sign "$C/good.csr" --ca-cert="$INT" --ca-key="$INTK" --profile=server --out="$W/introot.crt"
cert_count "intermediate alone: leaf + intermediate" "$W/introot.crt" 2
verifies "intermediate alone: verifies" "$ROOT" "$W/introot.crt"
pk_ok "signed by the root: leaf only" cert sign "$C/good.csr" --ca-cert="$ROOT" --ca-key="$RK" --profile=server --out="$W/rootonly.crt"
cert_count "signed by the root: one certificate" "$W/rootonly.crt" 1

# ---------------------------------------------------------------- lifetimes (pinned clock)
P="$C/pinned"
PKICTL_NOW=$NOW0 new_ca "$P" "$C/pinned.key"
sl() { # what profile lifetime-args... expected-seconds
    local what=$1 p=$2 want=$(( ${!#} )); set -- "${@:3:$#-3}"
    PKICTL_NOW=$NOW0 pk_ok "$what" cert sign "$C/good.csr" --ca-cert="$P/ca.crt" --ca-key="$C/pinned.key" --profile="$p" \
        --out="$W/life.crt" --overwrite "$@"
    is_eq "$what: notAfter" "$(not_after "$W/life.crt" 2>/dev/null)" $((NOW0 + want))
    is_eq "$what: notBefore is now-1h" "$(not_before "$W/life.crt" 2>/dev/null)" $((NOW0 - 3600))
    lacks "$what: no note (nothing shortened)" "$(cat "$T_TMP/.out")" '^note:'
}
sl "server default lifetime 8760h" server 8760*3600
sl "client default lifetime 8760h" client 8760*3600
sl "node default lifetime 8760h" node 8760*3600
sl "intermediate default lifetime 43920h" intermediate 43920*3600
sl "--lifetime=720h" server --lifetime=720h 720*3600
sl "--lifetime=30d (intermediate)" intermediate --lifetime=30d 720*3600
sl "--lifetime=1h30m" client --lifetime=1h30m 5400
check "pinned leaf verifies at that time" openssl verify -attime $NOW0 -CAfile "$P/ca.crt" "$W/life.crt"

S="$C/short"
PKICTL_NOW=$NOW0 new_ca "$S" "$C/short.key" --lifetime=720h      # expires 2023-12-14T22:13:20Z
PKICTL_NOW=$NOW0 rs "explicit lifetime beyond the CA" "$C/good.csr" --ca-cert="$S/ca.crt" --ca-key="$C/short.key" --profile=server \
    --lifetime=8760h --out="$W/refused.crt"
err_has "message names the CA's expiry" '2023-12-14|Dec 14 .*2023'
PKICTL_NOW=$NOW0 rs "lifetime 1h beyond the CA" "$C/good.csr" --ca-cert="$S/ca.crt" --ca-key="$C/short.key" --profile=server \
    --lifetime=721h --out="$W/refused.crt"
err_has "message names the CA's expiry (721h)" '2023-12-14|Dec 14 .*2023'
PKICTL_NOW=$NOW0 rs "explicit intermediate lifetime beyond the CA" "$C/good.csr" --ca-cert="$S/ca.crt" --ca-key="$C/short.key" \
    --profile=intermediate --lifetime=43920h --out="$W/refused.crt"
# without --lifetime the default is shortened to end with the CA, and a note says so
for p in server client node intermediate; do
    PKICTL_NOW=$NOW0 pk_ok "default $p lifetime beyond the CA is shortened" cert sign "$C/good.csr" --ca-cert="$S/ca.crt" \
        --ca-key="$C/short.key" --profile=$p --out="$W/shortened-$p.crt"
    same "shortened $p: notAfter equals the CA's" "$(not_after "$W/shortened-$p.crt")" "$(not_after "$S/ca.crt")"
    has "shortened $p: the last stdout line is a note" "$(tail -n1 "$T_TMP/.out")" '^note: '
    is_eq "shortened $p: nothing on stderr" "$(cat "$T_TMP/.err")" ""
    check "shortened $p: verifies at that time" openssl verify -attime $NOW0 -CAfile "$S/ca.crt" "$W/shortened-$p.crt"
done
PKICTL_NOW=$NOW0 pk_ok "lifetime ending with the CA is accepted" cert sign "$C/good.csr" --ca-cert="$S/ca.crt" --ca-key="$C/short.key" \
    --profile=server --lifetime=720h --out="$W/short.crt"
same "notAfter equals the CA's" "$(not_after "$W/short.crt")" "$(not_after "$S/ca.crt")"

finish
