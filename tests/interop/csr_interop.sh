#!/bin/bash
# Interop for issue 3: CSRs made by `openssl req` and GnuTLS `certtool --generate-request` are
# signed by `pkictl cert sign` (under a pkictl intermediate) and verify with openssl and certtool;
# CSRs made by `pkictl csr create` are signed by `openssl x509 -req` and by `certtool
# --generate-certificate`, and those certificates verify too, with the requested SANs.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/interop_lib.sh"

need certtool openssl || { finish; exit 1; }
umask 022

VERIFIED='Chain verification output: Verified'
W=$T_TMP/w
mkdir -p "$W/root"

# gchain "what" FILE ROOT [certtool options]: certtool --verify-chain of FILE + ROOT
gchain() {
    local what=$1 f=$2 root=$3; shift 3
    cat "$f" "$root" >"$T_TMP/gchain.pem"
    ok_with "$what" "$VERIFIED" certtool --verify-chain --verify-profile medium --infile "$T_TMP/gchain.pem" "$@"
}
# overify "what" FILE ROOT [openssl verify options]: first certificate of FILE, rest untrusted
overify() {
    local what=$1 f=$2 root=$3; shift 3
    ok_with "$what" ': OK$' openssl verify "$@" -CAfile "$root" -untrusted "$f" "$f"
}
sans_of() { openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null | tail -n +2 | tr ',' '\n' | sed 's/^ *//; /^$/d' | sort | paste -sd'|' -; }
ncerts() { grep -c -- '-----BEGIN CERTIFICATE-----' "$1"; }

# ---------------------------------------------------------------- pkictl root and intermediate
pk_ok "pkictl create-ca (root)" cert create-ca --certs-dir="$W/root" --ca-key="$W/root.key" --key-type=ecdsa
ROOT=$W/root/ca.crt
pk_ok "pkictl csr create (intermediate)" csr create --new-key --key-type=ecdsa --subject="/O=Interop/CN=Interop Intermediate" \
    --out="$W/int.csr"
pk_ok "pkictl cert sign --profile=intermediate" cert sign "$W/int.csr" --ca-cert="$ROOT" --ca-key="$W/root.key" \
    --profile=intermediate --out="$W/int.crt"
cat "$W/int.crt" "$ROOT" >"$W/int-chain.pem"
ok_with "certtool -i: the intermediate is a CA with path length 0" 'Path Length Constraint: 0' certtool -i --infile "$W/int.crt"
out_has "certtool -i: intermediate CA TRUE" 'Certificate Authority \(CA\): TRUE'
gchain "certtool --verify-chain: intermediate + root" "$W/int.crt" "$ROOT"

