#!/bin/bash
# Interop: GnuTLS (certtool, gnutls-cli) parses and verifies what pkictl writes, for
# every key type: chains, names, purposes, keys, CA rotation, and a mutual-TLS
# handshake from gnutls-cli to an openssl s_server using pkictl's node cert.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/interop_lib.sh"

need certtool gnutls-cli openssl timeout || { finish; exit 1; }

VERIFIED='Chain verification output: Verified'
SERVER_AUTH=1.3.6.1.5.5.7.3.1
CLIENT_AUTH=1.3.6.1.5.5.7.3.2

# gverify CAFILE CRT [certtool options...]: certtool --verify of CRT against CAFILE.
gverify() {
    local ca=$1 crt=$2; shift 2
    certtool --verify --verify-profile medium --load-ca-certificate "$ca" --infile "$crt" "$@"
}
pem_pub() { sed -n '/BEGIN PUBLIC KEY/,/END PUBLIC KEY/p'; }

# gcli PORT CAFILE CERT KEY HOST: one HTTP request with gnutls-cli (verifies HOST; an IP
# literal is checked against the IP SANs).
gcli() {
    local auth=()
    [ -n "$3" ] && auth=(--x509certfile "$3" --x509keyfile "$4")
    printf 'GET / HTTP/1.0\r\n\r\n' |
        timeout 20 gnutls-cli -p "$1" --x509cafile "$2" "${auth[@]}" "$5"
}

HOSTS=(localhost 127.0.0.1 ::1 '*.svc.example.com')

