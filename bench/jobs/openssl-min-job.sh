#!/bin/bash
# Reference variant of openssl-job.sh with as few processes as the openssl CLI allows (3, like
# pkictl): `req -x509 -newkey` for the CA, `req -x509 -newkey -CA -CAkey` (OpenSSL 3.0+) for each
# leaf. Not in the main comparison (run.sh times it next to pkictl in a separate invocation) --
# it shows how much of the openssl job's time is process count and `x509 -req`.
. "${0%/*}/_common.sh"
case $KT in
  ecdsa) nk=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
  rsa)   nk=(-newkey rsa -pkeyopt rsa_keygen_bits:2048) ;;
esac
X=$CONF/openssl-ext.cnf

$W openssl req -x509 "${nk[@]}" -noenc -keyout "$D/ca.key" -config "$X" -extensions ca \
  -subj "/O=pkictl/CN=pkictl CA" -days 3660 -sha256 -out "$D/ca.crt"
$W openssl req -x509 "${nk[@]}" -noenc -keyout "$D/node.key" -CA "$D/ca.crt" -CAkey "$D/ca.key" \
  -config "$X" -extensions "node_$KT" -subj "/O=pkictl/CN=node" -days 1830 -sha256 -out "$D/node.crt"
$W openssl req -x509 "${nk[@]}" -noenc -keyout "$D/client.root.key" -CA "$D/ca.crt" -CAkey "$D/ca.key" \
  -config "$X" -extensions "client_$KT" -subj "/O=pkictl/CN=root" -days 1830 -sha256 -out "$D/client.root.crt"