# ---------------------------------------------------------------- foreign CSRs -> pkictl cert sign
for tool in openssl gnutls; do
    for alg in rsa ecdsa; do
        tag=$tool-$alg; name=$tag.example.com; csr=$W/$tag.csr
        echo "# $tool CSR, $alg"
        if [ "$tool" == openssl ]; then
            ka=(-newkey rsa:2048); [ "$alg" == ecdsa ] && ka=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
            check "$tag: openssl req -new" openssl req -new "${ka[@]}" -nodes -keyout "$W/$tag.key" \
                -subj "/O=Interop/CN=$name" -addext "subjectAltName=DNS:$name,IP:127.0.0.1" -out "$csr"
        else
            kopt=(--key-type=rsa --bits=2048); [ "$alg" == ecdsa ] && kopt=(--key-type=ecdsa --curve=secp256r1)
            check "$tag: certtool --generate-privkey" certtool --generate-privkey "${kopt[@]}" --outfile "$W/$tag.key"
            printf 'organization = "Interop"\ncn = "%s"\ndns_name = "%s"\nip_address = "127.0.0.1"\ntls_www_server\n' \
                "$name" "$name" >"$W/$tag.tmpl"
            check "$tag: certtool --generate-request" certtool --generate-request --load-privkey "$W/$tag.key" \
                --template "$W/$tag.tmpl" --outfile "$csr"
        fi
        ok_with "$tag: the CSR's self-signature verifies (openssl)" 'verify OK' openssl req -in "$csr" -noout -verify

        for p in server node client; do
            out=$W/$tag-$p.crt
            pk_ok "$tag: pkictl cert sign --profile=$p" cert sign "$csr" --ca-cert="$W/int-chain.pem" --ca-key="$W/int.key" \
                --profile=$p --out="$out"
            same "$tag/$p: output is leaf + intermediate" "$(ncerts "$out")" 2
            same "$tag/$p: SANs kept" "$(sans_of "$out")" "DNS:$name|IP Address:127.0.0.1"
            overify "$tag/$p: openssl verify -untrusted" "$out" "$ROOT"
            gchain "$tag/$p: certtool --verify-chain" "$out" "$ROOT"
            case $p in
                server|node)
                    overify "$tag/$p: openssl verify -purpose sslserver -verify_hostname" "$out" "$ROOT" \
                        -purpose sslserver -verify_hostname "$name"
                    gchain "$tag/$p: certtool --verify-chain --verify-hostname" "$out" "$ROOT" --verify-hostname "$name"
                    gchain "$tag/$p: certtool --verify-chain --verify-purpose serverAuth" "$out" "$ROOT" \
                        --verify-purpose 1.3.6.1.5.5.7.3.1 ;;
            esac
            case $p in
                client|node)
                    overify "$tag/$p: openssl verify -purpose sslclient" "$out" "$ROOT" -purpose sslclient
                    gchain "$tag/$p: certtool --verify-chain --verify-purpose clientAuth" "$out" "$ROOT" \
                        --verify-purpose 1.3.6.1.5.5.7.3.2 ;;
            esac
            nth=$(awk '/BEGIN CERT/{n++} n==1' "$out")
            printf '%s\n' "$nth" >"$T_TMP/leaf.pem"
            ok_with "$tag/$p: certtool -i: not a CA" 'Certificate Authority \(CA\): FALSE' certtool -i --infile "$T_TMP/leaf.pem"
            out_has "$tag/$p: certtool -i: DNSname" "DNSname: $name\$"
            out_has "$tag/$p: certtool -i: IPAddress" 'IPAddress: 127\.0\.0\.1$'
        done
        # the server profile ignores what the CSR asked for beyond SANs; client drops serverAuth
        ok_with "$tag/client: no TLS WWW Server purpose" 'TLS WWW Client' certtool -i --infile "$W/$tag-client.crt"
        if grep -q 'TLS WWW Server' "$T_TMP/.out"; then not_ok "$tag/client: certtool -i shows no TLS WWW Server"
        else ok "$tag/client: certtool -i shows no TLS WWW Server"; fi
    done
done

# DER requests from both tools
openssl req -in "$W/openssl-ecdsa.csr" -outform DER -out "$W/openssl-ecdsa.der" 2>/dev/null
certtool --generate-request --load-privkey "$W/gnutls-rsa.key" --template "$W/gnutls-rsa.tmpl" --outder \
    --outfile "$W/gnutls-rsa.der" >/dev/null 2>&1
for d in openssl-ecdsa gnutls-rsa; do
    pk_ok "$d: pkictl signs the DER request" cert sign "$W/$d.der" --ca-cert="$W/int-chain.pem" --ca-key="$W/int.key" \
        --profile=server --out="$W/$d-der.crt"
    overify "$d (DER): openssl verify" "$W/$d-der.crt" "$ROOT"
    gchain "$d (DER): certtool --verify-chain" "$W/$d-der.crt" "$ROOT"
done