for spec in "rsa 2048" "ecdsa 256" "ecdsa 384" "ed25519"; do
    set -- $spec
    kt=$1 ks=${2:-}
    tag=$kt${ks:+-$ks}
    kargs=(--key-type="$kt")
    [ -n "$ks" ] && kargs+=(--key-size="$ks")
    case $tag in
        rsa-2048)  alg='RSA' sig='RSA-SHA256' ;;
        ecdsa-256) alg='EC/ECDSA' sig='ECDSA-SHA256' ;;
        ecdsa-384) alg='EC/ECDSA' sig='ECDSA-SHA384' ;;
        ed25519)   alg='EdDSA \(Ed25519\)' sig='EdDSA-Ed25519' ;;
    esac

    W=$T_TMP/$tag
    D=$W/certs
    mkdir -p "$D" "$W/other"
    echo "# key type $tag"

    pk_ok "$tag: create-ca" cert create-ca --certs-dir="$D" --ca-key="$W/ca.key" "${kargs[@]}"
    pk_ok "$tag: create-node" cert create-node "${HOSTS[@]}" --certs-dir="$D" --ca-key="$W/ca.key" \
        "${kargs[@]}" --also-generate-pkcs8-key
    pk_ok "$tag: create-client root" cert create-client root --certs-dir="$D" --ca-key="$W/ca.key" "${kargs[@]}"
    pk_ok "$tag: create-ca (other CA)" cert create-ca --certs-dir="$W/other" --ca-key="$W/other.key" "${kargs[@]}"

    # certtool --verify against the CA, --verify-chain with the CA appended.
    ok_with "$tag: certtool --verify node.crt" "$VERIFIED" gverify "$D/ca.crt" "$D/node.crt"
    ok_with "$tag: certtool --verify client.root.crt" "$VERIFIED" gverify "$D/ca.crt" "$D/client.root.crt"
    cat "$D/node.crt" "$D/ca.crt" >"$W/node-chain.pem"
    ok_with "$tag: certtool --verify-chain node.crt+ca.crt" "$VERIFIED" \
        certtool --verify-chain --verify-profile medium --infile "$W/node-chain.pem"
    cat "$D/client.root.crt" "$D/ca.crt" >"$W/client-chain.pem"
    ok_with "$tag: certtool --verify-chain client.root.crt+ca.crt" "$VERIFIED" \
        certtool --verify-chain --verify-profile medium --infile "$W/client-chain.pem"
    fails_with "$tag: node.crt is not verified against a different CA" 'NOT trusted' \
        gverify "$W/other/ca.crt" "$D/node.crt"
    fails_with "$tag: client.root.crt is not verified against a different CA" 'NOT trusted' \
        gverify "$W/other/ca.crt" "$D/client.root.crt"
    cat "$D/node.crt" "$W/other/ca.crt" >"$W/bad-chain.pem"
    fails_with "$tag: certtool --verify-chain node.crt + a different CA fails" 'NOT trusted' \
        certtool --verify-chain --verify-profile medium --infile "$W/bad-chain.pem"

    # Names and purposes, as GnuTLS checks them.
    for h in localhost 127.0.0.1 ::1 a.svc.example.com; do
        ok_with "$tag: certtool: node.crt valid for $h" "$VERIFIED" \
            gverify "$D/ca.crt" "$D/node.crt" --verify-hostname "$h"
    done
    for h in other.example.org a.b.svc.example.com 127.0.0.2; do
        fails_with "$tag: certtool: node.crt not valid for $h" 'does not match' \
            gverify "$D/ca.crt" "$D/node.crt" --verify-hostname "$h"
    done
    ok_with "$tag: certtool: node.crt valid for serverAuth" "$VERIFIED" \
        gverify "$D/ca.crt" "$D/node.crt" --verify-purpose "$SERVER_AUTH"
    ok_with "$tag: certtool: node.crt valid for clientAuth" "$VERIFIED" \
        gverify "$D/ca.crt" "$D/node.crt" --verify-purpose "$CLIENT_AUTH"
    ok_with "$tag: certtool: client.root.crt valid for clientAuth" "$VERIFIED" \
        gverify "$D/ca.crt" "$D/client.root.crt" --verify-purpose "$CLIENT_AUTH"
    fails_with "$tag: certtool: client.root.crt not valid for serverAuth" 'purpose' \
        gverify "$D/ca.crt" "$D/client.root.crt" --verify-purpose "$SERVER_AUTH"

    # certtool -i parses every certificate.
    ok_with "$tag: certtool -i ca.crt: a CA, O=pkictl CN=pkictl CA" 'Certificate Authority \(CA\): TRUE' \
        certtool -i --infile "$D/ca.crt"
    out_has "$tag: certtool -i ca.crt: subject" 'Subject: CN=pkictl CA,O=pkictl'
    out_has "$tag: certtool -i ca.crt: key $alg" "Subject Public Key Algorithm: $alg"
    out_has "$tag: certtool -i ca.crt: signature $sig" "Signature Algorithm: $sig"
    ok_with "$tag: certtool -i node.crt parses" 'Subject: CN=node,O=pkictl' certtool -i --infile "$D/node.crt"
    out_has "$tag: certtool -i node.crt: version 3" 'Version: 3'
    out_has "$tag: certtool -i node.crt: DNSname localhost" 'DNSname: localhost$'
    out_has "$tag: certtool -i node.crt: IPAddress 127.0.0.1" 'IPAddress: 127\.0\.0\.1$'
    out_has "$tag: certtool -i node.crt: IPAddress ::1" 'IPAddress: ::1$'
    out_has "$tag: certtool -i node.crt: DNSname *.svc.example.com" 'DNSname: \*\.svc\.example\.com$'
    out_has "$tag: certtool -i node.crt: not a CA" 'Certificate Authority \(CA\): FALSE'
    out_has "$tag: certtool -i node.crt: TLS WWW Server" 'TLS WWW Server'
    out_has "$tag: certtool -i node.crt: TLS WWW Client" 'TLS WWW Client'
    out_has "$tag: certtool -i node.crt: key $alg" "Subject Public Key Algorithm: $alg"
    out_has "$tag: certtool -i node.crt: signature $sig" "Signature Algorithm: $sig"
    ok_with "$tag: certtool -i client.root.crt parses" 'Subject: CN=root,O=pkictl' \
        certtool -i --infile "$D/client.root.crt"
    out_has "$tag: certtool -i client.root.crt: TLS WWW Client" 'TLS WWW Client'
    if grep -q 'TLS WWW Server' "$T_TMP/.out"; then not_ok "$tag: certtool -i client.root.crt: no TLS WWW Server"
    else ok "$tag: certtool -i client.root.crt: no TLS WWW Server"; fi
    if grep -Eq 'DNSname|IPAddress' "$T_TMP/.out"; then not_ok "$tag: certtool -i client.root.crt: no SANs"
    else ok "$tag: certtool -i client.root.crt: no SANs"; fi

    # certtool -k parses the keys, and they belong to their certificates.
    ok_with "$tag: certtool -k node.key parses" "Public Key Algorithm: $alg" certtool -k --infile "$D/node.key"
    ok_with "$tag: certtool -k client.root.key parses" "Public Key Algorithm: $alg" \
        certtool -k --infile "$D/client.root.key"
    ok_with "$tag: certtool -k CA key parses" "Public Key Algorithm: $alg" certtool -k --infile "$W/ca.key"
    ok_with "$tag: certtool -k --inder node.key.pk8 parses" "Public Key Algorithm: $alg" \
        certtool -k --inder --infile "$D/node.key.pk8"
    same "$tag: certtool: node.key is node.crt's key" \
        "$(certtool --pubkey-info --load-privkey "$D/node.key" 2>/dev/null | pem_pub)" \
        "$(certtool --pubkey-info --load-certificate "$D/node.crt" 2>/dev/null | pem_pub)"
    same "$tag: certtool: client.root.key is client.root.crt's key" \
        "$(certtool --pubkey-info --load-privkey "$D/client.root.key" 2>/dev/null | pem_pub)" \
        "$(certtool --pubkey-info --load-certificate "$D/client.root.crt" 2>/dev/null | pem_pub)"

    # gnutls-cli (client cert client.root) -> openssl s_server (node cert, client cert required).
    if start_s_server "$D" "$W/s_server.log"; then
        ok_with "$tag: gnutls-cli mutual TLS to localhost" 'HTTP/1.0 200 ok' \
            gcli "$SRV_PORT" "$D/ca.crt" "$D/client.root.crt" "$D/client.root.key" localhost
        out_has "$tag: gnutls-cli: server certificate trusted" 'Status: The certificate is trusted'
        out_has "$tag: s_server saw the client certificate CN=root" 'Subject:.*CN ?= ?root'
        ok_with "$tag: gnutls-cli mutual TLS to 127.0.0.1 (IP SAN)" 'HTTP/1.0 200 ok' \
            gcli "$SRV_PORT" "$D/ca.crt" "$D/client.root.crt" "$D/client.root.key" 127.0.0.1
        fails_with "$tag: gnutls-cli refuses the server when trusting a different CA" 'NOT trusted' \
            gcli "$SRV_PORT" "$W/other/ca.crt" "$D/client.root.crt" "$D/client.root.key" localhost
        pk_ok "$tag: create-client root (other CA)" cert create-client root --certs-dir="$W/other" \
            --ca-key="$W/other.key" "${kargs[@]}"
        fails "$tag: s_server refuses gnutls-cli's client cert from a different CA" \
            gcli "$SRV_PORT" "$D/ca.crt" "$W/other/client.root.crt" "$W/other/client.root.key" localhost
        if grep -q 'HTTP/1.0 200' "$T_TMP/.out"; then not_ok "$tag: no HTTP answer for a foreign client cert"
        else ok "$tag: no HTTP answer for a foreign client cert"; fi
        kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null
    else
        not_ok "$tag: openssl s_server starts with node.crt/node.key" "$(head -c 400 "$W/s_server.log")"
    fi

    # CA rotation: both CAs in ca.crt (same subject); GnuTLS must pick the right one.
    cp "$D/node.crt" "$W/old-node.crt"
    pk_ok "$tag: create-ca --overwrite (rotation)" cert create-ca --overwrite --certs-dir="$D" \
        --ca-key="$W/ca2.key" "${kargs[@]}"
    ok_with "$tag: certtool: old node.crt verifies against the rotated ca.crt" "$VERIFIED" \
        gverify "$D/ca.crt" "$W/old-node.crt"
    pk_ok "$tag: create-node --overwrite with the new CA" cert create-node "${HOSTS[@]}" --overwrite \
        --certs-dir="$D" --ca-key="$W/ca2.key" "${kargs[@]}"
    ok_with "$tag: certtool: new node.crt verifies against the rotated ca.crt" "$VERIFIED" \
        gverify "$D/ca.crt" "$D/node.crt"
    fails_with "$tag: certtool: new node.crt is not verified by the other CA" 'NOT trusted' \
        gverify "$W/other/ca.crt" "$D/node.crt"
done

finish
