#!/bin/bash
# Interop: the OpenSSL CLI (verify, x509, pkey, pkcs8, s_server/s_client) accepts
# what pkictl writes, for every key type, and rejects what it must reject.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/interop_lib.sh"

need openssl timeout || { finish; exit 1; }

# tls_get PORT CAFILE CERT KEY HOST|IP: one HTTP request over mutual TLS to s_server -www,
# verifying the server's certificate chain and name (or IP).
tls_get() {
    local name=(-verify_hostname "$5")
    case $5 in *[!0-9.]*) ;; *) name=(-verify_ip "$5") ;; esac
    local auth=()
    [ -n "$3" ] && auth=(-cert "$3" -key "$4")
    printf 'GET / HTTP/1.0\r\n\r\n' |
        timeout 20 openssl s_client -connect "127.0.0.1:$1" -verify_return_error -CAfile "$2" \
            "${auth[@]}" "${name[@]}" -ign_eof
}


pubkey_of_key() { openssl pkey -in "$1" -pubout 2>/dev/null; }
pubkey_of_crt() { openssl x509 -in "$1" -pubkey -noout 2>/dev/null; }
fingerprint()   { openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null; }

HOSTS=(localhost 127.0.0.1 ::1 '*.svc.example.com')

for spec in "rsa 2048" "ecdsa 256" "ecdsa 384" "ed25519"; do
    set -- $spec
    kt=$1 ks=${2:-}
    tag=$kt${ks:+-$ks}
    kargs=(--key-type="$kt")
    [ -n "$ks" ] && kargs+=(--key-size "$ks")
    case $tag in
        rsa-2048)  sig=sha256WithRSAEncryption pub='Public-Key: \(2048 bit\)' ;;
        ecdsa-256) sig=ecdsa-with-SHA256 pub='NIST CURVE: P-256' ;;
        ecdsa-384) sig=ecdsa-with-SHA384 pub='NIST CURVE: P-384' ;;
        ed25519)   sig=ED25519 pub='ED25519 Public-Key' ;;
    esac

    W=$T_TMP/$tag
    D=$W/certs
    mkdir -p "$D" "$W/other"
    echo "# key type $tag"

    pk_ok "$tag: create-ca" cert create-ca --certs-dir="$D" --ca-key="$W/ca.key" "${kargs[@]}"
    pk_ok "$tag: create-node" cert create-node "${HOSTS[@]}" --certs-dir "$D" --ca-key "$W/ca.key" \
        "${kargs[@]}" --also-generate-pkcs8-key
    pk_ok "$tag: create-client root" cert create-client root --certs-dir="$D" --ca-key="$W/ca.key" \
        "${kargs[@]}" --also-generate-pkcs8-key

    # Chain verification and purposes.
    check "$tag: openssl verify node.crt" openssl verify -CAfile "$D/ca.crt" "$D/node.crt"
    check "$tag: openssl verify client.root.crt" openssl verify -CAfile "$D/ca.crt" "$D/client.root.crt"
    check "$tag: openssl verify -x509_strict node.crt (RFC 5280 checks)" \
        openssl verify -x509_strict -CAfile "$D/ca.crt" "$D/node.crt"
    check "$tag: openssl verify -x509_strict client.root.crt" \
        openssl verify -x509_strict -CAfile "$D/ca.crt" "$D/client.root.crt"
    check "$tag: node.crt passes -purpose sslserver" \
        openssl verify -purpose sslserver -CAfile "$D/ca.crt" "$D/node.crt"
    fails_with "$tag: client.root.crt fails -purpose sslserver (clientAuth only)" 'unsuitable certificate purpose|unsupported certificate purpose' \
        openssl verify -purpose sslserver -CAfile "$D/ca.crt" "$D/client.root.crt"
    check "$tag: node.crt passes -purpose sslclient" \
        openssl verify -purpose sslclient -CAfile "$D/ca.crt" "$D/node.crt"
    check "$tag: client.root.crt passes -purpose sslclient" \
        openssl verify -purpose sslclient -CAfile "$D/ca.crt" "$D/client.root.crt"

    # Names.
    ok_with "$tag: node.crt matches host localhost" 'does match' \
        openssl x509 -in "$D/node.crt" -noout -checkhost localhost
    ok_with "$tag: node.crt matches IP 127.0.0.1" 'does match' \
        openssl x509 -in "$D/node.crt" -noout -checkip 127.0.0.1
    ok_with "$tag: node.crt matches IP ::1" 'does match' \
        openssl x509 -in "$D/node.crt" -noout -checkip ::1
    ok_with "$tag: node.crt matches a.svc.example.com (wildcard)" 'does match' \
        openssl x509 -in "$D/node.crt" -noout -checkhost a.svc.example.com
    ok_with "$tag: node.crt does not match other.example.org" 'does NOT match' \
        openssl x509 -in "$D/node.crt" -noout -checkhost other.example.org
    ok_with "$tag: node.crt does not match a.b.svc.example.com (wildcard is one label)" 'does NOT match' \
        openssl x509 -in "$D/node.crt" -noout -checkhost a.b.svc.example.com
    ok_with "$tag: node.crt does not match IP 127.0.0.2" 'does NOT match' \
        openssl x509 -in "$D/node.crt" -noout -checkip 127.0.0.2

    # Algorithms as openssl reads them.
    ok_with "$tag: node.crt signature algorithm is $sig" "Signature Algorithm: $sig" \
        openssl x509 -in "$D/node.crt" -noout -text
    ok_with "$tag: node.crt key is $pub" "$pub" openssl x509 -in "$D/node.crt" -noout -text
    ok_with "$tag: ca.crt signature algorithm is $sig" "Signature Algorithm: $sig" \
        openssl x509 -in "$D/ca.crt" -noout -text

    # Keys match their certificates; the PKCS#8 DER files load.
    same "$tag: node.key public key equals node.crt's" "$(pubkey_of_key "$D/node.key")" "$(pubkey_of_crt "$D/node.crt")"
    same "$tag: client.root.key public key equals client.root.crt's" \
        "$(pubkey_of_key "$D/client.root.key")" "$(pubkey_of_crt "$D/client.root.crt")"
    check "$tag: node.key.pk8 loads with openssl pkey -inform DER" \
        openssl pkey -inform DER -in "$D/node.key.pk8" -noout
    check "$tag: node.key.pk8 is an unencrypted PKCS#8 PrivateKeyInfo" \
        openssl pkcs8 -inform DER -nocrypt -in "$D/node.key.pk8" -out "$W/pk8.pem"
    same "$tag: node.key.pk8 holds the node.crt key" \
        "$(openssl pkey -inform DER -in "$D/node.key.pk8" -pubout 2>/dev/null)" "$(pubkey_of_crt "$D/node.crt")"
    same "$tag: client.root.key.pk8 holds the client.root.crt key" \
        "$(openssl pkey -inform DER -in "$D/client.root.key.pk8" -pubout 2>/dev/null)" \
        "$(pubkey_of_crt "$D/client.root.crt")"

    # A different pkictl CA (same key type, same CA subject) must not verify these.
    pk_ok "$tag: create-ca (other CA)" cert create-ca --certs-dir="$W/other" --ca-key="$W/other.key" "${kargs[@]}"
    fails_with "$tag: node.crt fails against a different CA" 'unable to get local issuer|signature failure' \
        openssl verify -CAfile "$W/other/ca.crt" "$D/node.crt"
    fails_with "$tag: client.root.crt fails against a different CA" 'unable to get local issuer|signature failure' \
        openssl verify -CAfile "$W/other/ca.crt" "$D/client.root.crt"

    # TLS: s_server (node cert, client cert required) <-> s_client (client.root cert).
    if start_s_server "$D" "$W/s_server.log"; then
        ok "$tag: openssl s_server starts with node.crt/node.key"
        ok_with "$tag: mutual TLS handshake, verify_hostname localhost" 'HTTP/1.0 200 ok' \
            tls_get "$SRV_PORT" "$D/ca.crt" "$D/client.root.crt" "$D/client.root.key" localhost
        out_has "$tag: s_client: Verify return code: 0" 'Verify return code: 0 \(ok\)'
        out_has "$tag: s_server saw the client certificate CN=root" 'Subject:.*CN ?= ?root'
        ok_with "$tag: mutual TLS handshake, verify_ip 127.0.0.1" 'HTTP/1.0 200 ok' \
            tls_get "$SRV_PORT" "$D/ca.crt" "$D/client.root.crt" "$D/client.root.key" 127.0.0.1
        fails_with "$tag: s_client refuses the node cert for other.example.org" 'hostname mismatch' \
            tls_get "$SRV_PORT" "$D/ca.crt" "$D/client.root.crt" "$D/client.root.key" other.example.org
        fails_with "$tag: s_client refuses the node cert when trusting a different CA" 'Verify return code: [1-9]' \
            tls_get "$SRV_PORT" "$W/other/ca.crt" "$D/client.root.crt" "$D/client.root.key" localhost
        fails "$tag: s_server refuses a connection without a client certificate" \
            tls_get "$SRV_PORT" "$D/ca.crt" "" "" localhost
        if grep -q 'HTTP/1.0 200' "$T_TMP/.out"; then not_ok "$tag: no HTTP answer without a client certificate"
        else ok "$tag: no HTTP answer without a client certificate"; fi
        pk_ok "$tag: create-client root (other CA)" cert create-client root --certs-dir="$W/other" \
            --ca-key="$W/other.key" "${kargs[@]}"
        fails "$tag: s_server refuses a client certificate from a different CA" \
            tls_get "$SRV_PORT" "$D/ca.crt" "$W/other/client.root.crt" "$W/other/client.root.key" localhost
        if grep -q 'HTTP/1.0 200' "$T_TMP/.out"; then not_ok "$tag: no HTTP answer for a foreign client certificate"
        else ok "$tag: no HTTP answer for a foreign client certificate"; fi
        stop_s_server
    else
        not_ok "$tag: openssl s_server starts with node.crt/node.key" "$(head -c 400 "$W/s_server.log")"
    fi

    # CA rotation: create-ca --overwrite puts the new CA first and keeps the old one.
    cp "$D/ca.crt" "$W/old-ca.crt"
    cp "$D/node.crt" "$W/old-node.crt"
    pk_ok "$tag: create-ca --overwrite (rotation, new key)" cert create-ca --overwrite \
        --certs-dir="$D" --ca-key="$W/ca2.key" "${kargs[@]}"
    n=$(split_pem "$D/ca.crt" "$W/bundle")
    same "$tag: rotated ca.crt holds 2 certificates" "$n" 2
    same "$tag: rotated ca.crt: the old CA comes second" \
        "$(fingerprint "$W/bundle-2.pem")" "$(fingerprint "$W/old-ca.crt")"
    if [ "$(fingerprint "$W/bundle-1.pem")" != "$(fingerprint "$W/old-ca.crt")" ]; then
        ok "$tag: rotated ca.crt: a new CA comes first"
    else not_ok "$tag: rotated ca.crt: a new CA comes first"; fi
    same "$tag: the new CA certificate is for the new key" \
        "$(pubkey_of_key "$W/ca2.key")" "$(pubkey_of_crt "$W/bundle-1.pem")"
    check "$tag: old node.crt verifies against the rotated bundle" \
        openssl verify -CAfile "$D/ca.crt" "$W/old-node.crt"
    fails "$tag: old node.crt does not verify against the new CA alone" \
        openssl verify -CAfile "$W/bundle-1.pem" "$W/old-node.crt"
    pk_ok "$tag: create-node --overwrite with the new CA key" cert create-node "${HOSTS[@]}" --overwrite \
        --certs-dir="$D" --ca-key="$W/ca2.key" "${kargs[@]}"
    check "$tag: new node.crt verifies against the rotated bundle" \
        openssl verify -CAfile "$D/ca.crt" "$D/node.crt"
    check "$tag: new node.crt verifies against the new CA alone" \
        openssl verify -x509_strict -CAfile "$W/bundle-1.pem" "$D/node.crt"
    fails "$tag: new node.crt does not verify against the old CA" \
        openssl verify -CAfile "$W/old-ca.crt" "$D/node.crt"
    pk_ok "$tag: create-client with the OLD CA key after rotation" cert create-client alice \
        --certs-dir="$D" --ca-key="$W/ca.key" "${kargs[@]}"
    check "$tag: that client cert verifies against the rotated bundle" \
        openssl verify -purpose sslclient -CAfile "$D/ca.crt" "$D/client.alice.crt"
    check "$tag: that client cert was signed by the old CA" \
        openssl verify -CAfile "$W/old-ca.crt" "$D/client.alice.crt"
done

finish