# ---------------------------------------------------------------- pkictl CSRs -> openssl and certtool
printf 'expiration_days = 30\nhonor_crq_extensions\n' >"$W/sign.tmpl"
for kt in rsa ecdsa ed25519; do
    tag=pk-$kt; name=$tag.example.com; csr=$W/$tag.csr
    echo "# pkictl CSR, $kt"
    pk_ok "$tag: pkictl csr create" csr create --new-key --key-type=$kt --subject="/O=Interop/CN=$name" \
        --san="dns:$name,ip:127.0.0.1,uri:spiffe://interop.example/ns/a/sa/b,email:ops@example.com" --usage=both --out="$csr"
    WANT="DNS:$name|IP Address:127.0.0.1|URI:spiffe://interop.example/ns/a/sa/b|email:ops@example.com"
    ok_with "$tag: openssl req -verify" 'verify OK' openssl req -in "$csr" -noout -verify
    ok_with "$tag: certtool --crq-info parses it" "DNSname: $name" certtool --crq-info --infile "$csr"
    out_has "$tag: certtool --crq-info: IP SAN" 'IPAddress: 127\.0\.0\.1'
    out_has "$tag: certtool --crq-info: URI SAN" 'URI: spiffe://interop\.example/ns/a/sa/b'
    out_has "$tag: certtool --crq-info: email SAN" 'RFC822Name: ops@example\.com'
    out_has "$tag: certtool --crq-info: subject" "Subject: CN=$name,O=Interop"

    # openssl x509 -req -copy_extensions copy, by the root and by the intermediate
    check "$tag: openssl x509 -req (root)" openssl x509 -req -in "$csr" -CA "$ROOT" -CAkey "$W/root.key" \
        -copy_extensions copy -days 30 -set_serial "0x$(openssl rand -hex 12)" -out "$W/$tag-ossl.crt"
    same "$tag: openssl-signed: SANs present" "$(sans_of "$W/$tag-ossl.crt")" "$WANT"
    overify "$tag: openssl-signed: openssl verify" "$W/$tag-ossl.crt" "$ROOT"
    overify "$tag: openssl-signed: openssl verify -purpose sslserver -verify_hostname" "$W/$tag-ossl.crt" "$ROOT" \
        -purpose sslserver -verify_hostname "$name"
    overify "$tag: openssl-signed: openssl verify -purpose sslclient" "$W/$tag-ossl.crt" "$ROOT" -purpose sslclient
    gchain "$tag: openssl-signed: certtool --verify-chain" "$W/$tag-ossl.crt" "$ROOT"
    gchain "$tag: openssl-signed: certtool --verify-hostname" "$W/$tag-ossl.crt" "$ROOT" --verify-hostname "$name"
    check "$tag: openssl x509 -req (intermediate)" openssl x509 -req -in "$csr" -CA "$W/int.crt" -CAkey "$W/int.key" \
        -copy_extensions copy -days 30 -set_serial "0x$(openssl rand -hex 12)" -out "$W/$tag-ossl-int.crt"
    cat "$W/$tag-ossl-int.crt" "$W/int.crt" >"$W/$tag-ossl-int-chain.pem"
    overify "$tag: openssl-signed under the intermediate: openssl verify" "$W/$tag-ossl-int-chain.pem" "$ROOT"
    gchain "$tag: openssl-signed under the intermediate: certtool --verify-chain" "$W/$tag-ossl-int-chain.pem" "$ROOT"

    # certtool --generate-certificate --load-request, honouring the request's extensions
    check "$tag: certtool --generate-certificate --load-request" certtool --generate-certificate \
        --load-request "$csr" --load-ca-certificate "$ROOT" --load-ca-privkey "$W/root.key" \
        --template "$W/sign.tmpl" --outfile "$W/$tag-gnutls.crt"
    same "$tag: certtool-signed: SANs present" "$(sans_of "$W/$tag-gnutls.crt")" "$WANT"
    same "$tag: certtool-signed: subject from the request" \
        "$(openssl x509 -in "$W/$tag-gnutls.crt" -noout -subject -nameopt RFC2253 2>/dev/null)" "subject=CN=$name,O=Interop"
    overify "$tag: certtool-signed: openssl verify" "$W/$tag-gnutls.crt" "$ROOT"
    overify "$tag: certtool-signed: openssl verify -verify_hostname" "$W/$tag-gnutls.crt" "$ROOT" -verify_hostname "$name"
    gchain "$tag: certtool-signed: certtool --verify-chain" "$W/$tag-gnutls.crt" "$ROOT"
    gchain "$tag: certtool-signed: certtool --verify-hostname" "$W/$tag-gnutls.crt" "$ROOT" --verify-hostname "$name"
    check "$tag: certtool-signed under the intermediate" certtool --generate-certificate \
        --load-request "$csr" --load-ca-certificate "$W/int.crt" --load-ca-privkey "$W/int.key" \
        --template "$W/sign.tmpl" --outfile "$W/$tag-gnutls-int.crt"
    cat "$W/$tag-gnutls-int.crt" "$W/int.crt" >"$W/$tag-gnutls-int-chain.pem"
    overify "$tag: certtool-signed under the intermediate: openssl verify" "$W/$tag-gnutls-int-chain.pem" "$ROOT"
    gchain "$tag: certtool-signed under the intermediate: certtool --verify-chain" "$W/$tag-gnutls-int-chain.pem" "$ROOT"
done

finish
