#!/bin/bash
# The pkictl benchmark job done with the openssl CLI: genpkey for each key, req -x509 for the
# CA, req -new | x509 -req for each leaf, extensions from conf/openssl-ext.cnf.
# 8 openssl processes in all (pkictl: 3).
. "${0%/*}/_common.sh"
case $KT in
  ecdsa) gen=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256) ;;
  rsa)   gen=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048) ;;
esac
X=$CONF/openssl-ext.cnf

$W openssl genpkey -quiet "${gen[@]}" -out "$D/ca.key"
$W openssl req -new -x509 -config "$X" -extensions ca -key "$D/ca.key" \
  -subj "/O=pkictl/CN=pkictl CA" -days 3660 -sha256 -out "$D/ca.crt"

$W openssl genpkey -quiet "${gen[@]}" -out "$D/node.key"
$W openssl req -new -config "$X" -key "$D/node.key" -subj "/O=pkictl/CN=node" |
  $W openssl x509 -req -CA "$D/ca.crt" -CAkey "$D/ca.key" -days 1830 -sha256 \
    -extfile "$X" -extensions "node_$KT" -out "$D/node.crt"

$W openssl genpkey -quiet "${gen[@]}" -out "$D/client.root.key"
$W openssl req -new -config "$X" -key "$D/client.root.key" -subj "/O=pkictl/CN=root" |
  $W openssl x509 -req -CA "$D/ca.crt" -CAkey "$D/ca.key" -days 1830 -sha256 \
    -extfile "$X" -extensions "client_$KT" -out "$D/client.root.crt"
